//! The shortcuts that combine operations: `wait-distributed` (poll until an invoice's
//! distribution is final) and `invoice-status` ("what happened to invoice N?").

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use confirma_client::types::{DistributionRecord, DistributionStatus};
use confirma_client::{Client, answer};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::Failure;
use crate::cli::{InvoiceStatus, Output, WaitDistributed};
use crate::output::{self, print_json, render, to_value};

/// The invoice's own records from a distribution answer (a filter the service may or may not
/// apply, so it is applied here too).
async fn records_of(client: &Client, invoice: i64) -> Result<Vec<DistributionRecord>, Failure> {
    let distributions = answer(
        client
            .get_distribution_information()
            .invoice_number(invoice)
            .send(),
    )
    .await?;
    Ok(distributions
        .distributions
        .into_iter()
        .filter(|r| r.invoice_number == invoice)
        .collect())
}

fn is_final(status: DistributionStatus) -> bool {
    matches!(
        status,
        DistributionStatus::Sent | DistributionStatus::Delivered | DistributionStatus::Failed
    )
}

pub async fn wait_distributed(
    client: &Client,
    args: WaitDistributed,
    out: Output,
) -> Result<(), Failure> {
    let invoice = args.invoice_number;
    // Progress goes to standard error and only to a terminal: piped output stays the record.
    let progress = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar.set_message(format!("invoice {invoice}: asking"));
        bar
    });
    let started = Instant::now();
    loop {
        let record = records_of(client, invoice).await;
        let record = match record {
            Ok(records) => records.into_iter().next(),
            Err(failure) => {
                if let Some(bar) = &progress {
                    bar.finish_and_clear();
                }
                return Err(failure);
            }
        };
        if let Some(record) = record.as_ref().filter(|r| is_final(r.status)) {
            if let Some(bar) = &progress {
                bar.finish_and_clear();
            }
            match out {
                Output::Table => print!(
                    "{}",
                    render(&json!([to_value(record)]), &output::DISTRIBUTION_RECORDS)
                ),
                Output::Json => print_json(record),
            }
            if record.status == DistributionStatus::Failed {
                let reason = record.error_message.as_deref().unwrap_or("no reason given");
                return Err(Failure::Outcome {
                    code: 1,
                    message: format!("invoice {invoice}: distribution failed: {reason}"),
                });
            }
            return Ok(());
        }
        let state = record.map_or("not listed yet".to_string(), |r| r.status.to_string());
        let elapsed = started.elapsed();
        if elapsed >= args.timeout {
            if let Some(bar) = &progress {
                bar.finish_and_clear();
            }
            return Err(Failure::Outcome {
                code: 5,
                message: format!(
                    "invoice {invoice}: distribution still {state} after {}",
                    humane(args.timeout)
                ),
            });
        }
        if let Some(bar) = &progress {
            bar.set_message(format!("invoice {invoice}: {state}"));
        }
        tokio::time::sleep(args.interval.min(args.timeout - elapsed)).await;
    }
}

fn humane(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

pub async fn invoice_status(
    client: &Client,
    args: InvoiceStatus,
    out: Output,
) -> Result<(), Failure> {
    let invoice = args.invoice_number;
    let records = records_of(client, invoice).await?;
    let mut case_ids: Vec<i64> = records.iter().filter_map(|r| r.case_id).collect();
    case_ids.dedup();

    let mut cases = Vec::new();
    if records.is_empty() {
        // The distribution information covers the last 30 days by default, but the case
        // details can be asked by invoice number directly; 404 means there is no case.
        match client
            .get_case_details()
            .invoice_number(invoice)
            .send()
            .await
        {
            Ok(details) => cases.push(details.into_inner().case),
            Err(error) if error.status().is_some_and(|s| s.as_u16() == 404) => {}
            Err(error) => return Err(Failure::Api(confirma_client::ApiError::read(error).await)),
        }
    }
    for case_id in case_ids {
        cases.push(
            answer(client.get_case_details().case_id(case_id).send())
                .await?
                .case,
        );
    }
    if records.is_empty() && cases.is_empty() {
        return Err(Failure::Outcome {
            code: 3,
            message: format!(
                "no distribution record and no case found for invoice {invoice} \
                 (distribution information covers the last 30 days)"
            ),
        });
    }

    let cases: Vec<_> = cases
        .iter()
        .map(|case| json!({"summary": to_value(&case.summary), "balance": to_value(&case.balance)}))
        .collect();
    let distributions = to_value(&records);
    match out {
        Output::Json => print_json(
            &json!({"invoiceNumber": invoice, "distributions": distributions, "cases": cases}),
        ),
        Output::Table => {
            println!("Invoice {invoice}\n\nDistribution");
            print!("{}", render(&distributions, &output::DISTRIBUTION_RECORDS));
            println!("\nCase");
            print!("{}", render(&json!(cases), &output::CASE_SUMMARIES));
        }
    }
    Ok(())
}
