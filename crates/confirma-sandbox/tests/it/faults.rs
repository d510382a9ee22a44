//! `/sandbox/faults` and `/sandbox/requests`: the client's retry and timeout code against
//! injected failures and stalls, and the journal of what it sent.

use std::time::{Duration, Instant};

use confirma_client::{ApiError, ApiKey, Client, Environment, RetryPolicy};
use serde_json::{Value, json};

use crate::{ADMIN, TestSandbox};

fn client(sb: &TestSandbox, token: &str, retry: RetryPolicy) -> Client {
    Client::builder(sb.base.parse::<Environment>().unwrap(), ApiKey::new(token))
        .retry_policy(retry)
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_clients_retries_ride_out_injected_503s_with_retry_after() {
    let sb = TestSandbox::start(None).await;
    let (status, faults) = sb
        .control(
            "/sandbox/faults",
            json!({"operation": "getPayments", "status": 503, "times": 2, "retryAfterSeconds": 1}),
        )
        .await;
    assert_eq!(status, 200, "{faults}");
    assert_eq!(faults[0]["times"], 2);
    let started = Instant::now();
    let payments = client(&sb, &sb.demo_token().await, RetryPolicy::default())
        .get_payments()
        .send()
        .await
        .expect("the third attempt gets through");
    assert!(payments.is_empty());
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "Retry-After 1 s, twice: {:?}",
        started.elapsed()
    );
    let sent = sb.journal("operation=getPayments").await;
    let statuses: Vec<u64> = sent.iter().map(|e| e["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [200, 503, 503], "newest first");
    assert!(
        sent.iter()
            .all(|e| e["clientId"] == 1000 && e["credential"] == "client")
    );
    assert_eq!(sent[1]["errorCode"], "SERVICE_UNAVAILABLE");

    // Without retries the failure reaches the caller, once per fault.
    sb.control(
        "/sandbox/faults",
        json!({"operation": "getPayments", "status": 500}),
    )
    .await;
    let error: ApiError = client(&sb, &sb.demo_token().await, RetryPolicy::none())
        .get_payments()
        .send()
        .await
        .unwrap_err()
        .into();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
}

#[tokio::test]
async fn a_stall_trips_the_clients_timeout_and_faults_can_be_cleared() {
    let sb = TestSandbox::start(None).await;
    sb.control(
        "/sandbox/faults",
        json!({"operation": "validateToken", "delayMs": 1500, "times": 5}),
    )
    .await;
    // The client gives up after its 800 ms (a timeout, not the answer that follows the stall).
    let error: ApiError = client(&sb, &sb.demo_token().await, RetryPolicy::none())
        .validate_token()
        .send()
        .await
        .unwrap_err()
        .into();
    assert!(matches!(error, ApiError::Timeout(_)), "{error:?}");
    let cleared: Value = reqwest::Client::new()
        .delete(format!("{}/sandbox/faults", sb.base))
        .header("x-admin-token", ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cleared, json!([]));
    client(&sb, &sb.demo_token().await, RetryPolicy::none())
        .validate_token()
        .send()
        .await
        .expect("no fault left");
    // A fault that cannot apply is refused, naming the field.
    for (fault, path) in [
        (
            json!({"operation": "getNothing", "status": 503}),
            "$.operation",
        ),
        (
            json!({"operation": "getPayments", "status": 200}),
            "$.status",
        ),
        (json!({"operation": "getPayments"}), "$.status"),
        (
            json!({"operation": "getPayments", "delayMs": 3600000}),
            "$.delayMs",
        ),
    ] {
        let (status, answer) = sb.control("/sandbox/faults", fault.clone()).await;
        assert_eq!(status, 400, "{fault}");
        assert_eq!(answer["fieldErrors"][0]["path"], path, "{answer}");
    }
}

#[tokio::test]
async fn the_journal_shows_what_was_sent_and_never_a_credential() {
    let sb = TestSandbox::start(None).await;
    let token = sb.demo_token().await;
    let http = reqwest::Client::new();
    let bad = http
        .post(format!("{}/api/v1/partner/invoice", sb.base))
        .header("x-api-key", &token)
        .header("content-type", "application/json")
        .body(r#"{"processing": {}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    http.get(format!(
        "{}/api/v1/partner/payments?fromDate=2026-01-01&api_key={token}",
        sb.base
    ))
    .header("x-api-key", "not-a-key")
    .send()
    .await
    .unwrap();
    http.get(format!("{}/api/v1/partner/validate", sb.base))
        .header("x-api-key", crate::PROVISIONING)
        .send()
        .await
        .unwrap();
    let sent = sb.journal("limit=3").await;
    assert_eq!(sent.len(), 3);
    let [validate, payments, invoice] = [&sent[0], &sent[1], &sent[2]];
    assert_eq!(validate["credential"], "provisioning");
    assert_eq!(payments["credential"], "unknown");
    assert_eq!(payments["status"], 401);
    assert_eq!(payments["query"], "fromDate=2026-01-01&api_key=<redacted>");
    assert_eq!(invoice["operation"], "createInvoice");
    assert_eq!(invoice["clientId"], 1000);
    assert_eq!(invoice["errorCode"], "VALIDATION_FAILED");
    assert!(invoice["fieldErrors"].as_array().unwrap().len() > 1);
    let all = sb.journal("limit=1000").await;
    let text = serde_json::to_string(&all).unwrap();
    for secret in [token.as_str(), crate::PROVISIONING, ADMIN] {
        assert!(!text.contains(secret), "a credential is in the journal");
    }
    // Control calls are not Partner API requests.
    assert!(
        all.iter()
            .all(|e| !e["path"].as_str().unwrap().starts_with("/sandbox"))
    );
}
