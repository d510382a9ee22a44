//! One arm per subcommand: build the generated client's request from the flags, send it, print
//! the answer.

use std::io::Read;
use std::path::Path;

use confirma_client::types::ErrorResponse;
use confirma_client::{ApiError, Client, ResponseValue};

use crate::Failure;
use crate::cli::{Body, Command, Output};
use crate::output::{self, print};
use crate::support;

pub async fn run(client: &Client, command: Command, out: Output) -> Result<(), Failure> {
    match command {
        Command::CreateClient(b) => {
            let answer = client
                .send_json("createClient", &[], Some(read_body(&b)?))
                .await?;
            print(&answer, out, None);
        }
        Command::ValidateToken => {
            print(&send(client.validate_token().send()).await?, out, None);
        }
        Command::RenewToken => {
            print(&send(client.renew_token().send()).await?, out, None);
        }
        Command::CreateInvoice(b) => {
            let answer = client
                .send_json("createInvoice", &[], Some(read_body(&b)?))
                .await?;
            print(&answer, out, None);
        }
        Command::CreateInvoiceActions(b) => {
            let answer = client
                .send_json("createInvoiceActions", &[], Some(read_body(&b)?))
                .await?;
            print(&answer, out, None);
        }
        Command::GetCaseDetails(q) => {
            let request = client
                .get_case_details()
                .apply(q.case_id, |r, v| r.case_id(v))
                .apply(q.invoice_number, |r, v| r.invoice_number(v));
            print(&send(request.send()).await?, out, None);
        }
        Command::GetDistributionInformation(q) => {
            let request = client
                .get_distribution_information()
                .apply(q.invoice_number, |r, v| r.invoice_number(v))
                .apply(q.from_inv_date, |r, v| r.from_inv_date(v))
                .apply(q.to_inv_date, |r, v| r.to_inv_date(v))
                .apply(q.fetch_type, |r, v| r.fetch_type(v));
            print(
                &send(request.send()).await?,
                out,
                Some(&output::DISTRIBUTIONS),
            );
        }
        Command::GetDistributionInformationV2(q) => {
            let f = q.filters;
            let request = client
                .get_distribution_information_v2()
                .apply(f.invoice_number, |r, v| r.invoice_number(v))
                .apply(f.from_inv_date, |r, v| r.from_inv_date(v))
                .apply(f.to_inv_date, |r, v| r.to_inv_date(v))
                .apply(f.fetch_type, |r, v| r.fetch_type(v))
                .apply(q.status, |r, v| r.status(v))
                .apply(q.method, |r, v| r.method(v))
                .apply(q.page, |r, v| r.page(v))
                .apply(q.page_size, |r, v| r.page_size(v));
            print(
                &send(request.send()).await?,
                out,
                Some(&output::DISTRIBUTION_PAGE),
            );
        }
        Command::GetPayments(q) => {
            let request = client
                .get_payments()
                .apply(q.from_date, |r, v| r.from_date(v))
                .apply(q.to_date, |r, v| r.to_date(v))
                .apply(q.invoice_number, |r, v| r.invoice_number(v))
                .apply(q.case_id, |r, v| r.case_id(v));
            print(&send(request.send()).await?, out, Some(&output::PAYMENTS));
        }
        Command::GetSettlements(q) => {
            let request = client
                .get_settlements()
                .apply(q.from_date, |r, v| r.from_date(v))
                .apply(q.to_date, |r, v| r.to_date(v))
                .apply(q.unfetched_only.then_some(true), |r, v| r.unfetched_only(v));
            print(
                &send(request.send()).await?,
                out,
                Some(&output::SETTLEMENTS),
            );
        }
        Command::SubmitAccountingInvoice(b) => {
            let answer = client
                .send_json("submitAccountingInvoice", &[], Some(read_body(&b)?))
                .await?;
            print(&answer, out, None);
        }
        Command::SubmitLedger(b) => {
            let answer = client
                .send_json("submitLedger", &[], Some(read_body(&b)?))
                .await?;
            print(&answer, out, None);
        }
        Command::GetLedgerStatus(q) => {
            let answer = client
                .get_ledger_status()
                .apply(q.from_date, |r, v| r.from_date(v))
                .apply(q.to_date, |r, v| r.to_date(v))
                .apply(q.ledger_identifier, |r, v| r.ledger_identifier(v))
                .send_or_empty()
                .await?;
            print(&answer, out, Some(&output::LEDGER_STATUS));
        }
        Command::SubmitAccountingPayments(b) => {
            let answer = client
                .send_json("submitAccountingPayments", &[], Some(read_body(&b)?))
                .await?;
            print(&answer, out, None);
        }
        Command::GetAccountingPaymentStatus(q) => {
            let answer = client
                .get_accounting_payment_status()
                .apply(q.from_date, |r, v| r.from_date(v))
                .apply(q.to_date, |r, v| r.to_date(v))
                .apply(q.payment_identifier, |r, v| r.payment_identifier(v))
                .send_or_empty()
                .await?;
            print(&answer, out, Some(&output::ACCOUNTING_PAYMENT_STATUS));
        }
        Command::GetFinvoiceCredentials(q) => {
            let request = client.get_finvoice_credentials().business_id(q.business_id);
            print(
                &send(request.send()).await?,
                out,
                Some(&output::FINVOICE_CREDENTIALS),
            );
        }
        Command::WaitDistributed(args) => support::wait_distributed(client, args, out).await?,
        Command::InvoiceStatus(args) => support::invoice_status(client, args, out).await?,
    }
    Ok(())
}

/// Sets an optional flag on a request builder: `request.apply(flag, |r, v| r.setter(v))`.
trait Apply: Sized {
    fn apply<V>(self, value: Option<V>, set: impl FnOnce(Self, V) -> Self) -> Self {
        match value {
            Some(value) => set(self, value),
            None => self,
        }
    }
}

impl<T> Apply for T {}

/// Awaits a generated `send()`; an undocumented answer's body is kept for the error message.
pub async fn send<T>(
    request: impl Future<Output = Result<ResponseValue<T>, confirma_client::Error<ErrorResponse>>>,
) -> Result<T, Failure> {
    match request.await {
        Ok(answer) => Ok(answer.into_inner()),
        Err(error) => Err(Failure::Api(ApiError::read(error).await)),
    }
}

/// Reads `--body` (a file, or `-` for standard input) as it is: the API validates it.
fn read_body(body: &Body) -> Result<Vec<u8>, Failure> {
    let path = body
        .body
        .as_deref()
        .ok_or_else(|| Failure::Usage("no --body (and this operation has no template)".into()))?;
    let (name, bytes) = if path == Path::new("-") {
        let mut bytes = Vec::new();
        let read = std::io::stdin().read_to_end(&mut bytes);
        ("standard input".to_string(), read.map(|_| bytes))
    } else {
        (path.display().to_string(), std::fs::read(path))
    };
    bytes.map_err(|e| Failure::Usage(format!("cannot read --body {name}: {e}")))
}

/// The operationId of a subcommand that takes a body, and its body arguments.
fn body_operation(command: &Command) -> Option<(&'static str, &Body)> {
    Some(match command {
        Command::CreateClient(b) => ("createClient", b),
        Command::CreateInvoice(b) => ("createInvoice", b),
        Command::CreateInvoiceActions(b) => ("createInvoiceActions", b),
        Command::SubmitAccountingInvoice(b) => ("submitAccountingInvoice", b),
        Command::SubmitLedger(b) => ("submitLedger", b),
        Command::SubmitAccountingPayments(b) => ("submitAccountingPayments", b),
        _ => return None,
    })
}

/// With `--body-template`: the spec's example body of the subcommand's operation.
pub fn body_template(command: &Command) -> Option<&'static str> {
    let (operation_id, body) = body_operation(command)?;
    if !body.body_template {
        return None;
    }
    confirma_client::operation(operation_id).and_then(|op| op.request_example)
}
