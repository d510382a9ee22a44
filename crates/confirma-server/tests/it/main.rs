//! The stub's own behaviour, in-process (`tower::ServiceExt::oneshot`): every error leaves in the
//! spec's error format with the right status, for every operation of the spec.

mod errors;
mod exchange;
mod operations;
mod validation;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// Sends one request to the stub (answering with `ExampleApi`); the status and the JSON body.
pub async fn send(
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> (u16, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("x-api-key", "test-key");
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    let response = confirma_server::router(confirma_server::ExampleApi)
        .oneshot(request.body(body.into()).expect("request"))
        .await
        .expect("the router never fails");
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!("{method} {uri} answered {status} with a non-JSON body ({e}): {bytes:?}")
    });
    (status, json)
}

/// Asserts that `body` is an `ErrorResponse` with `code`, and returns its field errors.
pub fn assert_error(body: &Value, code: &str) -> Vec<Value> {
    assert_eq!(body["code"], code, "{body:#}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body:#}"
    );
    // The body must also be a valid ErrorResponse for the generated type.
    serde_json::from_value::<confirma_server::types::ErrorResponse>(body.clone())
        .unwrap_or_else(|e| panic!("not an ErrorResponse ({e}): {body:#}"));
    body["fieldErrors"].as_array().cloned().unwrap_or_default()
}
