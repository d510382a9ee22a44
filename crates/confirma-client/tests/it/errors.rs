//! Error answers as `ApiError`: documented bodies decoded, undocumented ones kept as text.

use confirma_client::{ApiError, types};
use reqwest::StatusCode;

use crate::mock::{MockServer, Reply};

#[tokio::test]
async fn a_validation_error_is_decoded_with_its_field_problems() {
    let server = MockServer::start(vec![Reply::json(
        400,
        r#"{"code":"VALIDATION_FAILED","message":"The request failed validation (1 error).",
            "fieldErrors":[{"path":"query.businessId","code":"maxLength","message":"too long"}],
            "requestId":"req-1"}"#,
    )])
    .await;
    let error = ApiError::from(
        server
            .client("key")
            .get_finvoice_credentials()
            .business_id("3120495-4")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(error.status(), Some(StatusCode::BAD_REQUEST));
    assert_eq!(error.code(), Some(types::ErrorCode::ValidationFailed));
    assert_eq!(error.request_id(), Some("req-1"));
    assert_eq!(error.field_errors().len(), 1);
    assert_eq!(error.field_errors()[0].path, "query.businessId");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn an_undocumented_answer_keeps_its_text_when_read() {
    let server = MockServer::start(vec![Reply::text(502, "upstream connect error")]).await;
    let raw = server
        .client("key")
        .validate_token()
        .send()
        .await
        .unwrap_err();
    let error = ApiError::read(raw).await;
    assert!(
        matches!(&error, ApiError::UnexpectedResponse { status, body }
            if *status == StatusCode::BAD_GATEWAY && body == "upstream connect error"),
        "{error:?}"
    );
    assert!(error.to_string().contains("upstream connect error"));
}

#[tokio::test]
async fn an_error_body_that_is_not_json_is_reported_as_such() {
    let server = MockServer::start(vec![Reply::text(500, "<html>oops</html>")]).await;
    let error = ApiError::from(
        server
            .client("key")
            .validate_token()
            .send()
            .await
            .unwrap_err(),
    );
    assert!(matches!(&error, ApiError::InvalidBody { body, .. } if body == "<html>oops</html>"));
}

#[tokio::test]
async fn an_unreachable_service_is_a_transport_error() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let client = confirma_client::Client::builder(
        confirma_client::Environment::Custom(format!("http://{closed}").parse().unwrap()),
        confirma_client::ApiKey::new("key"),
    )
    .retry_policy(crate::mock::fast_retries())
    .build()
    .unwrap();
    let error = ApiError::from(client.validate_token().send().await.unwrap_err());
    assert!(matches!(error, ApiError::Transport(_)), "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn call_reads_like_the_api_through_question_mark_into_any_error() {
    let server = MockServer::start(vec![Reply::json(
        400,
        r#"{"code":"VALIDATION_FAILED","message":"The request failed validation (1 error).",
            "fieldErrors":[{"path":"query.businessId","code":"maxLength","message":"too long"}]}"#,
    )])
    .await;
    let client = server.client("cfis_stg_secret_key");
    async fn boxed(client: &confirma_client::Client) -> Result<(), Box<dyn std::error::Error>> {
        client
            .get_finvoice_credentials()
            .business_id("3120495-4")
            .call()
            .await?;
        Ok(())
    }
    let shown = boxed(&client).await.unwrap_err().to_string();
    assert_eq!(
        shown,
        "400 Bad Request: The request failed validation (1 error). (VALIDATION_FAILED); \
         query.businessId: too long"
    );
    assert!(!shown.contains("cfis_stg_secret_key"));
    // progenitor's own `send()` shows the raw answer instead.
    let raw = client
        .get_finvoice_credentials()
        .business_id("3120495-4")
        .send()
        .await
        .unwrap_err()
        .to_string();
    assert_ne!(raw, shown);
}
