//! Validation against the spec: every violation of a request is reported at once, with the JSON
//! path of each bad field, before the trait is called.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::{assert_error, send};

fn invoice_example() -> Value {
    confirma_server::SPEC
        .pointer(
            "/paths/~1api~1v1~1partner~1invoice/post/requestBody/content/application~1json/example",
        )
        .cloned()
        .expect("the spec has a createInvoice request example")
}

fn set(body: &mut Value, pointer: &str, value: Value) {
    *body
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} is in the example")) = value;
}

#[tokio::test]
async fn the_example_invoice_is_accepted() {
    let body = invoice_example().to_string();
    let (status, answer) = send(
        "POST",
        "/api/v1/partner/invoice",
        Some("application/json"),
        body,
    )
    .await;
    assert_eq!(status, 200, "{answer:#}");
}

#[tokio::test]
async fn twenty_invalid_fields_give_one_400_listing_all_twenty() {
    let mut body = invoice_example();
    let breakages: [(&str, Value, &str); 20] = [
        (
            "/processing/paymentControlEnabled",
            json!("yes"),
            "$.processing.paymentControlEnabled",
        ),
        (
            "/distribution/method",
            json!("FAX"),
            "$.distribution.method",
        ),
        (
            "/distribution/enabled",
            json!("true"),
            "$.distribution.enabled",
        ),
        (
            "/invoice/header/number",
            json!("abc"),
            "$.invoice.header.number",
        ),
        (
            "/invoice/header/type",
            json!("BILL"),
            "$.invoice.header.type",
        ),
        (
            "/invoice/header/date",
            json!("2026-02-30"),
            "$.invoice.header.date",
        ),
        (
            "/invoice/header/dueDate",
            json!("tomorrow"),
            "$.invoice.header.dueDate",
        ),
        (
            "/invoice/header/currencyCode",
            json!("eu"),
            "$.invoice.header.currencyCode",
        ),
        (
            "/invoice/header/languageCode",
            json!(7),
            "$.invoice.header.languageCode",
        ),
        (
            "/invoice/references/orderDate",
            json!("20.1.2026"),
            "$.invoice.references.orderDate",
        ),
        (
            "/invoice/parties/sellerParty/name",
            json!(null),
            "$.invoice.parties.sellerParty.name",
        ),
        (
            "/invoice/parties/sellerParty/address/countryCode",
            json!("fi"),
            "$.invoice.parties.sellerParty.address.countryCode",
        ),
        (
            "/invoice/parties/buyerParty/entityType",
            json!("ALIEN"),
            "$.invoice.parties.buyerParty.entityType",
        ),
        (
            "/invoice/parties/buyerParty/disableCollection",
            json!(0),
            "$.invoice.parties.buyerParty.disableCollection",
        ),
        (
            "/invoice/parties/buyerParty/contact/contactPerson/email",
            json!("not-an-email"),
            "$.invoice.parties.buyerParty.contact.contactPerson.email",
        ),
        (
            "/invoice/rows/0/quantity",
            json!(1.00001),
            "$.invoice.rows[0].quantity",
        ),
        (
            "/invoice/rows/0/unitPrice",
            json!(85.001),
            "$.invoice.rows[0].unitPrice",
        ),
        (
            "/invoice/rows/1/vatCategoryCode",
            json!("X"),
            "$.invoice.rows[1].vatCategoryCode",
        ),
        (
            "/invoice/amounts/totalGrossAmount",
            json!("912.39"),
            "$.invoice.amounts.totalGrossAmount",
        ),
        (
            "/invoice/terms/paymentTerms/paymentTermsDays",
            json!(14.5),
            "$.invoice.terms.paymentTerms.paymentTermsDays",
        ),
    ];
    for (pointer, value, _) in &breakages {
        set(&mut body, pointer, value.clone());
    }
    let (status, answer) = send(
        "POST",
        "/api/v1/partner/invoice",
        Some("application/json"),
        body.to_string(),
    )
    .await;
    assert_eq!(status, 400, "{answer:#}");
    let problems = assert_error(&answer, "VALIDATION_FAILED");
    let reported: BTreeSet<&str> = problems
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<&str> = breakages.iter().map(|(_, _, path)| *path).collect();
    assert_eq!(reported, expected, "{answer:#}");
    for p in &problems {
        assert!(
            !p["code"].as_str().unwrap().is_empty() && !p["message"].as_str().unwrap().is_empty(),
            "{p}"
        );
    }
}

#[tokio::test]
async fn a_missing_required_field_is_reported_at_its_own_path() {
    let mut body = invoice_example();
    body["invoice"]["header"]
        .as_object_mut()
        .unwrap()
        .remove("dueDate");
    body.as_object_mut().unwrap().remove("distribution");
    let (status, answer) = send(
        "POST",
        "/api/v1/partner/invoice",
        Some("application/json"),
        body.to_string(),
    )
    .await;
    assert_eq!(status, 400);
    let problems = assert_error(&answer, "VALIDATION_FAILED");
    let paths: BTreeSet<(&str, &str)> = problems
        .iter()
        .map(|p| (p["path"].as_str().unwrap(), p["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        paths,
        BTreeSet::from([
            ("$.invoice.header.dueDate", "required"),
            ("$.distribution", "required")
        ]),
        "{answer:#}"
    );
}

#[tokio::test]
async fn amounts_keep_their_exact_value_and_more_than_two_places_is_refused() {
    let mut body = invoice_example();
    set(
        &mut body,
        "/invoice/amounts/totalGrossAmount",
        serde_json::from_str("912.390").unwrap(),
    );
    let (status, _) = send(
        "POST",
        "/api/v1/partner/invoice",
        Some("application/json"),
        body.to_string(),
    )
    .await;
    assert_eq!(status, 200, "912.390 has two significant places");
    set(
        &mut body,
        "/invoice/amounts/totalGrossAmount",
        serde_json::from_str("0.30000000000000004").unwrap(),
    );
    let (status, answer) = send(
        "POST",
        "/api/v1/partner/invoice",
        Some("application/json"),
        body.to_string(),
    )
    .await;
    assert_eq!(status, 400);
    let problems = assert_error(&answer, "VALIDATION_FAILED");
    assert_eq!(problems[0]["code"], "decimalPlaces");
    assert_eq!(problems[0]["path"], "$.invoice.amounts.totalGrossAmount");
    assert_eq!(problems[0]["message"], "must have at most 2 decimals");
}

#[tokio::test]
async fn query_parameters_are_validated_by_type_format_and_range() {
    let (status, answer) = send(
        "GET",
        "/api/v1/partner/invoice/distribution/v2?page=0&pageSize=100000&fromInvDate=2026-02-31&fetchType=SOME",
        None,
        "",
    )
    .await;
    assert_eq!(status, 400, "{answer:#}");
    let paths: BTreeSet<String> = assert_error(&answer, "VALIDATION_FAILED")
        .iter()
        .map(|p| p["path"].as_str().unwrap().to_string())
        .collect();
    let expected: BTreeSet<String> = [
        "query.page",
        "query.pageSize",
        "query.fromInvDate",
        "query.fetchType",
    ]
    .map(String::from)
    .into();
    assert_eq!(paths, expected, "{answer:#}");
    let (status, _) = send("GET", "/api/v1/partner/finvoice/credentials", None, "").await;
    assert_eq!(status, 400, "businessId is required");
}

#[tokio::test]
async fn every_amount_in_its_stated_range_is_accepted_and_one_outside_names_the_field() {
    let post = |body: Value| async move {
        send(
            "POST",
            "/api/v1/partner/invoice",
            Some("application/json"),
            body.to_string(),
        )
        .await
    };
    let path = "/invoice/amounts/roundingAmount";
    for inside in ["999999999999.99", "-999999999999.99", "1e3", "0"] {
        let mut body = invoice_example();
        set(&mut body, path, serde_json::from_str(inside).unwrap());
        let (status, answer) = post(body).await;
        assert_eq!(status, 200, "{inside}: {answer:#}");
    }
    for (outside, keyword) in [
        ("21347514149337854640128", "maximum"),
        ("-4.31e31", "minimum"),
        ("1000000000000", "maximum"),
    ] {
        let mut body = invoice_example();
        set(&mut body, path, serde_json::from_str(outside).unwrap());
        let (status, answer) = post(body).await;
        assert_eq!(status, 400, "{outside}");
        let problems = assert_error(&answer, "VALIDATION_FAILED");
        assert_eq!(problems.len(), 1, "{answer:#}");
        assert_eq!(problems[0]["path"], "$.invoice.amounts.roundingAmount");
        assert_eq!(problems[0]["code"], keyword, "{outside}");
    }
}

#[tokio::test]
async fn invoice_numbers_are_bounded_to_fourteen_digits() {
    for (number, keyword) in [
        ("-5", "minimum"),
        ("-1", "minimum"),
        ("12345678901234567", "maximum"),
    ] {
        let mut body = invoice_example();
        set(
            &mut body,
            "/invoice/header/number",
            serde_json::from_str(number).unwrap(),
        );
        let (status, answer) = send(
            "POST",
            "/api/v1/partner/invoice",
            Some("application/json"),
            body.to_string(),
        )
        .await;
        assert_eq!(status, 400, "{number}");
        let problems = assert_error(&answer, "VALIDATION_FAILED");
        assert_eq!(problems[0]["path"], "$.invoice.header.number", "{number}");
        assert_eq!(problems[0]["code"], keyword, "{number}");
    }
    let (status, _) = send(
        "GET",
        "/api/v1/partner/invoice/case?invoiceNumber=-5",
        None,
        "",
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn an_error_never_repeats_a_large_submitted_value() {
    let huge = "x".repeat(1_000_000);
    let mut body = invoice_example();
    set(
        &mut body,
        "/invoice/header/description",
        Value::String(huge.clone()),
    );
    set(&mut body, "/invoice/parties", json!([huge]));
    let (status, answer) = send(
        "POST",
        "/api/v1/partner/invoice",
        Some("application/json"),
        body.to_string(),
    )
    .await;
    assert_eq!(status, 400);
    let text = answer.to_string();
    assert!(text.len() < 2_000, "{} bytes: {}", text.len(), &text[..500]);
    let problems = assert_error(&answer, "VALIDATION_FAILED");
    let paths: BTreeSet<&str> = problems.iter().filter_map(|p| p["path"].as_str()).collect();
    assert!(paths.contains("$.invoice.header.description"), "{paths:?}");
    assert!(paths.contains("$.invoice.parties"), "{paths:?}");
    // Short values are still shown, as they help.
    let mut body = invoice_example();
    set(&mut body, "/distribution/method", json!("FAX"));
    let (_, answer) = send(
        "POST",
        "/api/v1/partner/invoice",
        Some("application/json"),
        body.to_string(),
    )
    .await;
    assert!(answer.to_string().contains("FAX"), "{answer}");
}

#[tokio::test]
async fn served_examples_keep_the_decimals_the_spec_writes() {
    // The spec writes `paidAmount: 500.00` and `costsAmount: 5.00` in this example.
    let response = tower::ServiceExt::oneshot(
        confirma_server::router(confirma_server::ExampleApi),
        axum::http::Request::get("/api/v1/partner/invoice/case?caseId=481920")
            .header("x-api-key", "k")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(text.contains(r#""paidAmount":500.00"#), "{text}");
    assert!(text.contains(r#""costsAmount":5.00"#), "{text}");
    // And so does the served description.
    let (status, description) = send("GET", "/openapi.json", None, "").await;
    assert_eq!(status, 200);
    assert!(
        description.to_string().contains(r#""paidAmount":500.00"#),
        "the served examples lost their decimals"
    );
}

/// `format: int32` bounds a parameter although its Rust type (`NonZeroU32` for `minimum: 1`)
/// would hold more: the first value past `i32::MAX` is refused, naming the parameter.
#[tokio::test]
async fn an_int32_parameter_is_bounded_by_its_format() {
    let uri = "/api/v1/partner/invoice/distribution/v2";
    let (status, answer) = send("GET", &format!("{uri}?page=2147483647"), None, "").await;
    assert_eq!(status, 200, "{answer:#}");
    let (status, answer) = send("GET", &format!("{uri}?page=2147483648"), None, "").await;
    assert_eq!(status, 400, "{answer:#}");
    let problems = assert_error(&answer, "VALIDATION_FAILED");
    assert_eq!(problems[0]["path"], "query.page", "{answer:#}");
    assert_eq!(problems[0]["code"], "maximum", "{answer:#}");
}
