//! How the generated types (de)serialize their amounts (`#[serde(with = "crate::decimal::…")]`):
//! as exact JSON numbers through `serde_json`'s arbitrary precision, which this crate (a server,
//! not a library partners add to their applications) turns on.

/// For a `Decimal` field.
pub mod exact {
    pub use rust_decimal::serde::arbitrary_precision::{deserialize, serialize};
}

/// For an `Option<Decimal>` field.
pub mod exact_option {
    pub use rust_decimal::serde::arbitrary_precision_option::{deserialize, serialize};
}
