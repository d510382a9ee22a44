//! Every operation's request, built by the generated client from the spec's examples, arrives at
//! a plain loopback HTTP server (not the stub) with the documented method, path, query,
//! `X-Api-Key` header and body; the server answers with the spec's response example, which the
//! client must decode and serialize back to the same JSON.

use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::response::IntoResponse;
use confirma_client::{ApiKey, Client, ClientState};
use serde_json::Value;

use crate::calls::{call, without_nulls};
use crate::spec::{operations, query_examples, request_example, response_example};

#[derive(Debug, Clone)]
struct Captured {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    api_key: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

type Log = Arc<Mutex<Vec<Captured>>>;

async fn capture(State(log): State<Log>, request: Request) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .map(|v| v.to_str().expect("ascii").to_string())
    };
    let captured = Captured {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(url_pairs).unwrap_or_default(),
        api_key: header("x-api-key"),
        content_type: header("content-type"),
        body: body.to_vec(),
    };
    log.lock().unwrap().push(captured.clone());
    // Answer with the example of whichever operation this is.
    let op = operations()
        .into_iter()
        .find(|(m, p, _)| *m == captured.method && *p == captured.path)
        .map(|(_, _, op)| op["operationId"].as_str().unwrap().to_string());
    match op {
        Some(op) => {
            let (status, example) = response_example(&op);
            (
                axum::http::StatusCode::from_u16(status).unwrap(),
                axum::Json(example),
            )
                .into_response()
        }
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

fn url_pairs(q: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://x/?{q}"))
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn query_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn every_operation_sends_the_documented_request() {
    let log: Log = Arc::default();
    let base = crate::serve::spawn(
        axum::Router::new()
            .fallback(capture)
            .with_state(log.clone()),
    )
    .await;
    let client = Client::new(&base, ClientState::new(ApiKey::new("capture-key")));
    let ops = operations();
    assert_eq!(ops.len(), 16, "the Partner API has 16 known operations");
    for (method, path, op) in ops {
        let id = op["operationId"].as_str().unwrap();
        log.lock().unwrap().clear();
        // A renewal puts the token it answered in place of the key; each call starts afresh.
        client.state().set_api_key(ApiKey::new("capture-key"));
        let outcome = call(&client, id).await;
        let seen = log.lock().unwrap().clone();
        assert_eq!(seen.len(), 1, "{id}: expected exactly one request");
        let seen = &seen[0];
        assert_eq!(
            (seen.method.as_str(), seen.path.as_str()),
            (method.as_str(), path.as_str()),
            "{id}"
        );
        assert_eq!(
            seen.api_key.as_deref(),
            Some("capture-key"),
            "{id}: X-Api-Key"
        );
        let mut expected_query: Vec<(String, String)> = query_examples(id)
            .iter()
            .map(|(n, v)| (n.clone(), query_text(v)))
            .collect();
        let mut query = seen.query.clone();
        expected_query.sort();
        query.sort();
        assert_eq!(query, expected_query, "{id}: query");
        match request_example(id) {
            Some(example) => {
                assert_eq!(
                    seen.content_type.as_deref(),
                    Some("application/json"),
                    "{id}"
                );
                let sent: Value = serde_json::from_slice(&seen.body).expect("JSON body");
                assert_eq!(without_nulls(&sent), without_nulls(&example), "{id}: body");
            }
            None => assert!(seen.body.is_empty(), "{id}: unexpected body"),
        }
        let (_, example) = response_example(id);
        let got = outcome.unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(
            without_nulls(&got),
            without_nulls(&example),
            "{id}: response round trip"
        );
    }
}

/// Amounts are exact decimals end to end: `1240.50` keeps its two places, and 0.10 + 0.20 is 0.30.
#[test]
fn money_survives_a_json_round_trip_exactly() {
    use confirma_client::types::SettlementBreakdownItem;
    let json = r#"{"type":"CAPITAL","amount":1240.50}"#;
    let item: SettlementBreakdownItem = serde_json::from_str(json).unwrap();
    let back = serde_json::to_string(&item).unwrap();
    assert!(back.contains(r#""amount":1240.50"#), "{back}");
    assert_eq!(
        serde_json::from_str::<Value>(&back).unwrap(),
        serde_json::from_str::<Value>(json).unwrap()
    );
    let a: SettlementBreakdownItem =
        serde_json::from_str(r#"{"type":"FEES","amount":0.10}"#).unwrap();
    let b: SettlementBreakdownItem =
        serde_json::from_str(r#"{"type":"FEES","amount":0.20}"#).unwrap();
    let sum = a.amount + b.amount;
    assert_eq!(sum.to_string(), "0.30");
    assert_eq!(sum, "0.3".parse::<rust_decimal::Decimal>().unwrap());
}
