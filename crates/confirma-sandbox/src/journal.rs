//! The request journal (what WireMock users rely on): the last Partner API requests this sandbox
//! answered, for `GET /sandbox/requests`, so that a partner sees what their integration actually
//! sent and what it got. Credentials are never kept: a request's client is named by its id, and
//! query values of parameters that look like secrets are replaced.

use std::collections::VecDeque;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use confirma_server::types::FieldError;
use serde::Serialize;
use utoipa::ToSchema;

/// How many requests the journal keeps (the oldest go first).
pub const CAPACITY: usize = 1_000;

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
    pub(crate) fn push(&self, entry: Entry) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
