//! Output, exit codes and errors against `ExampleApi`, which answers every operation with the
//! spec's example (whatever the filters), validates requests, and never fails on its own.

use crate::run::{against_stub, confirma};

fn ok(args: &[&str]) -> String {
    let run = against_stub(args, None);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(run.stderr, "", "nothing on stderr when all is well");
    run.stdout
}

#[test]
fn settlements_as_a_table() {
    insta::assert_snapshot!(ok(&[
        "get-settlements",
        "--unfetched-only",
        "--output",
        "table"
    ]));
}

#[test]
fn payments_as_json() {
    let out = ok(&[
        "get-payments",
        "--from-date",
        "2026-03-01",
        "--to-date",
        "2026-03-31",
    ]);
    insta::assert_snapshot!(out);
}

#[test]
fn distribution_information_as_a_table() {
    insta::assert_snapshot!(ok(&["get-distribution-information", "--output", "table"]));
}

#[test]
fn status_lists_as_tables() {
    let ledger = ok(&["get-ledger-status", "--output", "table"]);
    let payments = ok(&["get-accounting-payment-status", "--output", "table"]);
    let finvoice = ok(&[
        "get-finvoice-credentials",
        "--business-id",
        "3120495-4",
        "--output",
        "table",
    ]);
    insta::assert_snapshot!(format!("{ledger}\n{payments}\n{finvoice}"));
}

#[test]
fn a_single_answer_stays_json_with_table_output() {
    let out = ok(&["validate-token", "--output", "table"]);
    let value: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(value["isValid"], true);
}

#[test]
fn what_happened_to_an_invoice() {
    insta::assert_snapshot!(ok(&["invoice-status", "202600145"]));
}

#[test]
fn what_happened_to_an_invoice_as_a_table() {
    insta::assert_snapshot!(ok(&["invoice-status", "202600145", "--output", "table"]));
}

#[test]
fn an_invoice_without_a_case_shows_its_distribution_only() {
    let out = ok(&["invoice-status", "202600147"]);
    let value: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(value["distributions"][0]["status"], "FAILED");
    assert_eq!(value["cases"], serde_json::json!([]));
}

#[test]
fn waiting_for_a_delivered_invoice_prints_its_record_quietly() {
    insta::assert_snapshot!(ok(&["wait-distributed", "--invoice-number", "202600145"]));
}

#[test]
fn waiting_for_a_failed_distribution_exits_1() {
    let run = against_stub(&["wait-distributed", "--invoice-number", "202600147"], None);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("\"status\": \"FAILED\""));
    insta::assert_snapshot!(run.stderr);
}

#[test]
fn waiting_for_an_unknown_invoice_times_out_with_exit_5() {
    let run = against_stub(
        &[
            "wait-distributed",
            "--invoice-number",
            "1",
            "--timeout",
            "300ms",
            "--interval",
            "100ms",
        ],
        None,
    );
    assert_eq!(run.code, 5);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: invoice 1: distribution still not listed yet after 300ms\n"
    );
}

#[test]
fn a_body_from_standard_input() {
    let body = r#"{"actions":[{"code":"COMMENT","comment":"Called the buyer.","data":{"invoiceNumber":202600145}}]}"#;
    let run = against_stub(&["create-invoice-actions", "--body", "-"], Some(body));
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn field_problems_are_printed_one_per_line_with_exit_3() {
    let body = r#"{"payments":[{"paymentIdentifier":"p-1","invoiceNumber":"202600145",
        "paymentDate":"2026-03-27","amount":500.001,"currency":"EUR"}]}"#;
    let run = against_stub(&["submit-accounting-payments", "--body", "-"], Some(body));
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    insta::assert_snapshot!(run.stderr);
}

#[test]
fn a_body_that_does_not_fit_is_a_usage_error() {
    let run = against_stub(
        &["create-invoice-actions", "--body", "-"],
        Some(r#"{"actions": 3}"#),
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("error: --body standard input is not a valid request body:"),
        "{}",
        run.stderr
    );
    let run = against_stub(
        &["create-invoice", "--body", "/nonexistent/invoice.json"],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("error: cannot read --body /nonexistent/invoice.json")
    );
}

#[test]
fn usage_errors_exit_2() {
    let run = confirma(&["get-payments", "--from-date", "27.3.2026"], None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--from-date"), "{}", run.stderr);

    let run = confirma(
        &["get-distribution-information", "--fetch-type", "SOME"],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("[possible values: ALL, SUCCESSFUL, FAILED]"),
        "{}",
        run.stderr
    );

    let run = confirma(&["--env", "stagign", "validate-token"], None);
    assert_eq!(run.code, 2);

    let run = confirma(&["validate-token"], None);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: no API key: set CONFIRMA_API_KEY or pass --api-key\n"
    );
}

#[test]
fn the_key_flag_works_and_is_never_echoed() {
    let run = confirma(
        &[
            "--env",
            crate::run::example_api(),
            "--api-key",
            crate::run::SECRET,
            "validate-token",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn an_unreachable_service_exits_4() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{closed}");
    let run = crate::run::with_key(
        &["--env", &url, "create-invoice-actions", "--body", "-"],
        Some(r#"{"actions":[{"code":"COMMENT","comment":"x","data":{"invoiceNumber":1}}]}"#),
    );
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("error: could not talk to the Partner API"),
        "{}",
        run.stderr
    );
}
