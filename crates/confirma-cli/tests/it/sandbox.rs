//! Output, exit codes and errors against a sandbox of each test's own: the demo client 1000
//! with its seeded invoices 202600101..=202600103 (dated 16 Feb, 23 Feb and 2 Mar 2026,
//! distributed five minutes after the sandbox start on Monday 2026-03-02T08:00Z), and time
//! that moves only when the test moves it.

use std::time::Duration;

use serde_json::{Value, json};

use crate::run::{TestSandbox, confirma};

/// The spec's example invoice under `number`, dated at the sandbox start.
fn invoice(sb: &TestSandbox, number: i64) -> Value {
    let mut invoice = sb.example("createInvoice");
    let header = &mut invoice["invoice"]["header"];
    header["number"] = json!(number);
    header["date"] = json!("2026-03-02");
    header["dueDate"] = json!("2026-03-16");
    invoice["invoice"]["references"]["payment"] = Value::Null;
    invoice
}

/// The spec's request example of `operation`, from the spec as JSON (written by the generator).
fn confirma_server_example(operation: &str) -> Value {
    let spec: Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../confirma-server/src/generated/openapi.json"
    )))
    .unwrap();
    spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .find(|op| op["operationId"] == operation)
        .and_then(|op| op.pointer("/requestBody/content/application~1json/example"))
        .cloned()
        .unwrap()
}

fn json_of(out: &str) -> Value {
    serde_json::from_str(out).expect("JSON output")
}

#[test]
fn what_happened_to_a_delivered_invoice() {
    let sb = TestSandbox::start();
    sb.advance(json!({"days": 1}));
    insta::assert_snapshot!(sb.ok(&["invoice-status", "202600101"]));
}

#[test]
fn what_happened_to_an_invoice_as_a_table() {
    let sb = TestSandbox::start();
    sb.advance(json!({"days": 1}));
    insta::assert_snapshot!(sb.ok(&["invoice-status", "202600101", "--output", "table"]));
}

#[test]
fn distribution_information_as_a_table() {
    let sb = TestSandbox::start();
    sb.advance(json!({"days": 1}));
    insta::assert_snapshot!(sb.ok(&["get-distribution-information", "--output", "table"]));
}

#[test]
fn field_problems_are_printed_one_per_line_with_exit_3() {
    let sb = TestSandbox::start();
    let mut body = invoice(&sb, 700001);
    body["invoice"]["header"]["dueDate"] = json!("2026-02-20");
    body["invoice"]["parties"]["sellerParty"]["businessId"] = json!("1234567-8");
    let run = sb.confirma(&["create-invoice", "--body", "-"], Some(&body.to_string()));
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    insta::assert_snapshot!(run.stderr);
}

#[test]
fn a_business_rule_refusal_names_the_field_with_exit_3() {
    let sb = TestSandbox::start();
    let body = json!({"actions": [{"code": "DUEDATE", "data": {"invoiceNumber": 202600101, "dueDate": "2026-03-01"}}]});
    let run = sb.confirma(
        &["create-invoice-actions", "--body", "-"],
        Some(&body.to_string()),
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    insta::assert_snapshot!(run.stderr);
}

#[test]
fn waiting_succeeds_once_the_clock_moves_on() {
    let sb = TestSandbox::start();
    let waiting = sb.start_confirma(&[
        "wait-distributed",
        "--invoice-number",
        "202600101",
        "--interval",
        "100ms",
        "--timeout",
        "60s",
    ]);
    // Still pending at the sandbox start: the clock moves only once the wait has asked (twice,
    // so it has seen PENDING and gone on waiting).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while sb.answered("getDistributionInformation") < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "wait-distributed never asked for the distribution"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    sb.advance(json!({"days": 1}));
    let run = sb.finish(waiting);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "", "quiet when piped");
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn a_failed_distribution_exits_1_and_shows_without_a_case() {
    let sb = TestSandbox::start();
    sb.control(
        "/sandbox/distribution/fail-next",
        json!({"clientId": 1000, "invoiceNumber": 700002}),
    );
    let mut body = invoice(&sb, 700002);
    body["processing"]["paymentControlEnabled"] = json!(false);
    let created = sb.confirma(&["create-invoice", "--body", "-"], Some(&body.to_string()));
    assert_eq!(created.code, 0, "{}", created.stderr);
    insta::assert_snapshot!("failed_distribution_created", created.stdout);
    sb.advance(json!({"minutes": 10}));

    let run = sb.confirma(&["wait-distributed", "--invoice-number", "700002"], None);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("\"status\": \"FAILED\""),
        "{}",
        run.stdout
    );
    insta::assert_snapshot!("failed_distribution_wait", run.stderr);

    let status = json_of(&sb.ok(&["invoice-status", "700002"]));
    assert_eq!(status["distributions"][0]["status"], "FAILED");
    assert_eq!(status["cases"], json!([]), "no payment control, no case");
}

#[test]
fn waiting_for_an_unknown_invoice_times_out_with_exit_5() {
    let sb = TestSandbox::start();
    let run = sb.confirma(
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
fn payments_and_settlements() {
    let sb = TestSandbox::start();
    sb.advance(json!({"days": 1}));
    let status = json_of(&sb.ok(&["invoice-status", "202600101"]));
    let reference = status["distributions"][0]["paymentReference"]
        .as_str()
        .expect("a payment reference");
    sb.control(
        "/sandbox/payments",
        json!({"reference": reference, "amount": 300.00, "payer": "Rakennusliike Virtanen Oy"}),
    );
    sb.control("/sandbox/settlements/run", json!({}));

    insta::assert_snapshot!(
        "payments_as_json",
        sb.ok(&[
            "get-payments",
            "--from-date",
            "2026-03-01",
            "--to-date",
            "2026-03-31",
        ])
    );
    insta::assert_snapshot!(
        "settlements_as_a_table",
        sb.ok(&["get-settlements", "--unfetched-only", "--output", "table"])
    );
    let again = json_of(&sb.ok(&["get-settlements", "--unfetched-only"]));
    assert_eq!(again["settlements"], json!([]), "each settlement once");
}

#[test]
fn status_lists_as_tables() {
    let sb = TestSandbox::start();
    let ledger = sb.example("submitLedger").to_string();
    let run = sb.confirma(&["submit-ledger", "--body", "-"], Some(&ledger));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut payments = sb.example("submitAccountingPayments");
    payments["payments"]
        .as_array_mut()
        .expect("payments")
        .truncate(1);
    payments["payments"][0]["invoiceNumber"] = json!("202600101");
    let run = sb.confirma(
        &["submit-accounting-payments", "--body", "-"],
        Some(&payments.to_string()),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    sb.advance(json!({"hours": 1}));

    let ledger = sb.ok(&[
        "get-ledger-status",
        "--from-date",
        "2020-01-01",
        "--output",
        "table",
    ]);
    let payments = sb.ok(&[
        "get-accounting-payment-status",
        "--from-date",
        "2020-01-01",
        "--output",
        "table",
    ]);
    let finvoice = sb.ok(&[
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
    let sb = TestSandbox::start();
    let value = json_of(&sb.ok(&["validate-token", "--output", "table"]));
    assert_eq!(value["isValid"], true);
}

#[test]
fn a_body_from_standard_input() {
    let sb = TestSandbox::start();
    let body = r#"{"actions":[{"code":"COMMENT","comment":"Called the buyer.","data":{"invoiceNumber":202600101}}]}"#;
    let run = sb.confirma(&["create-invoice-actions", "--body", "-"], Some(body));
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn a_body_is_sent_as_given_and_every_problem_comes_back_with_its_path() {
    let sb = TestSandbox::start();
    let run = sb.confirma(
        &["create-invoice-actions", "--body", "-"],
        Some(r#"{"actions": 3}"#),
    );
    assert_eq!(run.code, 3, "the API refused it: {}", run.stderr);
    assert!(run.stderr.contains("  $.actions: "), "{}", run.stderr);
    let run = sb.confirma(&["create-invoice", "--body", "-"], Some("{not json"));
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("MALFORMED_JSON"), "{}", run.stderr);
    let run = sb.confirma(
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
fn a_body_template_is_the_specs_example_and_needs_no_key() {
    for (command, operation) in [
        ("create-invoice", "createInvoice"),
        ("create-client", "createClient"),
        ("submit-ledger", "submitLedger"),
    ] {
        let run = confirma(&[command, "--body-template"], None);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let printed: Value = serde_json::from_str(&run.stdout).unwrap();
        let example: Value = confirma_server_example(operation);
        assert_eq!(printed, example, "{command}");
    }
    // And the templates post as they are, in the documented order: onboard, then invoice.
    let sb = TestSandbox::start();
    let onboard = confirma(&["create-client", "--body-template"], None).stdout;
    let provisioning = confirma_sandbox::Config::for_tests()
        .provisioning_token
        .unwrap();
    let post = |command: &str, key: &str, body: &str| {
        let run = crate::run::confirma_env_stdin(
            &[command, "--body", "-", "--env", &sb.base],
            &[("CONFIRMA_API_KEY", key)],
            Some(body),
        );
        assert_eq!(run.code, 0, "{command}: {}", run.stderr);
        json_of(&run.stdout)
    };
    let onboarded = post("create-client", &provisioning, &onboard);
    let token = onboarded["accessToken"].as_str().unwrap();
    let invoice = confirma(&["create-invoice", "--body-template"], None).stdout;
    let created = post("create-invoice", token, &invoice);
    assert_eq!(created["status"], "ACCEPTED");
}

#[test]
fn scripts_choose_the_api_with_environment_variables_alone() {
    let sb = TestSandbox::start();
    for variable in ["CONFIRMA_BASE_URL", "CONFIRMA_ENV"] {
        let run = crate::run::confirma_env(
            &["validate-token"],
            &[
                (variable, sb.base.as_str()),
                ("CONFIRMA_API_KEY", sb.demo_token.as_str()),
            ],
        );
        assert_eq!(run.code, 0, "{variable}: {}", run.stderr);
        assert!(run.stdout.contains("\"isValid\": true"), "{}", run.stdout);
    }
    // --env wins over both.
    let run = crate::run::confirma_env(
        &["validate-token", "--env", &sb.base],
        &[
            ("CONFIRMA_BASE_URL", "http://127.0.0.1:9"),
            ("CONFIRMA_ENV", "http://127.0.0.1:9"),
            ("CONFIRMA_API_KEY", sb.demo_token.as_str()),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
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
    let sb = TestSandbox::start();
    let run = sb.confirma_with_key_flag(&["validate-token"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json_of(&run.stdout)["isValid"], true);
}

#[test]
fn an_unknown_key_is_an_api_error_with_exit_3() {
    let sb = TestSandbox::start();
    let run = confirma(
        &[
            "--env",
            &sb.base,
            "--api-key",
            "not-a-token",
            "get-distribution-information",
        ],
        None,
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    insta::assert_snapshot!(run.stderr);
}

#[test]
fn an_unreachable_service_exits_4() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{closed}");
    let run = confirma(
        &[
            "--env",
            &url,
            "--api-key",
            "any",
            "create-invoice-actions",
            "--body",
            "-",
        ],
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
