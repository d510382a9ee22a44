//! The partner's own integration tests, written against `confirma_sandbox::testing::Space`: each
//! test gets a space of its own, on a sandbox started in this process or, with
//! `CONFIRMA_SANDBOX_URL` and `CONFIRMA_SANDBOX_SPACES_TOKEN` set, on a shared sandbox. CI runs
//! them both ways.

use confirma_client::types;
use confirma_sandbox::testing::Space;

/// The application's invoice, as it would submit one.
fn invoice(number: i64) -> types::SalesInvoiceRequest {
    let example = confirma_client::operation("createInvoice")
        .and_then(|op| op.request_example)
        .expect("createInvoice has an example");
    let mut request: types::SalesInvoiceRequest =
        serde_json::from_str(example).expect("the example is a request");
    request.invoice.header.number = number;
    request.invoice.header.date = "2026-03-02".parse().unwrap();
    request.invoice.header.due_date = "2026-03-16".parse().unwrap();
    if let Some(references) = request.invoice.references.as_mut() {
        references.payment = None;
    }
    request
}

/// The application's flow: an invoice submitted, unpaid past its due date, reminded, then paid
/// in full; each step read back through the Partner API.
async fn an_unpaid_invoice_is_reminded_then_paid(space: &Space) {
    let client = space.client();
    let accepted = client
        .create_invoice()
        .body(invoice(5_550_001))
        .send()
        .await
        .expect("accepted")
        .into_inner();
    let reference = accepted.payment_reference.clone().expect("a reference");
    let happened = space.advance_days(20).await.expect("advanced");
    assert!(happened.happened.reminded >= 1, "{:?}", happened.happened);
    let case = client
        .get_case_details()
        .invoice_number(5_550_001)
        .send()
        .await
        .expect("the case")
        .into_inner();
    let outstanding = case.case.balance.total_amount;
    let paid = space.pay(&reference, outstanding).await.expect("paid");
    assert_eq!(paid.case_status, "PAID");
    // A 503 once: the client retries it and the call goes through.
    space
        .fail_next_calls("getPayments", 503, 1)
        .await
        .expect("a fault");
    client.get_payments().send().await.expect("retried");
    // A 503 that lasts: the application sees it.
    space
        .fail_next_calls("getPayments", 503, 100)
        .await
        .expect("a fault");
    let refused = client.get_payments().send().await;
    assert_eq!(refused.err().and_then(|e| e.status()).map(|s| s.as_u16()), Some(503));
    space.clear_faults().await.expect("cleared");
}

#[tokio::test]
async fn in_a_sandbox_of_this_process() {
    let space = Space::in_process().await.expect("a sandbox in process");
    assert!(space.url().starts_with("http://127.0.0.1:"));
    an_unpaid_invoice_is_reminded_then_paid(&space).await;
}

#[tokio::test]
async fn in_a_space_of_the_sandbox_the_environment_names() {
    let (one, two) = (Space::new().await.unwrap(), Space::new().await.unwrap());
    if let Ok(url) = std::env::var("CONFIRMA_SANDBOX_URL") {
        assert_eq!(one.url(), url.trim_end_matches('/'));
    }
    an_unpaid_invoice_is_reminded_then_paid(&one).await;
    // The other space saw none of it: its clock and its invoice numbers are its own.
    assert_ne!(one.now().await.unwrap(), two.now().await.unwrap());
    two.client()
        .create_invoice()
        .body(invoice(5_550_001))
        .send()
        .await
        .expect("the same number is free in another space");
    // A fork answers as its origin, with tokens of its own.
    let fork = one.fork().await.unwrap();
    let read = |space: &Space| {
        let client = space.client();
        async move {
            client
                .get_case_details()
                .invoice_number(5_550_001)
                .send()
                .await
                .unwrap()
                .into_inner()
        }
    };
    assert_eq!(read(&one).await, read(&fork).await);
    let id = two.id().to_string();
    two.delete().await.expect("deleted");
    let gone = one.control().space(&id).await;
    assert!(gone.is_err(), "{gone:?}");
}
