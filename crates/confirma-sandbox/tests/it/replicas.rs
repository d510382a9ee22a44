//! Several sandbox processes on one PostgreSQL database are one sandbox: what one acknowledges
//! the next read on any other sees, there is one clock, and the read-modify-write guarantees
//! hold across them. Runs with the suite's PostgreSQL server (CI's second run includes these
//! ignored tests); fails without one.

use confirma_sandbox::Location;
use futures::future::join_all;

use crate::{BUSINESS_IDS, TestSandbox, api_error, invoice};

/// Two sandboxes (in this process, each with its own pool and writer) on one new database.
async fn two_replicas() -> (TestSandbox, TestSandbox) {
    let storage = crate::postgres_storage().await;
    let a = TestSandbox::on(storage.clone()).await;
    let b = TestSandbox::on(storage).await;
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (CONFIRMA_SANDBOX_TEST_DATABASE_URL): CI's PostgreSQL run includes it"]
async fn a_write_on_one_replica_is_read_on_the_other() {
    let (a, b) = two_replicas().await;
    // Both started on it; one seed.
    assert_eq!(a.demo_token().await, b.demo_token().await);
    let (client_id, token) = a.onboard(BUSINESS_IDS[0], "Replicated Oy").await;
    let valid = b.client(&token).validate_token().send().await.unwrap();
    assert!(valid.into_inner().is_valid);
    b.client(&token)
        .create_invoice()
        .body(invoice(51))
        .send()
        .await
        .unwrap();
    let seen = a.all_distributions(&token).await;
    assert_eq!(seen.distributions.len(), 1);
    assert_eq!(seen.distributions[0].invoice_number, 51);
    // One clock: moved on one, read on the other.
    a.advance_days(3).await;
    assert_eq!(
        a.sandbox.now().await.unwrap(),
        b.sandbox.now().await.unwrap()
    );
    let seen = b.all_distributions(&token).await;
    assert_eq!(
        seen.distributions[0].status,
        confirma_client::types::DistributionStatus::Delivered
    );
    // A renewal on one retires the old token on the other.
    let renewed = crate::renewed(&b.client(&token)).await;
    let (status, _) = api_error(a.client(&token).validate_token().send().await);
    assert_eq!(status, 401);
    a.client(&renewed).validate_token().send().await.unwrap();
    // Ids are unique across both: the next client is the next id whichever replica makes it.
    let (next_id, _) = b.onboard(BUSINESS_IDS[1], "Second Oy").await;
    assert_eq!(next_id, client_id + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL (CONFIRMA_SANDBOX_TEST_DATABASE_URL): CI's PostgreSQL run includes it"]
async fn one_invoice_number_sent_to_both_replicas_at_once_is_stored_once() {
    let (a, b) = two_replicas().await;
    let (_, token) = a.onboard(BUSINESS_IDS[2], "Race Oy").await;
    for number in 770..780 {
        // Forty different invoices under one number, released at once on both: one wins.
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(40));
        let calls = (0..40).map(|i| {
            let mut request = invoice(number);
            request.invoice.header.description = Some(format!("attempt {i}").parse().unwrap());
            let client = if i % 2 == 0 { &a } else { &b }.client(&token);
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                client.create_invoice().body(request).send().await
            })
        });
        let mut statuses = Vec::new();
        for answer in join_all(calls).await {
            statuses.push(match answer.unwrap() {
                Ok(_) => 200,
                Err(e) => e.status().map_or(0, |s| s.as_u16()),
            });
        }
        let accepted = statuses.iter().filter(|s| **s == 200).count();
        let refused = statuses.iter().filter(|s| **s == 402).count();
        assert_eq!((accepted, refused), (1, 39), "invoice {number}");
    }
    for replica in [&a, &b] {
        assert_eq!(
            replica.all_distributions(&token).await.distributions.len(),
            10
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL (CONFIRMA_SANDBOX_TEST_DATABASE_URL): CI's PostgreSQL run includes it"]
async fn unfetched_settlements_fetched_on_both_replicas_at_once_arrive_once() {
    let (a, b) = two_replicas().await;
    let (_, token) = a.onboard(BUSINESS_IDS[3], "Settled Oy").await;
    for round in 1..=5 {
        crate::one_more_settlement(&b, &a, &token, round).await;
        let clients = (0..40)
            .map(|i| if i % 2 == 0 { &a } else { &b }.client(&token))
            .collect();
        let deliveries = crate::fetch_unfetched_at_once(clients).await;
        assert_eq!(
            deliveries.values().copied().collect::<Vec<_>>(),
            vec![1],
            "round {round}: {deliveries:?}"
        );
    }
}

/// Two real processes on one database under write load on both; one is killed with SIGKILL.
/// Every write either acknowledged is on the database, read through the survivor, and the
/// survivor goes on writing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (CONFIRMA_SANDBOX_TEST_DATABASE_URL): CI's PostgreSQL run includes it"]
async fn kill_dash_nine_of_one_replica_under_load_loses_nothing_acknowledged() {
    let storage = crate::postgres_storage().await;
    let Location::Postgres(url) = &storage else {
        unreachable!("postgres_storage is PostgreSQL")
    };
    let mut victim = crate::Binary::launch(&["--database-url", url], 7, None);
    let survivor = crate::Binary::launch(&["--database-url", url], 7, None);
    assert_eq!(victim.token, survivor.token, "one seed for both");
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for worker in 0..8i64 {
        let client = if worker % 2 == 0 { &victim } else { &survivor }.client(&victim.token);
        let acked = acked.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..150i64 {
                let number = 600_000 + worker * 1000 + i;
                match client.create_invoice().body(invoice(number)).send().await {
                    Ok(_) => acked.lock().unwrap().push(number),
                    // The victim's writers stop at the kill; the survivor's run to the end.
                    Err(_) if worker % 2 == 0 => return,
                    Err(e) => panic!("the survivor refused invoice {number}: {e}"),
                }
            }
        }));
    }
    crate::eventually("150 invoices acknowledged", || {
        acked.lock().unwrap().len() >= 150
    })
    .await;
    victim.child.kill().unwrap();
    victim.child.wait().unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let acknowledged = acked.lock().unwrap().clone();
    let client = survivor.client(&survivor.token);
    let stored = crate::durability::stored_numbers(&client).await;
    let unique: std::collections::BTreeSet<i64> = stored.iter().copied().collect();
    assert_eq!(unique.len(), stored.len(), "an invoice is stored twice");
    let lost: Vec<&i64> = acknowledged
        .iter()
        .filter(|n| !unique.contains(n))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged invoices were lost",
        lost.len()
    );
    // The survivor's four writers all finished.
    let survivors = acknowledged.iter().filter(|n| (*n / 1000) % 2 == 1).count();
    assert_eq!(survivors, 4 * 150);
}

/// Each replica remembers the tokens it checked; a renewal or a clock move on another replica
/// reaches it as a notification sent with that commit, so the old token is refused there too,
/// within 100 ms of the renewal's answer (polled every millisecond), and the new one accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (CONFIRMA_SANDBOX_TEST_DATABASE_URL): CI's PostgreSQL run includes it"]
async fn a_renewed_or_expired_token_is_refused_on_the_other_replica_at_once() {
    let (a, b) = two_replicas().await;
    let (client_id, token) = a.onboard(BUSINESS_IDS[1], "Remembered Oy").await;
    let refused_on_b = |token: String| {
        let client = b.client(&token);
        async move {
            let started = std::time::Instant::now();
            loop {
                if client.validate_token().send().await.is_err() {
                    return started.elapsed();
                }
                assert!(
                    started.elapsed() < std::time::Duration::from_secs(5),
                    "the other replica still accepts the token"
                );
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        }
    };
    // B checks the token (and remembers it), then A renews it.
    for _ in 0..3 {
        b.client(&token).validate_token().send().await.unwrap();
    }
    let renewed = crate::renewed(&a.client(&token)).await;
    let took = refused_on_b(token.clone()).await;
    assert!(
        took < std::time::Duration::from_millis(100),
        "refused after {took:?}"
    );
    let (status, _) = api_error(b.client(&token).validate_token().send().await);
    assert_eq!(status, 401);
    b.client(&renewed).validate_token().send().await.unwrap();

    // An expiry, then the clock moved past it on A: B refuses the token as expired.
    let (status, body) = a
        .control(
            "/sandbox/token/expiry",
            serde_json::json!({"clientId": client_id, "expiresAt": "2026-03-03T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    b.client(&renewed).validate_token().send().await.unwrap();
    a.advance_days(2).await;
    let took = refused_on_b(renewed.clone()).await;
    assert!(
        took < std::time::Duration::from_millis(100),
        "refused after {took:?}"
    );
    let (_, error) = api_error(b.client(&renewed).validate_token().send().await);
    assert_eq!(error.code.to_string(), "TOKEN_EXPIRED");
}
