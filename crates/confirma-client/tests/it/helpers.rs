//! The helpers for loops the API makes partners write, observed request by request.

use chrono::NaiveDate;
use confirma_client::ApiError;
use confirma_client::types;

use crate::mock::{MockServer, Reply};

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

fn payment(invoice: &str) -> String {
    format!(
        r#"{{"caseId":1,"invoiceNumber":"{invoice}","paymentDate":"2026-02-01T00:00:00Z","paymentAmount":10.00,"currency":"EUR"}}"#
    )
}

fn record(invoice: i64, status: &str) -> String {
    format!(
        r#"{{"invoiceNumber":{invoice},"method":"EMAIL","status":"{status}","invoiceStatus":"ACCEPTED","createdAt":"2026-02-02T08:14:51Z","paymentControlEnabled":false}}"#
    )
}

#[tokio::test]
async fn payments_are_fetched_in_30_day_windows() {
    let server = MockServer::start(vec![
        Reply::json(200, &format!("[{}]", payment("1"))),
        Reply::json(200, "[]"),
        Reply::json(200, &format!("[{},{}]", payment("2"), payment("3"))),
    ])
    .await;
    let payments = server
        .client("key")
        .get_payments()
        .case_id(7)
        .send_in_windows(day(1, 1), day(3, 15))
        .await
        .unwrap();
    let invoices: Vec<&str> = payments.iter().map(|p| p.invoice_number.as_str()).collect();
    assert_eq!(invoices, ["1", "2", "3"]);

    let seen = server.requests();
    let windows: Vec<(&str, &str)> = seen
        .iter()
        .map(|r| (r.query("fromDate").unwrap(), r.query("toDate").unwrap()))
        .collect();
    assert_eq!(
        windows,
        [
            ("2026-01-01", "2026-01-30"),
            ("2026-01-31", "2026-03-01"),
            ("2026-03-02", "2026-03-15")
        ]
    );
    assert!(
        seen.iter().all(|r| r.query("caseId") == Some("7")),
        "other filters are kept"
    );
}

#[tokio::test]
async fn distribution_information_is_windowed_by_invoice_date() {
    let body = |n| {
        format!(
            r#"{{"metaData":{{"totalCount":1,"successfulCount":1,"failedCount":0,"filtersApplied":{{}}}},"distributions":[{}]}}"#,
            record(n, "SENT")
        )
    };
    let server =
        MockServer::start(vec![Reply::json(200, &body(1)), Reply::json(200, &body(2))]).await;
    let records = server
        .client("key")
        .get_distribution_information()
        .send_in_windows(day(1, 1), day(2, 1))
        .await
        .unwrap();
    assert_eq!(
        records.iter().map(|r| r.invoice_number).collect::<Vec<_>>(),
        [1, 2]
    );
    let seen = server.requests();
    assert_eq!(seen[1].query("fromInvDate"), Some("2026-01-31"));
    assert_eq!(seen[1].query("toInvDate"), Some("2026-02-01"));
}

#[tokio::test]
async fn settlements_sync_asks_for_unfetched_only() {
    let server = MockServer::start(vec![Reply::json(
        200,
        r#"{"createdAt":"2026-04-01T09:34:12Z","settlements":[]}"#,
    )])
    .await;
    let settlements = server.client("key").sync_new_settlements().await.unwrap();
    assert!(settlements.is_empty());
    let seen = server.requests();
    assert_eq!(seen[0].path(), "/api/v1/partner/settlements");
    assert_eq!(seen[0].query("unfetchedOnly"), Some("true"));
}

#[tokio::test]
async fn distribution_v2_walks_every_page() {
    let page = |n: u32, records: &[String]| {
        format!(
            r#"{{"meta":{{"page":{n},"pageSize":2,"count":{},"totalCount":3}},"data":[{}]}}"#,
            records.len(),
            records.join(",")
        )
    };
    let server = MockServer::start(vec![
        Reply::json(200, &page(1, &[record(1, "SENT"), record(2, "FAILED")])),
        Reply::json(200, &page(2, &[record(3, "DELIVERED")])),
        Reply::error(500, "INTERNAL_ERROR"),
    ])
    .await;
    let records = server
        .client("key")
        .get_distribution_information_v2()
        .page_size(2u32)
        .status(types::DistributionStatus::Sent)
        .send_all_pages()
        .await
        .unwrap();
    assert_eq!(
        records.iter().map(|r| r.invoice_number).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    let seen = server.requests();
    assert_eq!(seen.len(), 2, "stops once totalCount records arrived");
    assert_eq!(seen[0].query("page"), Some("1"));
    assert_eq!(seen[1].query("page"), Some("2"));
    assert!(
        seen.iter()
            .all(|r| r.query("pageSize") == Some("2") && r.query("status") == Some("SENT"))
    );
}

/// A page of `records`, with what the server claims in its meta.
fn claimed_page(page: u32, page_size: u32, total: i64, records: &[String]) -> String {
    format!(
        r#"{{"meta":{{"page":{page},"pageSize":{page_size},"count":{},"totalCount":{total}}},"data":[{}]}}"#,
        records.len(),
        records.join(",")
    )
}

#[tokio::test]
async fn paging_refuses_a_server_that_ignores_the_page() {
    // As static Prism answers: the same example whatever the page.
    let same = claimed_page(1, 2, 3, &[record(1, "SENT"), record(2, "SENT")]);
    let server = MockServer::start(vec![Reply::json(200, &same)]).await;
    let error = server
        .client("key")
        .get_distribution_information_v2()
        .page_size(2u32)
        .send_all_pages()
        .await
        .unwrap_err();
    assert!(matches!(error, ApiError::Paging(_)), "{error:?}");
    assert!(
        error.to_string().contains("page 2 repeats page 1"),
        "{error}"
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn paging_reads_no_more_pages_than_total_count_allows() {
    // Each page says there are 4 records in pages of 2, yet a third page would still answer.
    let server = MockServer::start(vec![
        Reply::json(200, &claimed_page(1, 2, 4, &[record(1, "SENT")])),
        Reply::json(200, &claimed_page(2, 2, 4, &[record(2, "SENT")])),
        Reply::json(200, &claimed_page(3, 2, 4, &[record(3, "SENT")])),
    ])
    .await;
    let records = server
        .client("key")
        .get_distribution_information_v2()
        .page_size(2u32)
        .send_all_pages()
        .await
        .unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(server.requests().len(), 2, "two pages of 2 hold 4 records");
}

#[tokio::test]
async fn distribution_v2_stops_at_an_empty_page() {
    let server = MockServer::start(vec![Reply::json(
        200,
        r#"{"meta":{"page":1,"pageSize":100,"count":0,"totalCount":5},"data":[]}"#,
    )])
    .await;
    let records = server
        .client("key")
        .get_distribution_information_v2()
        .send_all_pages()
        .await
        .unwrap();
    assert!(records.is_empty());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn ledger_status_204_is_an_empty_list() {
    let server = MockServer::start(vec![Reply::no_content()]).await;
    let status = server
        .client("key")
        .get_ledger_status()
        .from_date(day(2, 1))
        .send_or_empty()
        .await
        .unwrap();
    assert!(status.ledgers.is_empty());
    assert_eq!(server.requests()[0].query("fromDate"), Some("2026-02-01"));

    let server = MockServer::start(vec![Reply::no_content()]).await;
    let status = server
        .client("key")
        .get_accounting_payment_status()
        .send_or_empty()
        .await
        .unwrap();
    assert!(status.payments.is_empty());
}

#[tokio::test]
async fn ledger_status_with_records_and_errors_pass_through() {
    let server = MockServer::start(vec![Reply::json(
        200,
        r#"{"ledgers":[{"sourceIdentifier":"L1","documentDate":"2026-02-02","documentName":"202600145",
            "status":1,"description":"Successfully synced"}]}"#,
    )])
    .await;
    let status = server
        .client("key")
        .get_ledger_status()
        .send_or_empty()
        .await
        .unwrap();
    assert_eq!(status.ledgers[0].source_identifier, "L1");

    let server = MockServer::start(vec![Reply::error(403, "FORBIDDEN")]).await;
    let error = server
        .client("key")
        .get_ledger_status()
        .send_or_empty()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(types::ErrorCode::Forbidden));
}
