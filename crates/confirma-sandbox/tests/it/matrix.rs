//! The authorization matrix: every operation of the spec with every kind of credential a caller
//! may send, and the status each must get. Requests carry valid data (the spec's examples, aimed
//! at the demo client's records), so the credential alone decides.

use std::collections::BTreeMap;

use confirma_server::OPERATIONS;
use serde_json::{Value, json};

use crate::{ADMIN, BUSINESS_IDS, PROVISIONING, TestSandbox};

/// The credentials, in the order of the expected statuses below.
const KINDS: [&str; 6] = [
    "no key",
    "garbage",
    "expired",
    "another client",
    "provisioning",
    "admin",
];

/// operationId → the status for each kind of credential. "another client" is a valid token of a
/// client that does not own the demo client's invoices and cases: it reaches its own (empty)
/// data, or is told the demo client's records do not exist.
fn expected() -> BTreeMap<&'static str, [u16; 6]> {
    let client_only = |other| [401, 401, 401, other, 403, 401];
    BTreeMap::from([
        ("createClient", [401, 401, 403, 403, 200, 401]),
        ("validateToken", [401, 401, 401, 200, 200, 401]),
        ("renewToken", [401, 401, 200, 200, 403, 401]),
        ("createInvoice", client_only(200)),
        // On its own invoice of the example's number, which createInvoice made just before.
        ("createInvoiceActions", client_only(200)),
        ("getCaseDetails", client_only(404)),
        ("getDistributionInformation", client_only(200)),
        ("getDistributionInformationV2", client_only(200)),
        ("getPayments", client_only(200)),
        ("getSettlements", client_only(200)),
        ("submitAccountingInvoice", client_only(200)),
        ("submitLedger", client_only(200)),
        ("getLedgerStatus", client_only(200)),
        ("submitAccountingPayments", client_only(200)),
        ("getAccountingPaymentStatus", client_only(200)),
        ("getFinvoiceCredentials", client_only(200)),
    ])
}

#[tokio::test]
async fn every_operation_with_every_kind_of_credential() {
    let sb = TestSandbox::start(None).await;
    let demo = sb.demo_token().await;
    let case_id = sb
        .client(&demo)
        .get_case_details()
        .invoice_number(202600101)
        .send()
        .await
        .unwrap()
        .into_inner()
        .case
        .summary
        .case_id;
    let (expired_id, expired) = sb.onboard(BUSINESS_IDS[1], "Expired Oy").await;
    let (status, _) = sb
        .control(
            "/sandbox/token/expiry",
            json!({"clientId": expired_id, "expiresAt": "2026-03-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, other) = sb.onboard(BUSINESS_IDS[2], "Other Oy").await;

    let query = |operation: &str| -> &'static str {
        match operation {
            "getCaseDetails" => "caseId=CASE",
            "getDistributionInformation" | "getDistributionInformationV2" => {
                "invoiceNumber=202600101"
            }
            "getPayments" => "invoiceNumber=202600101&fromDate=2026-01-01",
            "getFinvoiceCredentials" => "businessId=2942108-7",
            _ => "",
        }
    };
    let body = |operation: &str| -> Option<Value> {
        let mut body: Value = crate::example_body(operation);
        if operation == "createClient" {
            body["client"]["businessCode"] = json!(BUSINESS_IDS[3]);
            body["client"]["vatRegNbr"] = json!(format!("FI{}", BUSINESS_IDS[3].replace('-', "")));
        }
        if operation == "createInvoice" {
            body["invoice"]["references"]["payment"] = Value::Null;
        }
        Some(body)
    };
    let expected = expected();
    assert_eq!(
        expected.len(),
        OPERATIONS.len(),
        "the matrix covers every operation"
    );
    let http = reqwest::Client::new();
    let mut wrong = Vec::new();
    for (column, kind) in KINDS.iter().enumerate() {
        let key = match *kind {
            "no key" => None,
            "garbage" => Some("cfsb_not_a_token".to_string()),
            "expired" => Some(expired.clone()),
            "another client" => Some(other.clone()),
            "provisioning" => Some(PROVISIONING.to_string()),
            _ => Some(ADMIN.to_string()),
        };
        // renewToken last: it retires the key it succeeds with.
        let mut operations: Vec<_> = OPERATIONS.iter().collect();
        operations.sort_by_key(|op| op.operation_id == "renewToken");
        for op in operations {
            let q = query(op.operation_id).replace("CASE", &case_id.to_string());
            let url = format!("{}{}?{q}", sb.base, op.path);
            let mut request = http.request(op.method.parse().unwrap(), url);
            if let Some(key) = &key {
                request = request.header("x-api-key", key);
            }
            if op.has_body {
                request = request.json(&body(op.operation_id));
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            let want = expected[op.operation_id][column];
            if status != want {
                wrong.push(format!(
                    "{} with {kind}: {status}, expected {want}: {text:.200}",
                    op.operation_id
                ));
            }
            if status >= 400 {
                let error: Value = serde_json::from_str(&text).unwrap_or_default();
                assert!(
                    error["code"].is_string(),
                    "{}: not the error format: {text}",
                    op.operation_id
                );
            }
            // Another client never sees the demo client's payment references (prefix 1044).
            if *kind == "another client" {
                assert!(
                    !text.contains("\"1044"),
                    "{} leaked the demo client's data: {text:.300}",
                    op.operation_id
                );
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cells differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
