//! Reconcile settlements with payments: a debtor pays an invoice to the collection agency in
//! two instalments, the weekly (Monday) settlement pays it out, and the integration fetches
//! what is new with [`Client::sync_new_settlements`] (incremental, `unfetchedOnly`), then
//! matches every settlement allocation to the payment of the same allocation id from
//! `get_payments` (fetched over the period in the API's date windows with `send_in_windows`).
//! Prints a small reconciliation and exits non-zero on any mismatch.
//!
//! Against a local sandbox (`cargo run -p confirma-sandbox -- --in-memory`, which prints the
//! tokens):
//!
//! ```sh
//! CONFIRMA_BASE_URL=http://127.0.0.1:8080 CONFIRMA_API_KEY=<demo client token> \
//! CONFIRMA_SANDBOX_ADMIN_TOKEN=<admin token> \
//!     cargo run -p confirma-client --example reconcile
//! ```
//!
//! [`Client::sync_new_settlements`]: confirma_client::Client::sync_new_settlements

mod common;

use std::collections::BTreeSet;
use std::error::Error;

use confirma_client::types::{Payment, Settlement, SettlementAllocation, SettlementBreakdownType};
use confirma_client::{ApiError, Client};
use rust_decimal::Decimal;

/// This example's invoice number (each example has its own range).
const INVOICE_NUMBER: i64 = 930_001;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let client = common::connect_from_env()?;
    let sandbox = common::Sandbox::from_env()?;

    let today = sandbox.today().await?;
    println!("== Submitting invoice {INVOICE_NUMBER} dated {today}");
    let created = common::submit_invoice(&client, INVOICE_NUMBER, today).await?;
    let number = created.invoice_number;
    let reference = created
        .payment_reference
        .ok_or("the service assigned no payment reference")?;
    let case_id = created
        .case_id
        .ok_or("the invoice has no collection case")?;
    println!("   invoice {number}, reference {reference}, case {case_id}");

    // The debtor pays by reference number, in two instalments.
    let first: Decimal = "400.00".parse()?;
    sandbox.pay(&reference, first).await?;
    let rest = outstanding(&client, case_id).await?;
    sandbox.pay(&reference, rest).await?;
    println!("== The debtor paid {first} and {rest} with reference {reference}");

    let now = sandbox.advance_to_monday().await?;
    println!("== Sandbox clock advanced to Monday {}", now.date_naive());

    // Incremental sync: each settlement arrives once. Persist them before processing.
    let settlements = client.sync_new_settlements().await?;
    println!("== {} new settlement(s)", settlements.len());
    if settlements.is_empty() {
        return Err("no new settlement after the Monday run".into());
    }

    // The payments behind them, over the whole period the allocations cover.
    let from = settlements
        .iter()
        .flat_map(|s| s.allocations.iter().map(|a| a.allocation_date))
        .chain([today])
        .min()
        .expect("at least today");
    let payments = client
        .get_payments()
        .send_in_windows(from, now.date_naive())
        .await?;
    println!(
        "   {} payment(s) dated {from}..={}",
        payments.len(),
        now.date_naive()
    );

    let mut problems = Vec::new();
    let mut settled = BTreeSet::new();
    println!();
    println!(
        "{:<14} {:>10} {:<10} {:>10} {:>10} {:>10} {:>10}  RESULT",
        "SETTLEMENT", "ALLOCATION", "INVOICE", "AMOUNT", "CAPITAL", "INTEREST", "FEES"
    );
    for settlement in &settlements {
        check_total(settlement, &mut problems);
        for allocation in &settlement.allocations {
            settled.insert(allocation.allocation_id);
            let payment = payments
                .iter()
                .find(|p| p.allocation_id == Some(allocation.allocation_id));
            let verdict = match payment {
                None => Err("no payment with this allocation id".to_string()),
                Some(p) => compare(allocation, p),
            };
            println!(
                "{:<14} {:>10} {:<10} {:>10} {:>10} {:>10} {:>10}  {}",
                settlement.settlement_id,
                allocation.allocation_id,
                allocation
                    .original_invoice_number
                    .as_deref()
                    .map_or("-", |n| n.as_str()),
                allocation.allocated_total_amount,
                part(allocation, SettlementBreakdownType::Capital),
                part(allocation, SettlementBreakdownType::Interest),
                part(allocation, SettlementBreakdownType::Fees),
                verdict.as_ref().map_or("MISMATCH", |()| "ok"),
            );
            if let Err(problem) = verdict {
                problems.push(format!(
                    "settlement {} allocation {}: {problem}",
                    settlement.settlement_id, allocation.allocation_id
                ));
            }
        }
    }
    println!();
    for settlement in &settlements {
        println!(
            "settlement {} on {}: {} {} to {}",
            settlement.settlement_id,
            settlement.settlement_date,
            settlement.settlement_amount,
            settlement.currency.as_str(),
            settlement
                .beneficiary
                .as_ref()
                .and_then(|b| b.iban.as_deref())
                .map_or("-", |i| i.as_str()),
        );
    }

    // Every payment of this invoice must have been paid out.
    let ours: Vec<&Payment> = payments
        .iter()
        .filter(|p| p.invoice_number.as_str() == number.to_string())
        .collect();
    for p in &ours {
        if !p.allocation_id.is_some_and(|id| settled.contains(&id)) {
            problems.push(format!(
                "payment {} of invoice {number} ({:?}) is in no new settlement",
                p.payment_amount, p.allocation_id
            ));
        }
    }
    println!(
        "invoice {number}: {} payment(s), {} settled",
        ours.len(),
        ours.iter()
            .filter(|p| p.allocation_id.is_some_and(|id| settled.contains(&id)))
            .count()
    );

    if problems.is_empty() {
        println!("reconcile: OK");
        Ok(())
    } else {
        for problem in &problems {
            eprintln!("mismatch: {problem}");
        }
        Err(format!("{} reconciliation mismatch(es)", problems.len()).into())
    }
}

/// What is still to pay on the case.
async fn outstanding(client: &Client, case_id: i64) -> Result<Decimal, ApiError> {
    Ok(client
        .get_case_details()
        .case_id(case_id)
        .call()
        .await?
        .case
        .balance
        .total_amount)
}

/// The allocation's part of one kind (capital, interest, fees).
fn part(allocation: &SettlementAllocation, kind: SettlementBreakdownType) -> Decimal {
    allocation
        .breakdown
        .iter()
        .filter(|b| b.type_ == kind)
        .map(|b| b.amount)
        .sum()
}

/// A settlement pays out exactly the sum of its allocations.
fn check_total(settlement: &Settlement, problems: &mut Vec<String>) {
    let sum: Decimal = settlement
        .allocations
        .iter()
        .map(|a| a.allocated_total_amount)
        .sum();
    if sum != settlement.settlement_amount {
        problems.push(format!(
            "settlement {} pays {} but its allocations sum to {sum}",
            settlement.settlement_id, settlement.settlement_amount
        ));
    }
}

/// An allocation and its payment agree on amount, split, case and invoice.
fn compare(allocation: &SettlementAllocation, payment: &Payment) -> Result<(), String> {
    let zero = Decimal::ZERO;
    let checks = [
        (
            "amount",
            allocation.allocated_total_amount,
            payment.payment_amount,
        ),
        (
            "capital",
            part(allocation, SettlementBreakdownType::Capital),
            payment.capital_amount.unwrap_or(zero),
        ),
        (
            "interest",
            part(allocation, SettlementBreakdownType::Interest),
            payment.interest_amount.unwrap_or(zero),
        ),
        (
            "fees",
            part(allocation, SettlementBreakdownType::Fees),
            payment.costs_amount.unwrap_or(zero),
        ),
    ];
    for (what, settled, paid) in checks {
        if settled != paid {
            return Err(format!("{what} settled {settled}, paid {paid}"));
        }
    }
    if allocation.case_id.is_some_and(|c| c != payment.case_id) {
        return Err(format!(
            "case {:?} settled, payment on case {}",
            allocation.case_id, payment.case_id
        ));
    }
    if allocation
        .original_invoice_number
        .as_deref()
        .is_some_and(|n| n.as_str() != payment.invoice_number.as_str())
    {
        return Err(format!(
            "invoice {:?} settled, payment on invoice {}",
            allocation.original_invoice_number,
            payment.invoice_number.as_str()
        ));
    }
    Ok(())
}
