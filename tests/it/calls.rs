//! One client call per operation, built from the spec's examples: the request body is the
//! operation's request example, the query parameters are the parameters' examples. A new
//! operation in the spec without a call here makes [`call`] panic, and the tests that walk every
//! operation fail.

use chrono::NaiveDate;
use confirma_client::{Client, types};
use serde::Serialize;
use serde_json::Value;

use crate::spec::{query_examples, request_example};

/// The example of query parameter `name` of `op`, as `T`.
fn q<T: serde::de::DeserializeOwned>(op: &str, name: &str) -> Option<T> {
    let (_, v) = query_examples(op).into_iter().find(|(n, _)| n == name)?;
    Some(serde_json::from_value(v).unwrap_or_else(|e| panic!("{op}: example of {name}: {e}")))
}

fn body<T: serde::de::DeserializeOwned>(op: &str) -> T {
    let example = request_example(op).unwrap_or_else(|| panic!("{op} has no request body"));
    serde_json::from_value(example)
        .unwrap_or_else(|e| panic!("{op}: the request example does not fit the client type: {e}"))
}

/// Sets each listed query parameter on the builder when the spec gives it an example.
macro_rules! with_query {
    ($b:ident, $op:expr, $($method:ident: $t:ty = $name:literal),* $(,)?) => {
        $( if let Some(v) = q::<$t>($op, $name) { $b = $b.$method(v); } )*
    };
}

/// What a call gave back: the success body as JSON, or the error.
pub type Outcome = Result<Value, String>;

fn outcome<T: Serialize>(
    r: Result<confirma_client::ResponseValue<T>, confirma_client::Error<types::ErrorResponse>>,
) -> Outcome {
    match r {
        Ok(v) => Ok(serde_json::to_value(v.into_inner()).expect("serializable")),
        Err(e) => Err(e.to_string()),
    }
}

/// Calls operation `op` through the generated client.
pub async fn call(client: &Client, op: &str) -> Outcome {
    match op {
        "createClient" => outcome(
            client
                .create_client()
                .body(body::<types::CreateClientRequest>(op))
                .send()
                .await,
        ),
        "validateToken" => outcome(client.validate_token().send().await),
        "renewToken" => outcome(client.renew_token().send().await),
        "createInvoice" => outcome(
            client
                .create_invoice()
                .body(body::<types::SalesInvoiceRequest>(op))
                .send()
                .await,
        ),
        "createInvoiceActions" => outcome(
            client
                .create_invoice_actions()
                .body(body::<types::InvoiceActionsRequest>(op))
                .send()
                .await,
        ),
        "getCaseDetails" => {
            let mut b = client.get_case_details();
            with_query!(b, op, case_id: i64 = "caseId", invoice_number: i64 = "invoiceNumber");
            outcome(b.send().await)
        }
        "getDistributionInformation" => {
            let mut b = client.get_distribution_information();
            with_query!(b, op, invoice_number: i64 = "invoiceNumber", from_inv_date: NaiveDate = "fromInvDate",
                to_inv_date: NaiveDate = "toInvDate", fetch_type: types::FetchType = "fetchType");
            outcome(b.send().await)
        }
        "getDistributionInformationV2" => {
            let mut b = client.get_distribution_information_v2();
            with_query!(b, op, invoice_number: i64 = "invoiceNumber", from_inv_date: NaiveDate = "fromInvDate",
                to_inv_date: NaiveDate = "toInvDate", fetch_type: types::FetchType = "fetchType",
                status: types::DistributionStatus = "status", method: types::DistributionMethod = "method",
                page: std::num::NonZeroU32 = "page", page_size: std::num::NonZeroU32 = "pageSize");
            outcome(b.send().await)
        }
        "getPayments" => {
            let mut b = client.get_payments();
            with_query!(b, op, from_date: NaiveDate = "fromDate", to_date: NaiveDate = "toDate",
                invoice_number: String = "invoiceNumber", case_id: i64 = "caseId");
            outcome(b.send().await)
        }
        "getSettlements" => {
            let mut b = client.get_settlements();
            with_query!(b, op, from_date: NaiveDate = "fromDate", to_date: NaiveDate = "toDate", unfetched_only: bool = "unfetchedOnly");
            outcome(b.send().await)
        }
        "submitAccountingInvoice" => outcome(
            client
                .submit_accounting_invoice()
                .body(body::<types::AccountingInvoiceRequest>(op))
                .send()
                .await,
        ),
        "submitLedger" => outcome(
            client
                .submit_ledger()
                .body(body::<types::LedgerRequest>(op))
                .send()
                .await,
        ),
        "getLedgerStatus" => {
            let mut b = client.get_ledger_status();
            with_query!(b, op, from_date: NaiveDate = "fromDate", to_date: NaiveDate = "toDate", ledger_identifier: String = "ledgerIdentifier");
            outcome(b.send().await)
        }
        "submitAccountingPayments" => outcome(
            client
                .submit_accounting_payments()
                .body(body::<types::AccountingPaymentRequest>(op))
                .send()
                .await,
        ),
        "getAccountingPaymentStatus" => {
            let mut b = client.get_accounting_payment_status();
            with_query!(b, op, from_date: NaiveDate = "fromDate", to_date: NaiveDate = "toDate",
                payment_identifier: String = "paymentIdentifier");
            outcome(b.send().await)
        }
        "getFinvoiceCredentials" => {
            let mut b = client.get_finvoice_credentials();
            with_query!(b, op, business_id: String = "businessId");
            outcome(b.send().await)
        }
        other => panic!("no client call for operation {other}: add one to tests/it/calls.rs"),
    }
}

/// JSON with every `null`-valued or empty-array object key removed: the generated types omit
/// absent optional fields and empty optional lists, which the spec treats as the same.
pub fn without_nulls(v: &Value) -> Value {
    let absent = |v: &Value| v.is_null() || v.as_array().is_some_and(|a| a.is_empty());
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !absent(v))
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}
