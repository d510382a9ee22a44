//! The proxy's journal (`GET /proxy/requests`): the most recent exchanges, oldest first, each
//! redacted (no credential, no body) with what it broke of the spec.

use std::collections::VecDeque;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Violation;

/// How many exchanges the journal keeps.
pub const KEPT: usize = 1000;

/// One exchange as the journal shows it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// The exchange's number since the proxy started (its recording's too).
    pub seq: u64,
    pub received_at: DateTime<Utc>,
    pub method: String,
    pub path: String,
    /// The query, secrets redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The spec's operation id; none for a path the spec does not have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<&'static str>,
    /// The status the partner got.
    pub status: u16,
    /// Who answered: `upstream`, or `proxy` (a refused request, or the upstream failing).
    pub answered_by: &'static str,
    pub duration_ms: u64,
    /// Why the answer's body was not checked, if it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unchecked: Option<String>,
    pub violations: Vec<Violation>,
}

/// The recent exchanges.
#[derive(Debug, Default)]
pub struct Journal(Mutex<VecDeque<Entry>>);

impl Journal {
    pub fn push(&self, entry: Entry) {
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() == KEPT {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The kept exchanges, oldest first.
    pub fn entries(&self) -> Vec<Entry> {
        let entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        entries.iter().cloned().collect()
    }
}
