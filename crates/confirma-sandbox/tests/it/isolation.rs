//! Tenant isolation for every operation: client B never reads or changes client A's data; it
//! is answered as if A's resources did not exist.

use confirma_client::types;
use serde_json::json;

use crate::{BUSINESS_IDS, TestSandbox, action, api_error, example, invoice};

#[tokio::test]
async fn no_operation_crosses_clients() {
    let sb = TestSandbox::start(None).await;
    let (_, a_token) = sb.onboard(BUSINESS_IDS[0], "Alpha Oy").await;
    let (_, b_token) = sb.onboard(BUSINESS_IDS[1], "Beta Oy").await;
    let (a, b) = (sb.client(&a_token), sb.client(&b_token));
    let created = a
        .create_invoice()
        .body(invoice(800001))
        .send()
        .await
        .unwrap()
        .into_inner();
    let case_id = created.case_id.unwrap();
    a.submit_ledger()
        .body(example::<types::LedgerRequest>("submitLedger"))
        .send()
        .await
        .unwrap();
    let (status, _) = sb
        .control(
            "/sandbox/payments",
            json!({"reference": created.payment_reference.unwrap(), "amount": 100}),
        )
        .await;
    assert_eq!(status, 200);
    sb.advance_days(7).await; // through a Monday: A has a settlement
    assert_eq!(
        a.get_settlements()
            .send()
            .await
            .unwrap()
            .into_inner()
            .settlements
            .len(),
        1
    );
    let since: chrono::NaiveDate = "2020-01-01".parse().unwrap();

    // The operations of the spec, each tried by B against A's data.
    let mut checked = Vec::new();
    checked.push("createClient"); // needs the provisioning token: covered in onboarding tests
    checked.push("validateToken");
    assert!(
        b.validate_token()
            .send()
            .await
            .unwrap()
            .into_inner()
            .is_valid
    );
    checked.push("renewToken");
    let renewed = crate::renewed(&b).await;
    assert!(
        a.validate_token()
            .send()
            .await
            .unwrap()
            .into_inner()
            .is_valid,
        "B's renewal leaves A's token alone"
    );
    let b = sb.client(&renewed);
    checked.push("createInvoice");
    b.create_invoice()
        .body(invoice(800001))
        .send()
        .await
        .expect("the same number is free for B");
    checked.push("createInvoiceActions");
    let mut action = action(types::ActionCode::Withdraw, 800001);
    action.data.case_id = Some(case_id);
    let (status, _) = api_error(
        b.create_invoice_actions()
            .body(types::InvoiceActionsRequest {
                actions: vec![action],
            })
            .send()
            .await,
    );
    assert_eq!(status, 402, "A's case id does not belong to B's invoice");
    assert_eq!(
        a.get_case_details()
            .case_id(case_id)
            .send()
            .await
            .unwrap()
            .into_inner()
            .case
            .summary
            .status,
        types::CaseStatus::Open
    );
    checked.push("getCaseDetails");
    let (status, _) = api_error(b.get_case_details().case_id(case_id).send().await);
    assert_eq!(status, 404);
    checked.push("getDistributionInformation");
    let seen = b
        .get_distribution_information()
        .from_inv_date(since)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(
        seen.distributions
            .iter()
            .all(|d| d.case_id != Some(case_id))
    );
    checked.push("getDistributionInformationV2");
    let page = b
        .get_distribution_information_v2()
        .from_inv_date(since)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(page.data.iter().all(|d| d.case_id != Some(case_id)));
    checked.push("getPayments");
    assert!(
        b.get_payments()
            .from_date(since)
            .send()
            .await
            .unwrap()
            .into_inner()
            .is_empty()
    );
    checked.push("getSettlements");
    assert!(
        b.get_settlements()
            .from_date(since)
            .send()
            .await
            .unwrap()
            .into_inner()
            .settlements
            .is_empty()
    );
    checked.push("submitAccountingInvoice");
    checked.push("submitLedger");
    b.submit_ledger()
        .body(example::<types::LedgerRequest>("submitLedger"))
        .send()
        .await
        .expect("B's own ledger with the same identifier");
    checked.push("getLedgerStatus");
    assert_eq!(
        b.get_ledger_status()
            .from_date(since)
            .send()
            .await
            .unwrap()
            .into_inner()
            .ledgers
            .len(),
        1,
        "only B's own ledger"
    );
    checked.push("submitAccountingPayments");
    checked.push("getAccountingPaymentStatus");
    assert!(
        b.get_accounting_payment_status()
            .from_date(since)
            .send()
            .await
            .unwrap()
            .into_inner()
            .payments
            .is_empty()
    );
    checked.push("getFinvoiceCredentials"); // a public registry: the same answer for everyone

    let mut all: Vec<&str> = confirma_server::OPERATIONS
        .iter()
        .map(|o| o.operation_id)
        .collect();
    all.sort();
    checked.sort();
    assert_eq!(checked, all, "every operation is considered here");
}
