//! The rules: pure functions that take loaded records and decide, a refusal or the records to
//! write. They know nothing of storage or HTTP; the aggregates (`world/*.rs`) load what a rule
//! needs through `tables`, call it, and write what it decides. One module per aggregate's rules,
//! unit-tested without a database.

pub mod cases;
pub mod invoices;
pub mod settlements;
