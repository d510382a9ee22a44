//! Settlements as stored.

use confirma_server::types;

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SettlementRecord {
    pub settlement: types::Settlement,
    pub client_id: i64,
}
