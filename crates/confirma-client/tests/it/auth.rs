//! The API key on the wire, out of `Debug` output, and swapped by token renewal.

use confirma_client::{ApiError, ApiKey};

use crate::mock::{MockServer, Reply};

const VALID: &str = r#"{"isValid":true,"message":"Token is valid"}"#;

#[tokio::test]
async fn every_request_carries_the_key() {
    let server = MockServer::start(vec![Reply::json(200, VALID)]).await;
    server
        .client("cfis_stg_secret")
        .validate_token()
        .send()
        .await
        .unwrap();
    let seen = server.requests();
    assert_eq!(seen[0].path(), "/api/v1/partner/validate");
    assert_eq!(seen[0].header("X-Api-Key"), Some("cfis_stg_secret"));
    assert!(
        seen[0]
            .header("user-agent")
            .unwrap()
            .starts_with("confirma-client/")
    );
}

#[tokio::test]
async fn the_key_never_shows_in_debug_output() {
    let server = MockServer::start(vec![Reply::error(401, "UNAUTHORIZED")]).await;
    let client = server.client("cfis_stg_secret");
    let error = ApiError::from(client.validate_token().send().await.unwrap_err());
    for shown in [
        format!("{client:?}"),
        format!("{:?}", client.state()),
        format!("{:?}", client.state().api_key()),
        format!("{error:?}"),
        error.to_string(),
    ] {
        assert!(!shown.contains("cfis_stg_secret"), "key leaked: {shown}");
    }
    assert!(format!("{client:?}").contains("ApiKey(<redacted>)"));
}

#[tokio::test]
async fn renewal_swaps_the_key_of_the_running_client() {
    let server = MockServer::start(vec![
        Reply::json(
            200,
            r#"{"Message":"cfis_stg_new","accessToken":"cfis_stg_new","expiresAt":"2027-03-31T23:59:59Z"}"#,
        ),
        Reply::json(200, VALID),
    ])
    .await;
    let client = server.client("cfis_stg_old");
    let clone = client.clone();
    let new_key = client.renew_api_key().await.unwrap();
    assert_eq!(new_key, ApiKey::new("cfis_stg_new"));
    assert_eq!(clone.state().api_key(), new_key, "clones share the key");
    clone.validate_token().send().await.unwrap();

    let seen = server.requests();
    assert_eq!(seen[0].path(), "/api/v1/partner/renew");
    assert_eq!(seen[0].header("x-api-key"), Some("cfis_stg_old"));
    assert_eq!(seen[1].header("x-api-key"), Some("cfis_stg_new"));
}

#[tokio::test]
async fn every_way_of_renewing_puts_the_new_token_in_place() {
    let renewed = |n: u32| {
        Reply::json(
            200,
            &format!(r#"{{"Message":"cfis_stg_{n}","accessToken":"cfis_stg_{n}"}}"#),
        )
    };
    let server = MockServer::start(vec![
        renewed(1),
        Reply::json(200, VALID),
        renewed(2),
        Reply::json(200, VALID),
        renewed(3),
        Reply::json(200, VALID),
    ])
    .await;
    let client = server.client("cfis_stg_0");
    client.renew_token().send().await.unwrap();
    client.validate_token().call().await.unwrap();
    client.renew_token().call().await.unwrap();
    client.validate_token().call().await.unwrap();
    client.send_json("renewToken", &[], None).await.unwrap();
    client.validate_token().call().await.unwrap();
    let keys: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.header("x-api-key").unwrap().to_string())
        .collect();
    assert_eq!(
        keys,
        [
            "cfis_stg_0",
            "cfis_stg_1",
            "cfis_stg_1",
            "cfis_stg_2",
            "cfis_stg_2",
            "cfis_stg_3"
        ]
    );
}

#[tokio::test]
async fn renewal_falls_back_to_the_documented_message_field() {
    let server = MockServer::start(vec![Reply::json(
        200,
        r#"{"Message":"cfis_stg_from_message"}"#,
    )])
    .await;
    let client = server.client("cfis_stg_old");
    let new_key = client.renew_api_key().await.unwrap();
    assert_eq!(new_key.expose(), "cfis_stg_from_message");
    assert_eq!(client.state().api_key().expose(), "cfis_stg_from_message");
}

#[tokio::test]
async fn a_failed_renewal_keeps_the_old_key() {
    let server = MockServer::start(vec![Reply::error(401, "TOKEN_EXPIRED")]).await;
    let client = server.client("cfis_stg_old");
    let error = client.renew_api_key().await.unwrap_err();
    assert_eq!(
        error.code(),
        Some(confirma_client::types::ErrorCode::TokenExpired)
    );
    assert_eq!(client.state().api_key().expose(), "cfis_stg_old");

    let server = MockServer::start(vec![Reply::json(200, r#"{"Message":" "}"#)]).await;
    let client = server.client("cfis_stg_old");
    assert!(matches!(
        client.renew_api_key().await,
        Err(ApiError::InvalidRequest(_))
    ));
    assert_eq!(client.state().api_key().expose(), "cfis_stg_old");
}

#[tokio::test]
async fn a_key_that_cannot_be_a_header_is_refused_before_sending() {
    let server = MockServer::start(vec![Reply::json(200, VALID)]).await;
    let error = ApiError::from(
        server
            .client("line\nbreak")
            .validate_token()
            .send()
            .await
            .unwrap_err(),
    );
    assert!(matches!(error, ApiError::InvalidRequest(_)));
    assert!(!error.to_string().contains("break"));
    assert!(server.requests().is_empty());
}
