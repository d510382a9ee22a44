//! The request journal (what WireMock users rely on): the last Partner API requests this sandbox
//! answered, for `GET /sandbox/requests`, so that a partner sees what their integration actually
//! sent and what it got. Credentials are never kept: a request's client is named by its id, and
//! query values of parameters that look like secrets are replaced.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use confirma_server::types::{ErrorResponse, FieldError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::Sandbox;
use crate::faults::operation_of;

/// How many requests the journal keeps (the oldest go first).
pub const CAPACITY: usize = 1_000;

/// The largest error answer read back for its field problems.
const ERROR_BODY_LIMIT: usize = 256 * 1024;

/// One answered request.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// When it arrived (wall clock).
    pub received_at: DateTime<Utc>,
    /// The sandbox clock at that moment.
    pub sandbox_time: DateTime<Utc>,
    pub method: String,
    pub path: String,
    /// The query string, with the values of secret-looking parameters replaced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The operationId.
    pub operation: String,
    /// `client`, `provisioning`, `unknown` (a key nobody has) or `none`.
    pub credential: String,
    /// The client the key belongs to, for a client key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<i64>,
    pub status: u16,
    pub duration_ms: u64,
    /// The error code of an error answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The field problems of an error answer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub field_errors: Vec<FieldError>,
}

#[derive(Debug, Default)]
pub struct Journal(Mutex<VecDeque<Entry>>);

impl Journal {
    fn push(&self, entry: Entry) {
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() == CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The newest `limit` entries (of `operation`, if given), newest first.
    pub fn recent(&self, limit: usize, operation: Option<&str>) -> Vec<Entry> {
        let entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .iter()
            .rev()
            .filter(|e| operation.is_none_or(|op| e.operation == op))
            .take(limit)
            .cloned()
            .collect()
    }
}

/// `name=value&...` with the values of parameters named like a secret replaced.
fn redacted_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if secret_name(name) => format!("{name}=<redacted>"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["key", "token", "secret", "password", "auth"]
        .iter()
        .any(|word| name.contains(word))
}

/// Records every Partner API request: as axum middleware, with the sandbox as state.
pub async fn record(State(sandbox): State<Arc<Sandbox>>, request: Request, next: Next) -> Response {
    let Some(operation) = operation_of(&request) else {
        return next.run(request).await;
    };
    let started = Instant::now();
    let key = confirma_server::runtime::api_key(request.headers());
    Sandbox::remembering_callers(async move {
        let (credential, client_id, sandbox_time) = match &key {
            None => ("none", None, sandbox.now().await.ok()),
            Some(k) if sandbox.is_provisioning_token(k) => {
                ("provisioning", None, sandbox.now().await.ok())
            }
            Some(k) => match sandbox.authenticate(Some(k)).await {
                Ok((caller, now)) => ("client", Some(caller.client_id), Some(now)),
                Err(_) => ("unknown", None, sandbox.now().await.ok()),
            },
        };
        let mut entry = Entry {
            received_at: Utc::now(),
            sandbox_time: sandbox_time.unwrap_or_else(Utc::now),
            method: request.method().to_string(),
            path: request.uri().path().to_string(),
            query: request.uri().query().map(redacted_query),
            operation: operation.operation_id.to_string(),
            credential: credential.to_string(),
            client_id,
            status: 0,
            duration_ms: 0,
            error_code: None,
            field_errors: Vec::new(),
        };
        let response = next.run(request).await;
        entry.status = response.status().as_u16();
        let response = if entry.status >= 400 {
            // Read the error answer back for its code and field problems, then send it on.
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, ERROR_BODY_LIMIT)
                .await
                .unwrap_or_default();
            if let Ok(error) = serde_json::from_slice::<ErrorResponse>(&bytes) {
                entry.error_code = Some(error.code.to_string());
                entry.field_errors = error.field_errors;
            }
            Response::from_parts(parts, Body::from(bytes))
        } else {
            response
        };
        entry.duration_ms = started.elapsed().as_millis() as u64;
        sandbox.journal.push(entry);
        response
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_query_values_are_replaced() {
        assert_eq!(
            redacted_query("fromDate=2026-01-01&api_key=abc&token=x&accessToken=y&page=2"),
            "fromDate=2026-01-01&api_key=<redacted>&token=<redacted>&accessToken=<redacted>&page=2"
        );
    }

    #[test]
    fn the_journal_keeps_the_newest() {
        let journal = Journal::default();
        let entry = |n: u16| Entry {
            received_at: Utc::now(),
            sandbox_time: Utc::now(),
            method: "GET".into(),
            path: "/".into(),
            query: None,
            operation: if n.is_multiple_of(2) { "even" } else { "odd" }.into(),
            credential: "none".into(),
            client_id: None,
            status: n,
            duration_ms: 0,
            error_code: None,
            field_errors: Vec::new(),
        };
        for n in 0..(CAPACITY as u16 + 10) {
            journal.push(entry(n));
        }
        let recent = journal.recent(3, None);
        assert_eq!(
            recent.iter().map(|e| e.status).collect::<Vec<_>>(),
            [1009, 1008, 1007]
        );
        assert_eq!(journal.recent(usize::MAX, None).len(), CAPACITY);
        assert!(
            journal
                .recent(5, Some("odd"))
                .iter()
                .all(|e| e.status % 2 == 1)
        );
    }
}
