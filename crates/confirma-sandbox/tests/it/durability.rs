//! Every acknowledged write survives a restart (and a kill -9); refused input changes nothing;
//! the same seed and requests give the same bytes.

use confirma_sandbox::{Config, Location, Sandbox};

use crate::{BUSINESS_IDS, TestSandbox, api_error, invoice};

async fn snapshot(sb: &TestSandbox, token: &str) -> String {
    serde_json::to_string(&sb.all_distributions(token).await).unwrap()
}

#[tokio::test]
async fn a_restart_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    restart_keeps_every_acknowledged_write(Location::File(dir.path().join("sandbox.db"))).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (CONFIRMA_SANDBOX_TEST_DATABASE_URL): CI's PostgreSQL run includes it"]
async fn a_restart_on_postgres_keeps_every_acknowledged_write() {
    restart_keeps_every_acknowledged_write(crate::postgres_storage().await).await;
}

async fn restart_keeps_every_acknowledged_write(storage: Location) {
    let sb = TestSandbox::on(storage.clone()).await;
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
    let renewed = crate::renewed(&sb.client(&token)).await;
    let before = snapshot(&sb, &renewed).await;
    let demo = sb.demo_token().await;
    sb.stop().await;

    let sb = TestSandbox::on(storage).await;
    assert_eq!(snapshot(&sb, &renewed).await, before);
    assert_eq!(
        sb.demo_token().await,
        demo,
        "the database keeps the current secrets"
    );
    let (status, _) = api_error(sb.client(&token).validate_token().send().await);
    assert_eq!(status, 401, "the renewed-away token stays dead");
}

#[tokio::test]
async fn refused_requests_leave_the_data_unchanged() {
    let sb = TestSandbox::start(None).await;
    let token = sb.demo_token().await;
    let c = sb.client(&token);
    let before = snapshot(&sb, &token).await;
    let mut bad = invoice(202600101);
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

/// Every invoice number the client has, with repeats (one per distribution record).
pub(crate) async fn stored_numbers(client: &confirma_client::Client) -> Vec<i64> {
    let mut stored = Vec::new();
    let mut page = 1u32;
    loop {
        assert!(page <= 10_000, "the pages never came to an end");
        let got = client
            .get_distribution_information_v2()
            .from_inv_date("2026-03-02".parse::<chrono::NaiveDate>().unwrap())
            .page(std::num::NonZeroU32::new(page).unwrap())
            .page_size(std::num::NonZeroU32::new(500).unwrap())
            .send()
            .await
            .unwrap()
            .into_inner();
        if got.data.is_empty() {
            return stored;
        }
        stored.extend(got.data.iter().map(|d| d.invoice_number));
        page += 1;
    }
}

/// Loads the real binary with 16 concurrent writers creating invoices and kills it with SIGKILL
/// mid-load, three times over on the same database. After the last restart every acknowledged
/// invoice is there exactly once, and every invoice that is there, acknowledged or not, is whole
/// (its case was created with it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_kill_dash_nine_mid_load_loses_and_half_applies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kill.db");
    let mut acknowledged = Vec::new();
    for round in 0..3i64 {
        let mut sandbox = crate::Binary::start(&db, 7);
        let client = sandbox.client(&sandbox.token);
        let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for worker in 0..16i64 {
            let (client, acked) = (client.clone(), acked.clone());
            tasks.push(tokio::spawn(async move {
                for i in 0..200i64 {
                    let number = 700_000 + round * 100_000 + worker * 1000 + i;
                    match client.create_invoice().body(invoice(number)).send().await {
                        Ok(_) => acked.lock().unwrap().push(number),
                        Err(_) => return,
                    }
                }
            }));
        }
        // Let the load run, then kill without warning.
        crate::eventually("200 invoices acknowledged", || {
            acked.lock().unwrap().len() >= 200
        })
        .await;
        sandbox.child.kill().unwrap();
        sandbox.child.wait().unwrap();
        for t in tasks {
            t.await.unwrap();
        }
        acknowledged.extend(acked.lock().unwrap().iter().copied());
    }
    assert!(acknowledged.len() >= 600);

    let sandbox = crate::Binary::start(&db, 7);
    let client = sandbox.client(&sandbox.token);
    let stored = stored_numbers(&client).await;
    let unique: std::collections::BTreeSet<i64> = stored.iter().copied().collect();
    assert_eq!(unique.len(), stored.len(), "an invoice is stored twice");
    let lost: Vec<i64> = acknowledged
        .iter()
        .filter(|n| !unique.contains(n))
        .copied()
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged invoices were lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    // Whole, including those whose answer the kill cut off: each has its case.
    let unacknowledged: Vec<i64> = unique
        .iter()
        .filter(|n| **n >= 700_000 && !acknowledged.contains(n))
        .copied()
        .collect();
    for number in unacknowledged.iter().chain(acknowledged.iter().step_by(50)) {
        let case = client
            .get_case_details()
            .invoice_number(*number)
            .send()
            .await
            .unwrap_or_else(|e| panic!("invoice {number} is stored without its case: {e}"))
            .into_inner()
            .case;
        assert_eq!(case.invoice.unwrap().invoice_number, *number);
    }
}

#[tokio::test]
async fn a_database_refuses_another_seed_or_start_and_a_second_process() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("genesis.db");
    let first = crate::Binary::start(&db, 7);
    // A second process on the same file is refused at start, naming the file.
    let said = crate::refused_at_start(&["--db", db.to_str().unwrap(), "--seed", "7"]);
    assert!(
        said.contains("in use by another confirma-sandbox"),
        "{said}"
    );
    drop(first);
    // Another seed would replay the log into another world: refused, saying what to do.
    let config = Config {
        storage: Location::File(db.clone()),
        seed: 8,
        ..Config::for_tests()
    };
    let refused = Sandbox::open(config).await.err().expect("refused");
    let message = format!("{refused:#}");
    assert!(message.contains("--seed 7"), "{message}");
    assert!(message.contains("another database"), "{message}");
    // The seed and start it was made with still open it.
    let config = Config {
        storage: Location::File(db),
        seed: 7,
        ..Config::for_tests()
    };
    Sandbox::open(config)
        .await
        .expect("the same seed and start");
}

/// A database an earlier version kept as a command log is brought into tables on its first start
/// (and its log emptied): the same world, the current demo token, the clock where it was.
#[tokio::test]
async fn a_command_log_from_an_earlier_version_is_brought_into_tables() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    {
        // The earlier version's schema and log: seed, a renewal of the demo token, 3 days on.
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}?mode=rwc", db.display());
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::raw_sql(
            "CREATE TABLE commands (seq BIGINT PRIMARY KEY, json TEXT NOT NULL);
             CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             INSERT INTO commands VALUES (1, '{\"command\":\"seed\"}');
             INSERT INTO commands VALUES (2, '{\"command\":\"renewToken\",\"client_id\":1000}');
             INSERT INTO commands VALUES (3, '{\"command\":\"advanceClock\",\"to\":\"2026-03-05T08:00:00Z\"}');",
        )
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let fresh = TestSandbox::start(None).await;
    let seeded_token = fresh.demo_token().await;
    let sb = TestSandbox::on(Location::File(db.clone())).await;
    let token = sb.demo_token().await;
    assert_ne!(token, seeded_token, "the renewal in the log was applied");
    assert_eq!(
        sb.sandbox.now().await.unwrap().to_rfc3339(),
        "2026-03-05T08:00:00+00:00"
    );
    let shown = sb.all_distributions(&token).await;
    assert_eq!(shown.distributions.len(), 3, "the seed's invoices");
    assert!(
        shown
            .distributions
            .iter()
            .all(|d| d.status == confirma_client::types::DistributionStatus::Delivered),
        "the advance in the log delivered them"
    );
    sb.stop().await;
    // Started again, it reads its tables: the log is gone, the world stays.
    let sb = TestSandbox::on(Location::File(db)).await;
    assert_eq!(sb.demo_token().await, token);
}
