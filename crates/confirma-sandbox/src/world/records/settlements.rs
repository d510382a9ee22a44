//! Settlements as stored: what the agency paid a client in one run, and for which payments.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SettlementRecord {
    pub settlement: Settlement,
    pub client_id: i64,
}

/// One settlement (its names are those it has always been stored under).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settlement {
    pub agency: String,
    pub allocations: Vec<Allocation>,
    /// When the client's integration first fetched it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_fetch_date: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<Beneficiary>,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remittance_reference: Option<String>,
    pub settlement_amount: Decimal,
    pub settlement_date: NaiveDate,
    pub settlement_id: i64,
}

/// One payment a settlement pays out, split into what it paid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Allocation {
    pub allocated_total_amount: Decimal,
    pub allocation_date: NaiveDate,
    pub allocation_id: i64,
    pub breakdown: Vec<Part>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<i64>,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_invoice_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_payment_reference: Option<String>,
}

/// One part of an allocation: capital, interest or fees.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part {
    pub amount: Decimal,
    #[serde(rename = "type")]
    pub kind: PartKind,
}

stored_enum! {
    /// What a part of an allocation paid.
    pub enum PartKind {
        Capital = "CAPITAL",
        Interest = "INTEREST",
        Fees = "FEES",
    }
}

/// Who a settlement was paid to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Beneficiary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}
