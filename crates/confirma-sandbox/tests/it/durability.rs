//! Every acknowledged write survives a restart (and a kill -9); refused input changes nothing;
//! the same seed and requests give the same bytes.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::{BUSINESS_IDS, TestSandbox, api_error, invoice};

async fn snapshot(sb: &TestSandbox, token: &str) -> String {
    let c = sb.client(token);
    let all = c
        .get_distribution_information()
        .from_inv_date("2020-01-01".parse::<chrono::NaiveDate>().unwrap())
        .send()
        .await
        .unwrap()
        .into_inner();
    serde_json::to_string(&all).unwrap()
}

#[tokio::test]
async fn a_restart_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sandbox.db");
    let sb = TestSandbox::start(Some(db.clone())).await;
    let (_, token) = sb.onboard(BUSINESS_IDS[2], "Durable Oy").await;
    for n in 1..=20 {
        sb.client(&token)
            .create_invoice()
            .body(invoice(400000 + n))
            .send()
            .await
            .unwrap();
    }
    sb.advance_days(1).await;
    let renewed = sb
        .client(&token)
        .renew_token()
        .send()
        .await
        .unwrap()
        .into_inner()
        .access_token
        .unwrap();
    let before = snapshot(&sb, &renewed).await;
    let demo = sb.demo_token();
    sb.stop().await;

    let sb = TestSandbox::start(Some(db)).await;
    assert_eq!(snapshot(&sb, &renewed).await, before);
    assert_eq!(sb.demo_token(), demo, "replay rebuilds the same secrets");
    let (status, _) = api_error(sb.client(&token).validate_token().send().await);
    assert_eq!(status, 401, "the renewed-away token stays dead");
}

#[tokio::test]
async fn refused_requests_leave_the_data_unchanged() {
    let sb = TestSandbox::start(None).await;
    let token = sb.demo_token();
    let c = sb.client(&token);
    let before = snapshot(&sb, &token).await;
    let mut bad = invoice(202600145);
    let _ = c
        .create_invoice()
        .body(bad.clone())
        .send()
        .await
        .unwrap_err();
    bad.invoice.header.number = 500;
    bad.invoice.amounts.total_net_amount = rust_decimal::Decimal::ONE;
    let _ = c.create_invoice().body(bad).send().await.unwrap_err();
    let raw = reqwest::Client::new();
    for body in ["{", "[]", "{\"processing\": 1}"] {
        let resp = raw
            .post(format!("{}/api/v1/partner/invoice", sb.base))
            .header("x-api-key", &token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
    }
    let (status, _) = sb
        .control(
            "/sandbox/clock/advance",
            serde_json::json!({"to": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, 402, "the clock does not go back");
    assert_eq!(snapshot(&sb, &token).await, before);
}

#[tokio::test]
async fn the_same_seed_and_requests_give_the_same_bytes() {
    let mut outputs = Vec::new();
    for _ in 0..2 {
        let sb = TestSandbox::start(None).await;
        let (_, token) = sb.onboard(BUSINESS_IDS[3], "Same Oy").await;
        sb.client(&token)
            .create_invoice()
            .body(invoice(1))
            .send()
            .await
            .unwrap();
        sb.advance_days(3).await;
        outputs.push((token.clone(), snapshot(&sb, &token).await));
    }
    assert_eq!(outputs[0], outputs[1]);
}

/// Loads the real binary with concurrent invoice creations, kills it with SIGKILL mid-load,
/// restarts it on the same database and finds every invoice that was acknowledged.
#[tokio::test]
async fn kill_dash_nine_mid_load_loses_no_acknowledged_invoice() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kill.db");
    let spawn = || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_confirma-sandbox"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--db",
                db.to_str().unwrap(),
                "--seed",
                "7",
            ])
            .args([
                "--provisioning-token",
                crate::PROVISIONING,
                "--admin-token",
                crate::ADMIN,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut base = String::new();
        let mut token = String::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("Confirma Partner API sandbox listening on ") {
                base = rest.trim().to_string();
            }
            if line.contains("demo client") {
                token = line.rsplit(' ').next().unwrap().to_string();
                break;
            }
        }
        (child, base, token)
    };
    let (mut child, base, token) = spawn();
    let client = confirma_client::Client::new(
        &base,
        confirma_client::ClientState::new(confirma_client::ApiKey::new(&token)),
    );
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for worker in 0..16i64 {
        let (client, acknowledged) = (client.clone(), acknowledged.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..200i64 {
                let number = 700_000 + worker * 1000 + i;
                match client.create_invoice().body(invoice(number)).send().await {
                    Ok(_) => acknowledged.lock().unwrap().push(number),
                    Err(_) => return,
                }
            }
        }));
    }
    // Let the load run, then kill without warning.
    while acknowledged.lock().unwrap().len() < 300 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 300);

    let (mut child, base, token) = spawn();
    let client = confirma_client::Client::new(
        &base,
        confirma_client::ClientState::new(confirma_client::ApiKey::new(&token)),
    );
    let mut stored = std::collections::BTreeSet::new();
    let mut page = 1u32;
    loop {
        let got = client
            .get_distribution_information_v2()
            .from_inv_date("2026-03-02".parse::<chrono::NaiveDate>().unwrap())
            .page(std::num::NonZeroU32::new(page).unwrap())
            .page_size(std::num::NonZeroU32::new(500).unwrap())
            .send()
            .await
            .unwrap()
            .into_inner();
        stored.extend(got.data.iter().map(|d| d.invoice_number));
        if got.data.is_empty() {
            break;
        }
        page += 1;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let lost: Vec<i64> = acknowledged
        .iter()
        .filter(|n| !stored.contains(n))
        .copied()
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged invoices were lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
}
