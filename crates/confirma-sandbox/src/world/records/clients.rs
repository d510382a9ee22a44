//! Clients and their tokens as stored.

use chrono::{DateTime, Utc};
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
    pub service: ServiceType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounting_system: Option<AccountingSystem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bic: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct TokenRecord {
    /// The space of the client (a token alone finds its space).
    pub space: super::spaces::SpaceId,
    pub client_id: i64,
    pub hash: [u8; 32],
    pub expires_at: Option<DateTime<Utc>>,
}

stored_enum! {
    /// The service a client bought.
    pub enum ServiceType {
        Lifecycle = "LIFECYCLE",
        Intermediation = "INTERMEDIATION",
        DebtCollection = "DEBT_COLLECTION",
        CoOp = "CO_OP",
    }
}

stored_enum! {
    /// The accounting system a client's books are kept in.
    pub enum AccountingSystem {
        Netvisor = "NETVISOR",
        Procountor = "PROCOUNTOR",
        Netbaron = "NETBARON",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A lifecycle client with the payment-reference prefix 1044 and a bank account.
    pub(crate) fn client() -> ClientRecord {
        ClientRecord {
            id: 1000,
            name: "Vaasan Tekniikka Oy".into(),
            business_id: "2942108-7".into(),
            customer_code: "C1000".into(),
            payment_reference_prefix: "1044".into(),
            service: ServiceType::Lifecycle,
            accounting_system: None,
            iban: Some("FI5657122300048216".into()),
            bic: Some("OKOYFIHH".into()),
            created_at: "2026-03-02T08:00:00Z".parse().unwrap(),
        }
    }
}
