//! Submit an invoice and follow its distribution until it is delivered: `create_invoice`, then
//! `get_distribution_information` by invoice number while the sandbox clock moves on (the
//! print and distribution service delivers a few minutes after submission).
//!
//! Against a local sandbox (`cargo run -p confirma-sandbox -- --in-memory`, which prints the
//! tokens):
//!
//! ```sh
//! CONFIRMA_BASE_URL=http://127.0.0.1:8080 CONFIRMA_API_KEY=<demo client token> \
//! CONFIRMA_SANDBOX_ADMIN_TOKEN=<admin token> \
//!     cargo run -p confirma-client --example invoice_distribution
//! ```
//!
//! Against the real service you would wait between the checks instead of moving a clock.

mod common;

use std::error::Error;

use confirma_client::types::DistributionStatus;
use serde_json::json;

/// This example's invoice number (each example has its own range).
const INVOICE_NUMBER: i64 = 910_001;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let client = common::connect_from_env()?;
    let sandbox = common::Sandbox::from_env()?;

    let today = sandbox.today().await?;
    println!("== Submitting invoice {INVOICE_NUMBER} dated {today}");
    let created = common::submit_invoice(&client, INVOICE_NUMBER, today).await?;
    let number = created.invoice_number;
    println!(
        "   {}: invoice {number}, payment reference {}, case {}",
        created.status,
        created
            .payment_reference
            .as_ref()
            .map_or("-".to_string(), |r| r.to_string()),
        created.case_id.map_or("-".to_string(), |c| c.to_string()),
    );

    println!("== Following its distribution");
    for _ in 0..12 {
        let answer = client
            .get_distribution_information()
            .invoice_number(number)
            .call()
            .await?;
        // Filter here too: the record of this invoice, whatever else the service sends.
        let record = answer
            .distributions
            .into_iter()
            .find(|r| r.invoice_number == number);
        match record {
            None => println!("   not listed yet"),
            Some(r) => match r.status {
                DistributionStatus::Delivered | DistributionStatus::Sent => {
                    println!(
                        "   {} by {} to {} at {}; the invoice is {}",
                        r.status,
                        r.method,
                        r.recipient.as_deref().map_or("-", |s| s.as_str()),
                        r.distributed_at.map_or("-".to_string(), |t| t.to_rfc3339()),
                        r.invoice_status,
                    );
                    println!("invoice_distribution: OK");
                    return Ok(());
                }
                DistributionStatus::Failed => {
                    return Err(format!(
                        "distribution of invoice {number} failed: {}",
                        r.error_message.as_deref().unwrap_or("no reason given")
                    )
                    .into());
                }
                DistributionStatus::Pending | DistributionStatus::Processing => {
                    println!("   {} (since {})", r.status, r.created_at.to_rfc3339());
                }
            },
        }
        // The sandbox's time only moves when told to; the real service's moves by itself.
        let now = sandbox.advance(json!({ "minutes": 2 })).await?;
        println!("   ... sandbox clock advanced to {}", now.to_rfc3339());
    }
    Err(format!("invoice {number} was still not delivered").into())
}
