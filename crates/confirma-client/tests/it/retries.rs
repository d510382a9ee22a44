//! Which requests are sent again, how often, and how long the client waits in between.

use std::time::{Duration, Instant};

use confirma_client::{ApiError, RetryPolicy, types};
use reqwest::StatusCode;

use crate::mock::{MockServer, Reply, fast_retries};

const VALID: &str = r#"{"isValid":true,"message":"Token is valid"}"#;

fn comment_action() -> types::InvoiceActionsRequest {
    serde_json::from_str(
        r#"{"actions":[{"code":"COMMENT","comment":"Called the buyer.","data":{"invoiceNumber":202600145}}]}"#,
    )
    .unwrap()
}

#[tokio::test]
async fn a_503_then_200_is_retried() {
    let server = MockServer::start(vec![
        Reply::error(503, "SERVICE_UNAVAILABLE"),
        Reply::json(200, VALID),
    ])
    .await;
    let status = server.client("key").validate_token().send().await.unwrap();
    assert!(status.is_valid);
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|r| r.header("x-api-key") == Some("key")));
}

#[tokio::test]
async fn a_429_waits_for_retry_after() {
    let server = MockServer::start(vec![
        Reply::error(429, "SERVICE_UNAVAILABLE").with_header("Retry-After", "1"),
        Reply::json(200, VALID),
    ])
    .await;
    let client = server.client("key");
    let started = Instant::now();
    client.validate_token().send().await.unwrap();
    let waited = started.elapsed();
    assert_eq!(server.requests().len(), 2);
    // The back-off alone is a few milliseconds; only Retry-After explains a second.
    assert!(waited >= Duration::from_millis(950), "waited {waited:?}");
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let soon = std::time::SystemTime::now() + Duration::from_secs(2);
    let server = MockServer::start(vec![
        Reply::error(503, "SERVICE_UNAVAILABLE").with_header("Retry-After", &httpdate_fmt(soon)),
        Reply::json(200, VALID),
    ])
    .await;
    let started = Instant::now();
    server.client("key").validate_token().send().await.unwrap();
    // HTTP dates have whole seconds, so the wait is between one and two seconds.
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(server.requests().len(), 2);
}

/// `Retry-After` in the IMF-fixdate format, without pulling a date crate into the tests.
fn httpdate_fmt(at: std::time::SystemTime) -> String {
    let secs = at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let date = chrono::DateTime::from_timestamp(secs, 0).unwrap();
    date.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[tokio::test]
async fn a_retry_after_beyond_the_limit_is_not_waited_for() {
    let server = MockServer::start(vec![
        Reply::error(503, "SERVICE_UNAVAILABLE").with_header("Retry-After", "3600"),
        Reply::json(200, VALID),
    ])
    .await;
    // Waiting would take an hour; a minute bounds the test however loaded the machine is.
    let answer = tokio::time::timeout(
        Duration::from_secs(60),
        server.client("key").validate_token().send(),
    )
    .await
    .expect("the client waited for a Retry-After beyond its limit");
    let error = ApiError::from(answer.unwrap_err());
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert!(error.is_retryable());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn attempts_are_bounded() {
    let server = MockServer::start(vec![Reply::error(503, "SERVICE_UNAVAILABLE")]).await;
    let client = server.client_with("key", fast_retries().max_attempts(3));
    let error = ApiError::from(client.get_settlements().send().await.unwrap_err());
    assert_eq!(server.requests().len(), 3);
    assert!(matches!(
        error,
        ApiError::Api { status: StatusCode::SERVICE_UNAVAILABLE, ref body }
            if body.code == types::ErrorCode::ServiceUnavailable
    ));
}

#[tokio::test]
async fn no_retries_with_the_none_policy() {
    let server = MockServer::start(vec![Reply::error(503, "SERVICE_UNAVAILABLE")]).await;
    let client = server.client_with("key", RetryPolicy::none());
    client.validate_token().send().await.unwrap_err();
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_post_is_not_retried() {
    let server = MockServer::start(vec![
        Reply::error(503, "SERVICE_UNAVAILABLE"),
        Reply::json(200, r#"{"results":[]}"#),
    ])
    .await;
    let error = server
        .client("key")
        .create_invoice_actions()
        .body(comment_action())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
}

#[tokio::test]
async fn a_post_is_not_retried_after_a_dropped_connection() {
    let server =
        MockServer::start(vec![Reply::HangUp, Reply::json(200, r#"{"results":[]}"#)]).await;
    let error = server
        .client("key")
        .create_invoice_actions()
        .body(comment_action())
        .send()
        .await
        .unwrap_err();
    assert!(matches!(ApiError::from(error), ApiError::Transport(_)));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn token_renewal_is_not_retried_although_it_is_a_get() {
    let server = MockServer::start(vec![Reply::error(503, "SERVICE_UNAVAILABLE")]).await;
    server.client("key").renew_api_key().await.unwrap_err();
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
}

#[tokio::test]
async fn token_renewal_is_not_retried_through_send_json_either() {
    let server = MockServer::start(vec![Reply::error(503, "SERVICE_UNAVAILABLE")]).await;
    let client = server.client("key");
    client.send_json("renewToken", &[], None).await.unwrap_err();
    assert_eq!(server.requests().len(), 1);
    // A safe GET through the same path is retried, so the count above means something.
    let server = MockServer::start(vec![
        Reply::error(503, "SERVICE_UNAVAILABLE"),
        Reply::json(200, VALID),
    ])
    .await;
    server
        .client("key")
        .send_json("validateToken", &[], None)
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_dropped_connection_is_retried() {
    let server = MockServer::start(vec![Reply::HangUp, Reply::json(200, VALID)]).await;
    server.client("key").validate_token().send().await.unwrap();
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_timeout_is_retried_and_reported_as_a_timeout() {
    let server = MockServer::start(vec![Reply::Stall(Duration::from_secs(2))]).await;
    let client = confirma_client::Client::builder(
        confirma_client::Environment::Custom(server.url.parse().unwrap()),
        confirma_client::ApiKey::new("key"),
    )
    .timeout(Duration::from_millis(200))
    .retry_policy(fast_retries().max_attempts(2))
    .build()
    .unwrap();
    let error = ApiError::from(client.validate_token().send().await.unwrap_err());
    assert!(matches!(error, ApiError::Timeout(_)), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn other_errors_are_not_retried() {
    for status in [400, 401, 404, 500] {
        let server = MockServer::start(vec![Reply::error(status, "BAD_REQUEST")]).await;
        server
            .client("key")
            .validate_token()
            .send()
            .await
            .unwrap_err();
        assert_eq!(server.requests().len(), 1, "{status}");
    }
}
