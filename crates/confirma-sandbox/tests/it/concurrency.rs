//! Read-modify-write operations under concurrent requests: each invariant holds however the
//! requests interleave.

use confirma_client::types;
use futures::future::join_all;
use rust_decimal::Decimal;
use serde_json::json;

use crate::{BUSINESS_IDS, TestSandbox, action, invoice};

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_invoice_number_sent_fifty_times_at_once_is_stored_once() {
    let sb = TestSandbox::start(None).await;
    let (_, token) = sb.onboard(BUSINESS_IDS[0], "Race Oy").await;
    let calls = (0..50).map(|i| {
        let mut request = invoice(777);
        // Fifty different invoices under one number: one wins, 49 are refused.
        request.invoice.header.description = Some(format!("attempt {i}").parse().unwrap());
        let client = sb.client(&token);
        async move { client.create_invoice().body(request).send().await }
    });
    let results = join_all(calls).await;
    let accepted = results.iter().filter(|r| r.is_ok()).count();
    let refused: Vec<u16> = results
        .iter()
        .filter_map(|r| match r {
            Err(confirma_client::Error::ErrorResponse(e)) => Some(e.status().as_u16()),
            _ => None,
        })
        .collect();
    assert_eq!(accepted, 1);
    assert_eq!(refused, vec![402; 49]);
    let stored = sb
        .client(&token)
        .get_distribution_information()
        .invoice_number(777)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.distributions.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_fetches_of_unfetched_settlements_get_each_once() {
    let sb = TestSandbox::start(None).await;
    let (_, token) = sb.onboard(BUSINESS_IDS[1], "Settled Oy").await;
    // One client, so that its connections stay open between rounds.
    let client = sb.client(&token);
    for round in 1..=20 {
        // One new settlement per round: a payment, then a settlement run.
        crate::one_more_settlement(&sb, &sb, &token, round).await;
        // Fifty requests on fifty open connections, released at once.
        let deliveries = crate::fetch_unfetched_at_once(vec![client.clone(); 50]).await;
        assert_eq!(
            deliveries.values().copied().collect::<Vec<_>>(),
            vec![1],
            "round {round}: the new settlement reaches the integration once: {deliveries:?}"
        );
    }
}

/// A payment-controlled invoice of the demo client whose case has `912.39` outstanding.
async fn open_case(sb: &TestSandbox, number: i64) -> (i64, String) {
    let created = sb
        .client(&sb.demo_token().await)
        .create_invoice()
        .body(invoice(number))
        .send()
        .await
        .unwrap()
        .into_inner();
    (
        created.case_id.unwrap(),
        created.payment_reference.unwrap().to_string(),
    )
}

async fn outstanding(sb: &TestSandbox, case_id: i64) -> (Decimal, Decimal) {
    let case = sb
        .client(&sb.demo_token().await)
        .get_case_details()
        .case_id(case_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .case;
    (case.balance.total_amount, case.balance.paid_amount.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_direct_payments_on_one_case_never_overpay_it() {
    let sb = TestSandbox::start(None).await;
    let (case_id, _) = open_case(&sb, 880001).await;
    let demo = sb.demo_token().await;
    let calls = (0..20).map(|_| {
        let mut direct = action(types::ActionCode::Directpayment, 880001);
        direct.data.amount = Some(dec("100.00"));
        direct.data.currency = Some("EUR".parse().unwrap());
        direct.data.payment_date = Some("2026-03-02".parse().unwrap());
        let client = sb.client(&demo);
        async move {
            client
                .create_invoice_actions()
                .body(types::InvoiceActionsRequest {
                    actions: vec![direct],
                })
                .send()
                .await
        }
    });
    let accepted = join_all(calls).await.iter().filter(|r| r.is_ok()).count();
    // 912.39 takes nine payments of 100.00; the tenth and later are refused.
    assert_eq!(accepted, 9);
    let (left, paid) = outstanding(&sb, case_id).await;
    assert_eq!(paid, dec("900.00"));
    assert_eq!(left, dec("12.39"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_payments_by_one_reference_never_overpay_it() {
    let sb = TestSandbox::start(None).await;
    let (case_id, reference) = open_case(&sb, 880002).await;
    let calls = (0..20).map(|_| {
        sb.control(
            "/sandbox/payments",
            json!({"reference": reference, "amount": 50.00}),
        )
    });
    let answers = join_all(calls).await;
    let accepted: Vec<_> = answers.iter().filter(|(s, _)| *s == 200).collect();
    assert_eq!(
        accepted.len(),
        18,
        "912.39 takes eighteen payments of 50.00"
    );
    assert!(answers.iter().all(|(s, _)| *s == 200 || *s == 402));
    // Every receipt names the same case, and the outstanding amounts they report all differ.
    assert!(accepted.iter().all(|(_, b)| b["caseId"] == json!(case_id)));
    let mut left: Vec<String> = accepted
        .iter()
        .map(|(_, b)| b["outstandingAmount"].to_string())
        .collect();
    left.sort();
    left.dedup();
    assert_eq!(left.len(), 18);
    let (total, paid) = outstanding(&sb, case_id).await;
    assert_eq!(paid, dec("900.00"));
    assert_eq!(total, dec("12.39"));
}
