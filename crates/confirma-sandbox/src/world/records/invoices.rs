//! Invoices and their distribution as stored, and the facts of them alone (when they distribute
//! and fall due).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use confirma_server::types;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How long after creation the print and distribution service has delivered an invoice.
pub const DISTRIBUTION_DELAY: Duration = Duration::minutes(5);

/// One invoice, with what the sandbox needs of it after creation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InvoiceRecord {
    pub client_id: i64,
    pub number: i64,
    pub invoice_type: types::InvoiceType,
    pub date: NaiveDate,
    pub due_date: NaiveDate,
    pub currency: String,
    pub total: Decimal,
    pub payment_reference: String,
    pub status: types::InvoiceStatus,
    pub payment_control: bool,
    pub buyer_name: String,
    pub received_at: DateTime<Utc>,
    pub case_id: Option<i64>,
    pub distribution: Option<DistributionRecord>,
    /// SHA-256 of the submitted request, to recognise an identical re-submission.
    pub request_hash: [u8; 32],
    /// The distribution status the database holds for it (wire name), to keep the counts of
    /// distributions in step when it changes; none for an invoice not stored yet.
    #[serde(skip)]
    pub stored_status: Option<String>,
}

impl InvoiceRecord {
    /// When its pending distribution completes (none pending: `None`).
    pub fn distributes_at(&self) -> Option<DateTime<Utc>> {
        self.distribution
            .as_ref()
            .filter(|d| d.status == types::DistributionStatus::Pending)
            .map(|d| d.created_at + DISTRIBUTION_DELAY)
    }

    /// The day it becomes overdue, while it is payment-controlled, invoiced and unpaid: the day
    /// after its due date.
    pub fn overdue_on(&self) -> Option<NaiveDate> {
        (self.payment_control && self.status == types::InvoiceStatus::Invoiced)
            .then(|| self.due_date.succ_opt().unwrap_or(self.due_date))
    }

    /// The day it reaches the debtor, if it will: decided at creation (its distribution is
    /// pending and deliverable).
    pub fn delivers_on(&self) -> Option<NaiveDate> {
        self.distribution
            .as_ref()
            .filter(|d| d.status == types::DistributionStatus::Pending && d.undeliverable.is_none())
            .map(|d| (d.created_at + DISTRIBUTION_DELAY).date_naive())
    }
}

/// The distribution of one invoice.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DistributionRecord {
    pub method: types::DistributionMethod,
    pub status: types::DistributionStatus,
    pub created_at: DateTime<Utc>,
    pub distributed_at: Option<DateTime<Utc>>,
    pub error_message: Option<String>,
    pub recipient: Option<String>,
    /// Why delivery will fail, decided at creation from the delivery data.
    pub(crate) undeliverable: Option<String>,
}

impl DistributionRecord {
    pub fn succeeded(&self) -> bool {
        matches!(
            self.status,
            types::DistributionStatus::Sent | types::DistributionStatus::Delivered
        )
    }

    pub fn failed(&self) -> bool {
        self.status == types::DistributionStatus::Failed
    }
}
