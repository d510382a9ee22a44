//! What a hostile or careless partner tries: other clients' references, unbounded clocks,
//! requests without credentials, connections that never finish. Each case answers in the error
//! format and changes nothing it should not.

use std::time::Duration;

use confirma_client::types;
use confirma_sandbox::{Config, Limits, Sandbox};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{BUSINESS_IDS, TestSandbox, api_error, invoice};

/// The spec's example invoice under `number`, with `reference` as its payment reference.
fn with_reference(number: i64, reference: &str) -> types::SalesInvoiceRequest {
    let mut request = invoice(number);
    request.invoice.references.as_mut().unwrap().payment = Some(reference.parse().unwrap());
    request
}

/// The Finnish reference on `base` with its check digit (7-3-1 from the right).
fn reference(base: &str) -> String {
    let sum: u32 = base
        .bytes()
        .rev()
        .zip([7u32, 3, 1].iter().cycle())
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    format!("{base}{}", (10 - sum % 10) % 10)
}

/// The RF creditor reference (ISO 11649) with `body`.
fn rf_reference(body: &str) -> String {
    let digits: String = format!("{body}RF00")
        .chars()
        .map(|c| c.to_digit(36).unwrap().to_string())
        .collect();
    let rem = digits
        .bytes()
        .fold(0u32, |r, d| (r * 10 + u32::from(d - b'0')) % 97);
    format!("RF{:02}{body}", 98 - rem)
}

#[tokio::test]
async fn a_payment_reference_belongs_to_one_invoice_of_one_client() {
    let sb = TestSandbox::start(None).await;
    let (_, alice) = sb.onboard(BUSINESS_IDS[0], "Alice Oy").await;
    let (_, bob) = sb.onboard(BUSINESS_IDS[1], "Bob Oy").await;
    let alices = sb
        .client(&alice)
        .create_invoice()
        .body(invoice(1))
        .send()
        .await
        .unwrap()
        .into_inner();
    let alice_ref = alices.payment_reference.clone().unwrap();

    // Bob may not take Alice's reference, nor any reference off his own prefix.
    let (status, error) = api_error(
        sb.client(&bob)
            .create_invoice()
            .body(with_reference(1, &alice_ref))
            .send()
            .await,
    );
    assert_eq!(status, 402, "{error:?}");
    assert_eq!(error.field_errors[0].path, "$.invoice.references.payment");
    assert!(
        !error.message.contains("invoice 1"),
        "another client's invoice is not described: {}",
        error.message
    );
    // Alice may not use her reference twice.
    let (status, error) = api_error(
        sb.client(&alice)
            .create_invoice()
            .body(with_reference(2, &alice_ref))
            .send()
            .await,
    );
    assert_eq!(status, 402);
    assert_eq!(error.field_errors[0].path, "$.invoice.references.payment");
    assert!(
        error.field_errors[0].message.contains("invoice 1"),
        "{error:?}"
    );

    // A fresh reference on her own prefix is hers, also as RF...
    let alice_prefix = &alice_ref[..4];
    let rf = rf_reference(&format!("{alice_prefix}888"));
    let created = sb
        .client(&alice)
        .create_invoice()
        .body(with_reference(6, &rf))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        created.payment_reference.as_deref().map(String::as_str),
        Some(rf.as_str())
    );
    let (status, _) = api_error(
        sb.client(&bob)
            .create_invoice()
            .body(with_reference(
                6,
                &rf_reference(&format!("{alice_prefix}889")),
            ))
            .send()
            .await,
    );
    assert_eq!(status, 402, "an RF reference on another client's prefix");
    let own = reference(&format!("{alice_prefix}777"));
    let created = sb
        .client(&alice)
        .create_invoice()
        .body(with_reference(3, &own))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        created.payment_reference.as_deref().map(String::as_str),
        Some(own.as_str())
    );
    // ...and an invoice whose generated reference was taken explicitly is told so.
    let taken = reference(&format!("{alice_prefix}4"));
    sb.client(&alice)
        .create_invoice()
        .body(with_reference(5, &taken))
        .send()
        .await
        .unwrap();
    let (status, error) = api_error(
        sb.client(&alice)
            .create_invoice()
            .body(invoice(4))
            .send()
            .await,
    );
    assert_eq!(status, 402);
    assert_eq!(error.field_errors[0].path, "$.invoice.header.number");

    // A payment by reference says which case it credited.
    let (status, credited) = sb
        .control(
            "/sandbox/payments",
            json!({"reference": alice_ref, "amount": 10.00}),
        )
        .await;
    assert_eq!(status, 200, "{credited}");
    assert_eq!(credited["caseId"], json!(alices.case_id.unwrap()));
    assert_eq!(credited["invoiceNumber"], 1);
    assert_eq!(credited["amount"].to_string(), "10.00");
    let (status, error) = sb
        .control(
            "/sandbox/payments",
            json!({"reference": reference("99999123"), "amount": 10.00}),
        )
        .await;
    assert_eq!(status, 404, "{error}");
    assert_eq!(error["code"], "NOT_FOUND");
}

#[tokio::test]
async fn the_clock_cap_holds_for_a_target_time_too() {
    let sb = TestSandbox::start(None).await;
    let before = sb.sandbox.now().await.unwrap();
    for body in [
        json!({"to": "2326-03-02T08:00:00Z"}),
        json!({"days": 3661}),
        json!({"days": i64::MAX}),
    ] {
        let (status, answer) = sb.control("/sandbox/clock/advance", body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["code"], "BAD_REQUEST");
    }
    // Refused before any step: an advance goes a day at a time, each day committed.
    assert_eq!(sb.sandbox.now().await.unwrap(), before, "refused at once");
    let (status, _) = sb
        .control(
            "/sandbox/clock/advance",
            json!({"to": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, 402, "the past");
    let (status, answer) = sb
        .control(
            "/sandbox/clock/advance",
            json!({"to": "2026-03-09T08:00:00Z"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["now"], "2026-03-09T08:00:00Z");
}

/// A raw request to the sandbox: status and JSON body.
async fn raw(
    sb: &TestSandbox,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    let mut request =
        reqwest::Client::new().request(method.parse().unwrap(), format!("{}{path}", sb.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.body(body.to_string()).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{method} {path} answered {status}, not JSON ({e}): {text}"));
    (status, json)
}

#[tokio::test]
async fn an_unauthenticated_caller_learns_nothing_about_the_body() {
    let sb = TestSandbox::start(None).await;
    let json_type = ("content-type", "application/json");
    for (key, expected) in [
        (None, 401),
        (Some("garbage"), 401),
        (Some(crate::PROVISIONING), 403),
    ] {
        let mut headers = vec![json_type];
        if let Some(key) = key {
            headers.push(("x-api-key", key));
        }
        for body in ["{}", "{", "[1,2"] {
            let (status, answer) =
                raw(&sb, "POST", "/api/v1/partner/invoice", &headers, body).await;
            assert_eq!(status, expected, "{key:?} {body}: {answer}");
            assert_eq!(answer["fieldErrors"], json!([]), "{answer}");
        }
        // Query parameters are not looked at either.
        let (status, answer) = raw(
            &sb,
            "GET",
            "/api/v1/partner/invoice/distribution/v2?page=-1&fetchType=NOPE",
            &headers,
            "",
        )
        .await;
        assert_eq!(status, expected, "{answer}");
        assert_eq!(answer["fieldErrors"], json!([]));
    }
    // Onboarding needs the provisioning token before its body is read.
    let (status, answer) = raw(&sb, "POST", "/api/v1/partner/client", &[json_type], "{}").await;
    assert_eq!(status, 401, "{answer}");
    // The control API too.
    let (status, _) = raw(&sb, "POST", "/sandbox/clock/advance", &[json_type], "{").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn tokens_are_random_per_database_and_kept_by_it() {
    let dir = tempfile::tempdir().unwrap();
    let open = async |name: &str| {
        Sandbox::open(Config {
            storage: confirma_sandbox::Location::File(dir.path().join(name)),
            provisioning_token: None,
            admin_token: None,
            ..Config::for_tests()
        })
        .await
        .unwrap()
        .secrets
        .clone()
    };
    let first = open("a.db").await;
    let again = open("a.db").await;
    let other = open("b.db").await;
    assert_eq!(first.provisioning_token, again.provisioning_token);
    assert_eq!(first.admin_token, again.admin_token);
    assert_ne!(first.provisioning_token, other.provisioning_token);
    assert_ne!(first.admin_token, other.admin_token);
    assert_ne!(first.admin_token, first.provisioning_token);
    assert!(first.admin_token.len() >= 32, "{}", first.admin_token.len());
}

#[tokio::test]
async fn after_a_renewal_a_restart_shows_the_current_demo_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let sb = TestSandbox::start(Some(db.clone())).await;
    let renewed = crate::renewed(&sb.client(&sb.demo_token().await)).await;
    sb.stop().await;
    let sb = TestSandbox::start(Some(db)).await;
    assert_eq!(sb.demo_token().await, renewed);
    sb.client(&sb.demo_token().await)
        .validate_token()
        .send()
        .await
        .expect("the printed token works");
}

#[tokio::test]
async fn oversized_uris_and_headers_answer_in_the_error_format() {
    let sb = TestSandbox::start(None).await;
    let token = sb.demo_token().await;
    let long = format!(
        "/api/v1/partner/payments?invoiceNumber={}",
        "1".repeat(9000)
    );
    let (status, answer) = raw(&sb, "GET", &long, &[("x-api-key", &token)], "").await;
    assert_eq!(status, 414, "{answer}");
    assert_eq!(answer["code"], "URI_TOO_LONG");
    let filler = "f".repeat(4000);
    let headers: Vec<(String, &str)> = (0..6)
        .map(|i| (format!("x-filler-{i}"), filler.as_str()))
        .collect();
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let (status, answer) = raw(&sb, "GET", "/api/v1/partner/validate", &headers, "").await;
    assert_eq!(status, 431, "{answer}");
    assert_eq!(answer["code"], "HEADERS_TOO_LARGE");
    // More than 100 headers, each small (hyper counts them, with the same limit): the same
    // answer; 90 of them and the key are answered as usual.
    let names: Vec<String> = (0..150).map(|i| format!("x-h-{i}")).collect();
    for (count, expected) in [(150, 431), (90, 200)] {
        let mut headers: Vec<(&str, &str)> =
            names[..count].iter().map(|n| (n.as_str(), "v")).collect();
        headers.push(("x-api-key", &token));
        let (status, answer) = raw(&sb, "GET", "/api/v1/partner/validate", &headers, "").await;
        assert_eq!(status, expected, "{count} headers: {answer}");
        if expected == 431 {
            assert_eq!(answer["code"], "HEADERS_TOO_LARGE");
        }
    }
}

/// Reads from `stream` until it closes; whatever arrived, or `None` if it stayed open `wait`.
async fn read_until_closed(stream: &mut tokio::net::TcpStream, wait: Duration) -> Option<String> {
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(wait, read).await.ok()?;
    Some(String::from_utf8_lossy(&got).into_owned())
}

#[tokio::test]
async fn idle_and_stalled_connections_are_closed_and_extra_ones_refused() {
    let limits = Limits {
        max_connections: 3,
        header_read_timeout: Duration::from_millis(500),
    };
    let sb = TestSandbox::start_with(Config::for_tests(), limits).await;
    let addr = sb.base.trim_start_matches("http://").to_string();
    let connect = || tokio::net::TcpStream::connect(addr.clone());

    // Idle, and headers that never finish: closed after the deadline, not held.
    let mut idle = connect().await.unwrap();
    let mut stalled = connect().await.unwrap();
    stalled
        .write_all(b"GET /api/v1/partner/validate HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut third = connect().await.unwrap();
    // Once the third is answered, all three were accepted (in the order they connected).
    third
        .write_all(b"GET /api/v1/partner/validate HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 12];
    tokio::io::AsyncReadExt::read_exact(&mut third, &mut answer)
        .await
        .unwrap();
    assert_eq!(&answer, b"HTTP/1.1 401");
    // A fourth connection while three are open is refused with 503 in the error format.
    let mut fourth = connect().await.unwrap();
    let refused = read_until_closed(&mut fourth, Duration::from_secs(2))
        .await
        .expect("refused at once");
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains("SERVICE_UNAVAILABLE"), "{refused}");

    for stream in [&mut idle, &mut stalled, &mut third] {
        assert!(
            read_until_closed(stream, Duration::from_secs(3))
                .await
                .is_some(),
            "the connection is closed after the header deadline"
        );
    }
    // Then there is room again.
    let mut again = connect().await.unwrap();
    again
        .write_all(b"GET /api/v1/partner/validate HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut again, Duration::from_secs(3))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_ever_reaches_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sandbox.log");
    let mut sandbox = crate::Binary::start_logging(&dir.path().join("log.db"), 5, Some(&log));
    let demo = sandbox.token.clone();
    let mut onboarding: types::CreateClientRequest = crate::example("createClient");
    onboarding.client.business_code = BUSINESS_IDS[0].parse().unwrap();
    onboarding.client.vat_reg_nbr = Some("FI06461158".parse().unwrap());
    let created = sandbox
        .client(crate::PROVISIONING)
        .create_client()
        .body(onboarding)
        .send()
        .await
        .unwrap()
        .into_inner()
        .access_token;
    let renewed = crate::renewed(&sandbox.client(&created)).await;
    sandbox.client(&demo).validate_token().send().await.unwrap();
    let garbage = "cfsb_garbage_token_that_nobody_has_0123456789";
    let _ = sandbox.client(garbage).validate_token().send().await;
    let _ = sandbox
        .client(&demo)
        .create_invoice()
        .body(invoice(1))
        .send()
        .await;
    let clock = reqwest::Client::new()
        .get(format!("{}/sandbox/clock", sandbox.base))
        .header("x-admin-token", crate::ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(clock.status(), 200);
    sandbox.child.kill().unwrap();
    sandbox.child.wait().unwrap();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.lines().count() > 10,
        "the log at trace level was captured: {logged:.500}"
    );
    assert!(
        logged.contains("/api/v1/partner/renew"),
        "requests are logged"
    );
    for secret in [
        demo.as_str(),
        created.as_str(),
        renewed.as_str(),
        garbage,
        crate::PROVISIONING,
        crate::ADMIN,
    ] {
        assert!(!logged.contains(secret), "a token is in the log: {secret}");
    }
}

#[tokio::test]
async fn the_largest_values_the_spec_allows_are_answered_not_crashed_on() {
    let sb = TestSandbox::start(None).await;
    let token = sb.demo_token().await;
    let mut body: Value = crate::example_body("createInvoice");
    for row in body["invoice"]["rows"].as_array_mut().unwrap() {
        row["quantity"] = json!(99999999.9999);
        row["unitPrice"] = serde_json::from_str("999999999999.99").unwrap();
        row["discountPercentage"] = json!(100);
        row["vatPercentage"] = json!(100);
        row["discountAmount"] = serde_json::from_str("-999999999999.99").unwrap();
        for field in ["netAmount", "vatAmount", "grossAmount"] {
            row[field] = Value::Null;
        }
    }
    body["invoice"]["amounts"]["totalGrossAmount"] =
        serde_json::from_str("999999999999.99").unwrap();
    body["invoice"]["terms"]["interest"]["percentage"] = json!(100);
    let json_type = ("content-type", "application/json");
    let (status, answer) = raw(
        &sb,
        "POST",
        "/api/v1/partner/invoice",
        &[json_type, ("x-api-key", &token)],
        &body.to_string(),
    )
    .await;
    assert_eq!(status, 400, "the totals do not add up: {answer}");
    // A rate beyond 100 % is refused by the schema: amount × rate could overflow a decimal.
    let mut too_high = body.clone();
    too_high["invoice"]["rows"][0]["discountPercentage"] =
        serde_json::from_str("999999999999.99").unwrap();
    let (status, answer) = raw(
        &sb,
        "POST",
        "/api/v1/partner/invoice",
        &[json_type, ("x-api-key", &token)],
        &too_high.to_string(),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["fieldErrors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "$.invoice.rows[0].discountPercentage" && f["code"] == "maximum"),
        "{answer}"
    );
    // The largest invoice that adds up, at 100 % interest.
    let mut body: Value = crate::example_body("createInvoice");
    body["invoice"]["header"]["number"] = json!(990001);
    body["invoice"]["references"]["payment"] = Value::Null;
    let mut row = body["invoice"]["rows"][0].clone();
    row["quantity"] = json!(1);
    row["unitPrice"] = serde_json::from_str("999999999999.99").unwrap();
    row["vatPercentage"] = json!(0);
    for field in [
        "discountPercentage",
        "discountAmount",
        "netAmount",
        "vatAmount",
        "grossAmount",
    ] {
        row[field] = Value::Null;
    }
    body["invoice"]["rows"] = json!([row]);
    let largest: Value = serde_json::from_str("999999999999.99").unwrap();
    body["invoice"]["amounts"]["totalNetAmount"] = largest.clone();
    body["invoice"]["amounts"]["totalVatAmount"] = json!(0);
    body["invoice"]["amounts"]["totalGrossAmount"] = largest;
    body["invoice"]["amounts"]["roundingAmount"] = Value::Null;
    body["invoice"]["terms"]["interest"]["percentage"] = json!(100);
    let (status, answer) = raw(
        &sb,
        "POST",
        "/api/v1/partner/invoice",
        &[json_type, ("x-api-key", &token)],
        &body.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    // A payment far beyond any balance, through the control API (not validated by the spec).
    let (status, _) = sb
        .control(
            "/sandbox/payments",
            json!({"reference": "10442026001013", "amount": 79228162514264337593543950335u128}),
        )
        .await;
    assert_eq!(status, 402);
    // Ten years of interest at 100 % on the largest amount.
    let (status, answer) = sb
        .control("/sandbox/clock/advance", json!({"days": 3660}))
        .await;
    assert_eq!(status, 200, "{answer}");
    sb.client(&token)
        .validate_token()
        .send()
        .await
        .expect("still serving");
}
