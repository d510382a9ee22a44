//! Accounting items: what was submitted for the accounting sync, and where it stands.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccountingItem {
    /// Its place in the order of submissions (0 until stored).
    pub seq: i64,
    pub client_id: i64,
    pub kind: Kind,
    pub source_identifier: String,
    pub document_date: NaiveDate,
    pub document_name: String,
    pub invoice_number: String,
    pub submitted_at: DateTime<Utc>,
    pub status: SyncStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_date: Option<NaiveDate>,
    pub description: String,
    /// Why the accounting system will refuse it, decided when it was submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) failure: Option<String>,
}

impl AccountingItem {
    /// When the accounting system takes it in, while it is pending.
    pub fn syncs_at(&self) -> Option<DateTime<Utc>> {
        (self.status == SyncStatus::Pending).then(|| self.submitted_at + SYNC_DELAY)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    Ledger,
    Payment,
    Invoice,
}

/// How long the (simulated) accounting system takes to take a submission in.
pub const SYNC_DELAY: Duration = Duration::minutes(30);

/// Where a submission is in the accounting system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncStatus {
    Pending,
    Synced,
    Failed,
}

impl SyncStatus {
    /// The documented wire code: 0 pending, 1 synced, 2 failed.
    pub fn code(self) -> i64 {
        match self {
            Self::Pending => 0,
            Self::Synced => 1,
            Self::Failed => 2,
        }
    }
}
