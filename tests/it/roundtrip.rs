//! Round trip, one test per operation: the generated client calls the generated server stub
//! (with `ExampleApi`, which answers with the spec's examples) over real HTTP on 127.0.0.1:0 and
//! gets back a value equal to the example. The request example passes the stub's validation on
//! the way in, so client and server agree on the wire in both directions.

use confirma_client::{ApiKey, Client, ClientState};

use crate::calls::{call, without_nulls};
use crate::spec::{operations, response_example};

async fn round_trip(id: &str) {
    let base = crate::serve::spawn(confirma_server::router(confirma_server::ExampleApi)).await;
    let client = Client::new(&base, ClientState::new(ApiKey::new("round-trip-key")));
    let got = call(&client, id)
        .await
        .unwrap_or_else(|e| panic!("{id}: {e}"));
    let (_, example) = response_example(id);
    assert_eq!(without_nulls(&got), without_nulls(&example), "{id}");
}

macro_rules! round_trips {
    ($($test:ident = $id:literal),* $(,)?) => {
        $( #[tokio::test] async fn $test() { round_trip($id).await } )*
        /// The operations that have a round-trip test above.
        const COVERED: &[&str] = &[$($id),*];
    };
}

round_trips! {
    create_client = "createClient",
    validate_token = "validateToken",
    renew_token = "renewToken",
    create_invoice = "createInvoice",
    create_invoice_actions = "createInvoiceActions",
    get_case_details = "getCaseDetails",
    get_distribution_information = "getDistributionInformation",
    get_distribution_information_v2 = "getDistributionInformationV2",
    get_payments = "getPayments",
    get_settlements = "getSettlements",
    submit_accounting_invoice = "submitAccountingInvoice",
    submit_ledger = "submitLedger",
    get_ledger_status = "getLedgerStatus",
    submit_accounting_payments = "submitAccountingPayments",
    get_accounting_payment_status = "getAccountingPaymentStatus",
    get_finvoice_credentials = "getFinvoiceCredentials",
}

#[test]
fn every_operation_has_a_round_trip_test() {
    let mut spec: Vec<String> = operations()
        .iter()
        .map(|(_, _, op)| op["operationId"].as_str().unwrap().to_string())
        .collect();
    let mut covered: Vec<String> = COVERED.iter().map(|s| s.to_string()).collect();
    spec.sort();
    covered.sort();
    assert_eq!(
        covered, spec,
        "add a round trip for every operation of the spec"
    );
}
