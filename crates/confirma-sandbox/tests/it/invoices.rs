//! Invoice creation rules, payment references, statuses and distribution over sandbox time.

use confirma_client::types;
use rust_decimal::Decimal;

use crate::{TestSandbox, api_error, invoice};

/// The example invoice under `number`, with different content.
fn other_invoice(number: i64) -> types::SalesInvoiceRequest {
    let mut request = invoice(number);
    request.invoice.header.description = Some("A different invoice".parse().unwrap());
    request
}

fn reference_ok(r: &str) -> bool {
    let digits: Vec<u32> = r.chars().map(|c| c.to_digit(10).unwrap()).collect();
    let (body, check) = digits.split_at(digits.len() - 1);
    let sum: u32 = body
        .iter()
        .rev()
        .zip([7, 3, 1].iter().cycle())
        .map(|(d, w)| d * w)
        .sum();
    (10 - sum % 10) % 10 == check[0]
}

#[tokio::test]
async fn an_invoice_is_accepted_referenced_and_then_delivered() {
    let sb = TestSandbox::start(None).await;
    let c = sb.client(&sb.demo_token().await);
    let created = c
        .create_invoice()
        .body(invoice(300100))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.status, types::InvoiceStatus::Accepted);
    let reference = created.payment_reference.clone().unwrap();
    assert!(
        reference.starts_with("1044300100") && reference_ok(&reference),
        "{reference}"
    );
    assert!(created.case_id.is_some(), "payment control opens a case");
    let before = c
        .get_distribution_information()
        .invoice_number(300100)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        before.distributions[0].status,
        types::DistributionStatus::Pending
    );
    sb.advance_days(1).await;
    let after = c
        .get_distribution_information()
        .invoice_number(300100)
        .send()
        .await
        .unwrap()
        .into_inner();
    let record = &after.distributions[0];
    assert_eq!(record.status, types::DistributionStatus::Delivered);
    assert_eq!(record.invoice_status, types::InvoiceStatus::Invoiced);
    assert!(record.distributed_at.is_some());
    assert_eq!(after.meta_data.successful_count, 1);
    // Past the due date it is overdue.
    sb.advance_days(15).await;
    let later = c
        .get_distribution_information()
        .invoice_number(300100)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        later.distributions[0].invoice_status,
        types::InvoiceStatus::Overdue
    );
}

#[tokio::test]
async fn business_rules_refuse_with_402_and_data_rules_with_400() {
    let sb = TestSandbox::start(None).await;
    let c = sb.client(&sb.demo_token().await);
    c.create_invoice()
        .body(invoice(300200))
        .send()
        .await
        .unwrap();
    let (status, body) = api_error(c.create_invoice().body(other_invoice(300200)).send().await);
    assert_eq!(
        (status, body.field_errors[0].path.as_str()),
        (402, "$.invoice.header.number")
    );

    let mut credit = invoice(300201);
    credit.invoice.header.type_ = Some(types::InvoiceHeaderType::CreditNote);
    let (status, _) = api_error(c.create_invoice().body(credit.clone()).send().await);
    assert_eq!(status, 402, "a credit note needs the credited invoice");
    credit
        .invoice
        .references
        .as_mut()
        .unwrap()
        .credited_invoice_number = Some(999);
    let (status, _) = api_error(c.create_invoice().body(credit.clone()).send().await);
    assert_eq!(status, 402, "the credited invoice must exist");
    credit
        .invoice
        .references
        .as_mut()
        .unwrap()
        .credited_invoice_number = Some(300200);
    c.create_invoice().body(credit).send().await.unwrap();
    let original = c
        .get_distribution_information()
        .invoice_number(300200)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        original.distributions[0].invoice_status,
        types::InvoiceStatus::Credited
    );

    let mut bad = invoice(300202);
    bad.invoice.header.due_date = "2026-03-01".parse().unwrap();
    bad.invoice.amounts.total_gross_amount = Decimal::new(100, 2);
    bad.invoice.rows[0].net_amount = Some(Decimal::new(1, 0));
    bad.invoice.references.as_mut().unwrap().payment = Some("2516000017".parse().unwrap());
    let (status, body) = api_error(c.create_invoice().body(bad).send().await);
    assert_eq!(status, 400);
    let mut paths: Vec<&str> = body.field_errors.iter().map(|f| f.path.as_str()).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "$.invoice.amounts.totalGrossAmount",
            "$.invoice.header.dueDate",
            "$.invoice.references.payment",
            "$.invoice.rows[0].netAmount"
        ]
    );
}

#[tokio::test]
async fn undeliverable_and_simulated_failures_are_visible() {
    let sb = TestSandbox::start(None).await;
    let c = sb.client(&sb.demo_token().await);
    let mut letter = invoice(300300);
    letter.distribution.method = types::DistributionMethod::Letter;
    letter
        .invoice
        .parties
        .buyer_party
        .address
        .as_mut()
        .unwrap()
        .postal_code = Some("00100 (Helsinki)".parse().unwrap());
    c.create_invoice().body(letter).send().await.unwrap();
    let (status, _) = sb
        .control(
            "/sandbox/distribution/fail-next",
            serde_json::json!({"clientId": 1000, "invoiceNumber": 300301}),
        )
        .await;
    assert_eq!(status, 200);
    c.create_invoice()
        .body(invoice(300301))
        .send()
        .await
        .unwrap();
    sb.advance_days(1).await;
    let failed = c
        .get_distribution_information()
        .fetch_type(types::FetchType::Failed)
        .send()
        .await
        .unwrap()
        .into_inner();
    let numbers: Vec<i64> = failed
        .distributions
        .iter()
        .map(|d| d.invoice_number)
        .collect();
    assert_eq!(numbers, [300300, 300301]);
    assert_eq!(failed.meta_data.failed_count, 2);
    for d in &failed.distributions {
        assert_eq!(d.invoice_status, types::InvoiceStatus::Error);
        assert!(d.error_message.as_deref().is_some_and(|m| !m.is_empty()));
    }
}

#[tokio::test]
async fn finvoice_credentials_come_from_the_registry() {
    let sb = TestSandbox::start(None).await;
    let c = sb.client(&sb.demo_token().await);
    let found = c
        .get_finvoice_credentials()
        .business_id("2942108-7")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.len(), 2);
    assert!(
        c.get_finvoice_credentials()
            .business_id("1572860-0")
            .send()
            .await
            .unwrap()
            .into_inner()
            .is_empty()
    );
    let (status, _) = api_error(
        c.get_finvoice_credentials()
            .business_id("1572860-1")
            .send()
            .await,
    );
    assert_eq!(status, 400);
}

#[tokio::test]
async fn sending_the_same_invoice_again_is_answered_as_a_duplicate() {
    let sb = TestSandbox::start(None).await;
    let c = sb.client(&sb.demo_token().await);
    let first = c
        .create_invoice()
        .body(invoice(300400))
        .send()
        .await
        .unwrap()
        .into_inner();
    sb.advance_days(1).await;
    let again = c
        .create_invoice()
        .body(invoice(300400))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.status, types::InvoiceStatus::Duplicate);
    assert_eq!(
        (again.case_id, &again.payment_reference, again.received_at),
        (first.case_id, &first.payment_reference, first.received_at)
    );
    // The same request written otherwise (an absent member sent as null, the members in another
    // order) is the same request.
    let mut written_otherwise = serde_json::to_value(invoice(300400)).unwrap();
    written_otherwise["invoice"]["references"]["payment"] = serde_json::Value::Null;
    let text = written_otherwise.to_string();
    assert_ne!(text, serde_json::to_string(&invoice(300400)).unwrap());
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v1/partner/invoice", sb.base))
        .header("x-api-key", sb.demo_token().await)
        .header("content-type", "application/json")
        .body(text)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["status"], "DUPLICATE", "{answer}");
    let listed = c
        .get_distribution_information()
        .invoice_number(300400)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.distributions.len(), 1, "nothing new was created");
    assert_eq!(
        listed.distributions[0].invoice_status,
        types::InvoiceStatus::Invoiced
    );
    let mut changed = invoice(300400);
    changed.invoice.header.description = Some("Something else".parse().unwrap());
    let (status, _) = api_error(c.create_invoice().body(changed).send().await);
    assert_eq!(status, 402, "another invoice under a used number");
}

/// Invoices under `numbers`, dated 2026-02-(10 + number), due 2026-03-30: number 8 sent by
/// letter, every third one's distribution set to fail.
async fn invoices_to_page(
    sb: &TestSandbox,
    client_id: i64,
    c: &confirma_client::Client,
    numbers: &[i64],
) {
    for &number in numbers {
        let mut request = invoice(number);
        request.invoice.header.date = format!("2026-02-{:02}", 10 + number).parse().unwrap();
        request.invoice.header.due_date = "2026-03-30".parse().unwrap();
        if number == 8 {
            request.distribution.method = types::DistributionMethod::Letter;
        }
        if number % 3 == 0 {
            let (status, _) = sb
                .control(
                    "/sandbox/distribution/fail-next",
                    serde_json::json!({"clientId": client_id, "invoiceNumber": number}),
                )
                .await;
            assert_eq!(status, 200);
        }
        c.create_invoice().body(request).send().await.unwrap();
    }
}

/// Pages of distribution v2 against the unpaged list as the oracle: for every filter, the total
/// is the number of matching distributions (kept as counts, so it must follow each status
/// change), and the pages are those distributions in number order, 3 at a time.
#[tokio::test]
async fn pages_of_distributions_hold_every_match_once_with_the_right_total() {
    use std::collections::BTreeSet;
    let sb = TestSandbox::start(None).await;
    let (client_id, token) = sb.onboard(crate::BUSINESS_IDS[0], "Paged Oy").await;
    let c = sb.client(&token);
    invoices_to_page(&sb, client_id, &c, &[5, 3, 9, 1, 7, 2, 8]).await;
    let check = async |status: Option<types::DistributionStatus>,
                       fetch: Option<types::FetchType>,
                       from: &str,
                       expected: usize| {
        let mut seen = Vec::new();
        for page in 1..=4 {
            let mut call = c
                .get_distribution_information_v2()
                .from_inv_date(from.parse::<chrono::NaiveDate>().unwrap())
                .page(std::num::NonZeroU32::new(page).unwrap())
                .page_size(std::num::NonZeroU32::new(3).unwrap());
            if let Some(s) = status {
                call = call.status(s);
            }
            if let Some(f) = fetch {
                call = call.fetch_type(f);
            }
            let got = call.send().await.unwrap().into_inner();
            assert_eq!(
                got.meta.total_count as usize, expected,
                "{status:?} {fetch:?} {from}"
            );
            assert_eq!(got.meta.count as usize, got.data.len());
            seen.extend(got.data.iter().map(|d| d.invoice_number));
        }
        let sorted: Vec<i64> = seen
            .iter()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(seen, sorted, "in number order, each once");
        assert_eq!(seen.len(), expected);
        seen
    };
    // Before delivery: every distribution is pending.
    assert_eq!(
        check(None, None, "2026-01-01", 7).await,
        vec![1, 2, 3, 5, 7, 8, 9]
    );
    check(
        Some(types::DistributionStatus::Pending),
        None,
        "2026-01-01",
        7,
    )
    .await;
    check(None, Some(types::FetchType::Failed), "2026-01-01", 0).await;
    sb.advance_days(1).await;
    // Delivered, sent (the letter) or failed (3 and 9): the totals follow each change.
    check(
        Some(types::DistributionStatus::Pending),
        None,
        "2026-01-01",
        0,
    )
    .await;
    assert_eq!(
        check(None, Some(types::FetchType::Failed), "2026-01-01", 2).await,
        vec![3, 9]
    );
    check(None, Some(types::FetchType::Successful), "2026-01-01", 5).await;
    check(
        Some(types::DistributionStatus::Delivered),
        None,
        "2026-01-01",
        4,
    )
    .await;
    assert_eq!(
        check(Some(types::DistributionStatus::Sent), None, "2026-01-01", 1).await,
        vec![8]
    );
    // The window: invoices dated from 2026-02-15 are 5, 7, 8 and 9.
    assert_eq!(check(None, None, "2026-02-15", 4).await, vec![5, 7, 8, 9]);
    // The oracle agrees.
    let all = sb.all_distributions(&token).await;
    assert_eq!(all.meta_data.total_count, 7);
    assert_eq!(all.meta_data.failed_count, 2);
}

/// A page answered from the answers stored with each invoice (`distribution_json`) is byte for
/// byte the page the invoices' documents give (the path of rows stored before that column, and of
/// a page holding any such row): every filter, page and lookup, before and after the answers are
/// cleared from some rows and then from all.
#[tokio::test]
async fn pages_from_stored_answers_equal_pages_from_the_invoices() {
    stored_answers_equal_the_documents_after(1, "\"DELIVERED\"").await;
}

/// The same once the invoices fell due: an advance marks them overdue in their columns and
/// stored answers alone (`tables::mark_overdue`), and their documents, read with the status
/// column, say the same.
#[tokio::test]
async fn pages_of_overdue_invoices_from_stored_answers_equal_pages_from_the_invoices() {
    stored_answers_equal_the_documents_after(45, "\"invoiceStatus\":\"OVERDUE\"").await;
}

async fn stored_answers_equal_the_documents_after(days: i64, shown: &str) {
    let dir = tempfile::tempdir().unwrap();
    let storage = match crate::fresh_storage().await {
        confirma_sandbox::Location::Memory => {
            confirma_sandbox::Location::File(dir.path().join("sandbox.db"))
        }
        postgres => postgres,
    };
    let url = match &storage {
        confirma_sandbox::Location::File(path) => format!("sqlite://{}", path.display()),
        confirma_sandbox::Location::Postgres(url) => url.clone(),
        confirma_sandbox::Location::Memory => unreachable!(),
    };
    let sb = TestSandbox::on(storage).await;
    let (client_id, token) = sb.onboard(crate::BUSINESS_IDS[0], "Stored Oy").await;
    let c = sb.client(&token);
    invoices_to_page(&sb, client_id, &c, &[1, 2, 3, 4, 5, 6, 7, 8]).await;
    sb.advance_days(days).await;
    let queries = [
        "fromInvDate=2026-02-01",
        "fromInvDate=2026-02-01&pageSize=3&page=2",
        "fromInvDate=2026-02-01&pageSize=3&page=3",
        "fromInvDate=2026-02-01&pageSize=3&page=9",
        "fromInvDate=2026-02-12&toInvDate=2026-02-16",
        "fromInvDate=2026-02-01&fetchType=FAILED",
        "fromInvDate=2026-02-01&fetchType=SUCCESSFUL&pageSize=2",
        "fromInvDate=2026-02-01&status=FAILED&fetchType=SUCCESSFUL",
        "fromInvDate=2026-02-01&method=LETTER",
        "invoiceNumber=3",
        "invoiceNumber=5",
        "invoiceNumber=5&fetchType=FAILED",
        "invoiceNumber=5&page=2",
        "invoiceNumber=99",
    ];
    let http = reqwest::Client::new();
    let answers = async || {
        let mut all = Vec::new();
        for query in queries {
            let answer = http
                .get(format!(
                    "{}/api/v1/partner/invoice/distribution/v2?{query}",
                    sb.base
                ))
                .header("X-Api-Key", &token)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200, "{query}");
            // Sent in parts (the stored records between the rest), yet of a stated length.
            let length: Option<usize> = answer
                .headers()
                .get("content-length")
                .and_then(|v| v.to_str().ok()?.parse().ok());
            let text = answer.text().await.unwrap();
            assert_eq!(length, Some(text.len()), "{query}: Content-Length");
            all.push((query, text));
        }
        all
    };
    let stored = answers().await;
    assert!(
        stored[0].1.contains("\"FAILED\"")
            && stored[0].1.contains("\"totalCount\":8")
            && stored[0].1.contains(shown),
        "{}",
        stored[0].1
    );
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    for clear in [
        "UPDATE invoices SET distribution_json = NULL WHERE number IN (2, 6)",
        "UPDATE invoices SET distribution_json = NULL",
    ] {
        sqlx::query(clear).execute(&mut db).await.unwrap();
        for ((query, from_stored), (_, from_documents)) in stored.iter().zip(answers().await) {
            assert_eq!(*from_stored, from_documents, "{query} after {clear}");
        }
    }
}
