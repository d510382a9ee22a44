//! `Client::send_json`: an operation with its body as given, with the key, and the same errors.

use confirma_client::ApiError;

use crate::mock::{MockServer, Reply};

#[tokio::test]
async fn a_raw_call_carries_the_key_the_path_and_the_query() {
    let server = MockServer::start(vec![Reply::json(200, "[]")]).await;
    let answer = server
        .client("key-1")
        .send_json("getPayments", &[("fromDate", "2026-01-01".into())], None)
        .await
        .unwrap();
    assert_eq!(answer, serde_json::json!([]));
    let seen = &server.requests()[0];
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.path(), "/api/v1/partner/payments");
    assert_eq!(seen.query("fromDate"), Some("2026-01-01"));
    assert_eq!(seen.header("x-api-key"), Some("key-1"));
}

#[tokio::test]
async fn a_raw_body_is_sent_as_given_and_refusals_decode() {
    let server = MockServer::start(vec![Reply::error(400, "MALFORMED_JSON")]).await;
    let error = server
        .client("key-1")
        .send_json("createInvoice", &[], Some(b"{not json".to_vec()))
        .await
        .unwrap_err();
    assert!(matches!(error, ApiError::Api { .. }), "{error:?}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    let seen = &server.requests()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.header("content-type"), Some("application/json"));
    let unknown = server
        .client("key-1")
        .send_json("noSuchOperation", &[], None)
        .await
        .unwrap_err();
    assert!(matches!(unknown, ApiError::InvalidRequest(_)));
}
