//! Adding confirma-client to an application changes none of its own behaviour, and amounts stay
//! exact. Each check prints what it saw; any failure exits non-zero.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The application's own type with a flattened part holding a float (what
/// `serde_json/arbitrary_precision` breaks).
#[derive(Deserialize, Debug)]
struct Reading {
    name: String,
    #[serde(flatten)]
    measure: Measure,
}

#[derive(Deserialize, Debug)]
struct Measure {
    ratio: f64,
}

/// The application's own decimal (which `rust_decimal/serde-float` would turn into a number).
#[derive(Serialize)]
struct Price {
    amount: Decimal,
}

fn main() {
    let reading: Reading = serde_json::from_str(r#"{"name": "a", "ratio": 0.5}"#)
        .expect("a flattened struct with an f64 still deserializes");
    assert_eq!((reading.name.as_str(), reading.measure.ratio), ("a", 0.5));
    println!("ok: the application's flattened f64 deserializes");

    let price = serde_json::to_string(&Price {
        amount: Decimal::from_str("1.50").unwrap(),
    })
    .unwrap();
    assert_eq!(price, r#"{"amount":"1.50"}"#, "the application's Decimal is unchanged");
    println!("ok: the application's own Decimal is still written as {price}");

    // The client's amounts: exact numbers both ways.
    let settlement: confirma_client::types::Settlement = serde_json::from_str(
        r#"{"settlementId": 202603300001, "settlementDate": "2026-03-30", "settlementAmount": 1240.50,
            "currency": "EUR", "agency": "CASH-IN", "allocations": [{"allocationId": 9001001,
            "allocationDate": "2026-03-27", "allocatedTotalAmount": -2382.47, "currency": "EUR",
            "breakdown": [{"type": "CAPITAL", "amount": 70.71}]}]}"#,
    )
    .expect("a settlement");
    assert_eq!(settlement.settlement_amount, Decimal::from_str("1240.50").unwrap());
    let allocation = &settlement.allocations[0];
    assert_eq!(allocation.allocated_total_amount.to_string(), "-2382.47");
    assert_eq!(allocation.breakdown[0].amount.to_string(), "70.71");
    println!("ok: amounts read exactly (1240.50, -2382.47, 70.71)");

    let mut item = allocation.breakdown[0].clone();
    item.amount = Decimal::from_str("0.10").unwrap() + Decimal::from_str("0.20").unwrap();
    let written = serde_json::to_string(&item).unwrap();
    assert!(written.contains(r#""amount":0.30"#), "{written}");
    println!("ok: amounts are written as exact JSON numbers: {written}");
}
