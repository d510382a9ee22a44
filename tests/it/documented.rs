//! The real documentation's example payloads (reconstructed from the reference tables into
//! `tests/fixtures/documented/`, see its README) are valid against the spec: each request passes
//! the stub's validation, and each response decodes into the generated client type and back.

use std::path::PathBuf;

use axum::response::IntoResponse;
use confirma_client::{ApiKey, Client, ClientState};
use serde_json::Value;

use crate::calls::{call, without_nulls};
use crate::spec::operation;

fn fixtures() -> Vec<(String, String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/documented");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixtures dir") {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let mut parts = name.split('.');
        let (op, kind) = (
            parts.next().unwrap().to_string(),
            parts.next().unwrap().to_string(),
        );
        let value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        out.push((op, kind, value));
    }
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    assert!(out.len() >= 14, "the documented fixtures are missing");
    out
}

#[tokio::test]
async fn documented_requests_pass_the_stubs_validation() {
    let base = crate::serve::spawn(confirma_server::router(confirma_server::ExampleApi)).await;
    let http = reqwest::Client::new();
    for (op, kind, value) in fixtures().into_iter().filter(|f| f.1 == "request") {
        let (method, path, _) = operation(&op);
        assert_eq!(method, "POST", "{op}.{kind}");
        let resp = http
            .post(format!("{base}{path}"))
            .json(&value)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        assert_eq!(status, 200, "{op}: {}", resp.text().await.unwrap());
    }
}

#[tokio::test]
async fn documented_responses_decode_into_the_client_types() {
    for (op, _, value) in fixtures().into_iter().filter(|f| f.1 == "response") {
        let answer = value.clone();
        let router = axum::Router::new().fallback(move || {
            let answer = answer.clone();
            async move { axum::Json(answer).into_response() }
        });
        let base = crate::serve::spawn(router).await;
        let client = Client::new(&base, ClientState::new(ApiKey::new("k")));
        let got = call(&client, &op)
            .await
            .unwrap_or_else(|e| panic!("{op}: {e}"));
        assert_eq!(without_nulls(&got), without_nulls(&value), "{op}");
    }
}
