//! The records the sandbox stores, one module per aggregate, and the facts that follow from a
//! record alone (when an invoice distributes and falls due, how a case escalates and accrues
//! interest, what a filter admits). Records know nothing of the tables they are stored in, of
//! the rules that change them, or of HTTP: [`super::tables`] reads and writes them, the
//! aggregates' rules decide with them.

pub mod accounting;
pub mod cases;
pub mod clients;
pub mod filters;
pub mod invoices;
pub mod settlements;
