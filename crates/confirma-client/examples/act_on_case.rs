//! Act on a collection case: submit an invoice, let it fall overdue, read its case with
//! `get_case_details`, then send actions with `create_invoice_actions` — a COMMENT, a new
//! DUEDATE and a DIRECTPAYMENT the debtor paid to the creditor — and compare the balance
//! before and after. Also shows a refused request: actions are all-or-nothing, and the
//! refusal names the offending field.
//!
//! Against a local sandbox (`cargo run -p confirma-sandbox -- --in-memory`, which prints the
//! tokens):
//!
//! ```sh
//! CONFIRMA_BASE_URL=http://127.0.0.1:8080 CONFIRMA_API_KEY=<demo client token> \
//! CONFIRMA_SANDBOX_ADMIN_TOKEN=<admin token> \
//!     cargo run -p confirma-client --example act_on_case
//! ```

mod common;

use std::error::Error;

use chrono::{Days, NaiveDate};
use confirma_client::types::{self, ActionCode, CaseBalance};
use confirma_client::{ApiError, Client};
use rust_decimal::Decimal;
use serde_json::json;

/// This example's invoice number (each example has its own range).
const INVOICE_NUMBER: i64 = 920_001;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let client = common::connect_from_env()?;
    let sandbox = common::Sandbox::from_env()?;

    let today = sandbox.today().await?;
    println!("== Submitting invoice {INVOICE_NUMBER} dated {today}, due in two weeks");
    let created = common::submit_invoice(&client, INVOICE_NUMBER, today).await?;
    let number = created.invoice_number;
    let case_id = created
        .case_id
        .ok_or("the invoice is not in payment control, so it has no case")?;
    println!("   {}: invoice {number}, case {case_id}", created.status);

    // Past the due date and the reminder delay: overdue, reminded, fee and interest charged.
    let now = sandbox.advance(json!({ "days": 23 })).await?;
    let today = now.date_naive();
    println!("== Sandbox clock advanced 23 days, to {today}");
    let before = case(&client, case_id).await?;
    println!(
        "   case {case_id}: {} / {}, invoice {}",
        before.summary.status,
        before.summary.stage,
        before
            .invoice
            .as_ref()
            .map_or("-".into(), |i| i.status.to_string()),
    );
    print_balance("balance before", &before.balance);

    // A refused request changes nothing: more than the outstanding amount cannot be paid.
    let too_much = before.balance.total_amount + Decimal::ONE_HUNDRED;
    let refused = client
        .create_invoice_actions()
        .body(types::InvoiceActionsRequest {
            actions: vec![
                comment(number, "Called the buyer: payment promised")?,
                direct_payment(number, case_id, too_much, today)?,
            ],
        })
        .call()
        .await;
    match refused {
        Err(error @ ApiError::Api { .. }) if error.is_client_error() => {
            println!("== Refused as expected: {error}");
            for problem in error.field_errors() {
                println!("   {}: {}", problem.path, problem.message);
            }
        }
        Err(other) => return Err(other.into()),
        Ok(_) => return Err("a direct payment above the balance was accepted".into()),
    }

    // The real request: a comment, a new case due date, and 100.00 paid directly.
    let new_due_date = today + Days::new(30);
    let paid: Decimal = "100.00".parse()?;
    println!("== Sending COMMENT, DUEDATE {new_due_date} and DIRECTPAYMENT {paid}");
    let applied = client
        .create_invoice_actions()
        .body(types::InvoiceActionsRequest {
            actions: vec![
                comment(number, "Called the buyer: payment promised")?,
                types::InvoiceAction::builder()
                    .code(ActionCode::Duedate)
                    .comment(Some(
                        "New due date agreed with the buyer"
                            .parse::<types::InvoiceActionComment>()?,
                    ))
                    .data(
                        types::InvoiceActionData::builder()
                            .invoice_number(number)
                            .case_id(Some(case_id))
                            .due_date(Some(new_due_date)),
                    )
                    .try_into()?,
                direct_payment(number, case_id, paid, today)?,
            ],
        })
        .call()
        .await?;
    for result in &applied.results {
        println!(
            "   action {} {}: {}",
            result.action_id, result.code, result.status
        );
    }

    let after = case(&client, case_id).await?;
    print_balance("balance after ", &after.balance);
    println!(
        "   case due date now {}",
        after
            .invoice
            .as_ref()
            .and_then(|i| i.case_due_date)
            .map_or("-".into(), |d| d.to_string())
    );
    let dropped = before.balance.total_amount - after.balance.total_amount;
    println!("   the balance dropped by {dropped} (costs first, then interest, then capital)");
    if dropped != paid {
        return Err(format!("expected the balance to drop by {paid}, not {dropped}").into());
    }
    println!("act_on_case: OK");
    Ok(())
}

async fn case(client: &Client, case_id: i64) -> Result<types::CaseDetails, ApiError> {
    Ok(client
        .get_case_details()
        .case_id(case_id)
        .call()
        .await?
        .case)
}

fn print_balance(label: &str, b: &CaseBalance) {
    println!(
        "   {label}: total {} = capital {} + interest {} + costs {} (paid so far {})",
        b.total_amount,
        b.capital_amount,
        b.interest_amount,
        b.costs_amount,
        b.paid_amount.unwrap_or_default()
    );
}

fn comment(invoice_number: i64, text: &str) -> Result<types::InvoiceAction, Box<dyn Error>> {
    Ok(types::InvoiceAction::builder()
        .code(ActionCode::Comment)
        .comment(Some(text.parse::<types::InvoiceActionComment>()?))
        .data(types::InvoiceActionData::builder().invoice_number(invoice_number))
        .try_into()?)
}

fn direct_payment(
    invoice_number: i64,
    case_id: i64,
    amount: Decimal,
    date: NaiveDate,
) -> Result<types::InvoiceAction, Box<dyn Error>> {
    Ok(types::InvoiceAction::builder()
        .code(ActionCode::Directpayment)
        .comment(Some(
            "Paid to our account".parse::<types::InvoiceActionComment>()?,
        ))
        .data(
            types::InvoiceActionData::builder()
                .invoice_number(invoice_number)
                .case_id(Some(case_id))
                .amount(Some(amount))
                .currency(Some("EUR".parse::<types::InvoiceActionDataCurrency>()?))
                .payment_date(Some(date))
                .payment_method(Some(
                    "Bank transfer".parse::<types::InvoiceActionDataPaymentMethod>()?,
                )),
        )
        .try_into()?)
}
