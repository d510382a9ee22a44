//! Clients and their tokens as stored.

use chrono::{DateTime, Utc};
use confirma_server::types;
use serde::{Deserialize, Serialize};

/// One onboarded client.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClientRecord {
    pub id: i64,
    pub name: String,
    pub business_id: String,
    pub customer_code: String,
    /// Digits every payment reference of this client starts with.
    pub payment_reference_prefix: String,
    pub service: types::ServiceType,
    pub accounting_system: Option<types::AccountingSystem>,
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct TokenRecord {
    pub client_id: i64,
    pub hash: [u8; 32],
    pub expires_at: Option<DateTime<Utc>>,
}
