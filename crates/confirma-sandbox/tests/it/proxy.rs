//! The validating proxy (`confirma-sandbox proxy`): exchanges pass unchanged, each kind of drift
//! of a deliberately drifting upstream is reported at its path with the spec's evidence, a
//! faithful upstream (the sandbox) breaks nothing, and no credential is ever shown.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use confirma_sandbox::proxy::{Proxy, ProxyConfig};
use confirma_server::{OPERATIONS, Operation};
use serde_json::{Value, json};

use crate::{BUSINESS_IDS, PROVISIONING, TestSandbox, invoice};

/// A proxy served on 127.0.0.1:0 for one test.
pub struct TestProxy {
    pub base: String,
    /// The running proxy (its report and journal without HTTP).
    pub proxy: Arc<Proxy>,
    _served: tokio::task::JoinHandle<()>,
}

impl TestProxy {
    pub async fn start(config: ProxyConfig) -> Self {
        let proxy = Proxy::new(config).expect("a proxy");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = confirma_sandbox::proxy::router(proxy.clone());
        let served = tokio::spawn(async move {
            confirma_sandbox::serve(listener, app, std::future::pending())
                .await
                .unwrap();
        });
        Self {
            base,
            proxy,
            _served: served,
        }
    }

    /// A proxy in front of `upstream` with the defaults.
    pub async fn to(upstream: &str) -> Self {
        Self::start(ProxyConfig::new(upstream.parse().unwrap())).await
    }

    pub async fn report(&self) -> Value {
        get_json(&format!("{}/proxy/report", self.base)).await
    }
}

async fn get_json(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// Serves `app` on 127.0.0.1:0; its base URL.
async fn serve_app(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// The spec's example answer of `operation` with `status`.
fn example_answer(operation: Operation, status: u16) -> Value {
    confirma_server::response_object(operation.info(), status)
        .and_then(|r| r.pointer("/content/application~1json/example").cloned())
        .expect("an example answer")
}

fn answer(status: u16, body: Value) -> axum::response::Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// An upstream that drifts from the spec once in each way a service can.
fn drifting_upstream() -> axum::Router {
    use axum::routing::get;
    let mut settlements = example_answer(Operation::GetSettlements, 200);
    let allocation = &mut settlements["settlements"][0]["allocations"][0];
    allocation["allocatedTotalAmount"] = serde_json::from_str("500.001").unwrap();
    allocation["allocationDate"] = json!("27.3.2026");
    allocation["breakdown"][0]["type"] = json!("BONUS");
    axum::Router::new()
        .route(
            "/api/v1/partner/validate",
            get(|| async {
                answer(
                    200,
                    json!({"isValid": true, "message": "ok", "tier": "gold"}),
                )
            }),
        )
        .route(
            "/api/v1/partner/renew",
            get(|| async { answer(200, json!({"Message": "new", "accessToken": 12345})) }),
        )
        .route(
            "/api/v1/partner/invoice/case",
            get(|| async {
                answer(
                    404,
                    json!({"code": "NOT_FOUND", "message": "No such case."}),
                )
            }),
        )
        .route(
            "/api/v1/partner/settlements",
            get(move || {
                let settlements = settlements.clone();
                async move { answer(200, settlements) }
            }),
        )
        .route(
            "/api/v1/partner/finvoice/credentials",
            get(|| async { answer(418, json!({"code": "TEAPOT", "message": "no"})) }),
        )
        .route(
            "/api/v1/partner/payments",
            get(|| async {
                (
                    StatusCode::OK,
                    [("content-type", "text/plain")],
                    "no payments",
                )
            }),
        )
}

/// The report's findings as (operation, side, path, kind, evidence, times, example).
fn findings(report: &Value) -> Vec<(String, String, String, String, String, u64, Value)> {
    let mut out = Vec::new();
    for op in report["operations"].as_array().unwrap() {
        for path in op["paths"].as_array().unwrap() {
            for v in path["violations"].as_array().unwrap() {
                out.push((
                    op["operation"].as_str().unwrap().to_string(),
                    path["side"].as_str().unwrap().to_string(),
                    path["path"].as_str().unwrap().to_string(),
                    v["kind"].as_str().unwrap().to_string(),
                    path["evidence"].as_str().unwrap().to_string(),
                    v["times"].as_u64().unwrap(),
                    v.get("example").cloned().unwrap_or(Value::Null),
                ));
            }
        }
    }
    out.sort_by(|a, b| (&a.0, &a.1, &a.2, &a.3).cmp(&(&b.0, &b.1, &b.2, &b.3)));
    out
}

#[tokio::test]
async fn each_kind_of_drift_is_reported_once_at_its_path_with_the_specs_evidence() {
    let upstream = serve_app(drifting_upstream()).await;
    let proxy = TestProxy::to(&upstream).await;
    let http = reqwest::Client::new();
    let mut violations_headers = Vec::new();
    for path in [
        "/api/v1/partner/validate",
        "/api/v1/partner/renew",
        "/api/v1/partner/invoice/case?caseId=1",
        "/api/v1/partner/settlements",
        "/api/v1/partner/finvoice/credentials?businessId=3120495-4",
        "/api/v1/partner/payments",
    ] {
        let answer = http
            .get(format!("{}{path}", proxy.base))
            .header("x-api-key", "a-partner-key")
            .send()
            .await
            .unwrap();
        violations_headers.push((
            path,
            answer.headers()["confirma-spec-violations"]
                .to_str()
                .unwrap()
                .to_string(),
        ));
    }
    assert_eq!(
        violations_headers,
        [
            ("/api/v1/partner/validate", "1".to_string()),
            ("/api/v1/partner/renew", "1".to_string()),
            ("/api/v1/partner/invoice/case?caseId=1", "1".to_string()),
            ("/api/v1/partner/settlements", "3".to_string()),
            (
                "/api/v1/partner/finvoice/credentials?businessId=3120495-4",
                "1".to_string()
            ),
            ("/api/v1/partner/payments", "1".to_string()),
        ]
    );
    let s = |v: &str| v.to_string();
    let report = proxy.report().await;
    assert_eq!(
        findings(&report),
        vec![
            (
                s("getCaseDetails"),
                s("response 404"),
                s("$.fieldErrors"),
                s("missingRequiredField"),
                s("inferred"),
                1,
                Value::Null
            ),
            (
                s("getFinvoiceCredentials"),
                s("response 418"),
                s("status"),
                s("undocumentedStatus"),
                s("inferred"),
                1,
                json!(418)
            ),
            (
                s("getPayments"),
                s("response 200"),
                s("header.content-type"),
                s("header"),
                s("documented"),
                1,
                json!("xxxx/xxxxx")
            ),
            (
                s("getSettlements"),
                s("response 200"),
                s("$.settlements[].allocations[].allocatedTotalAmount"),
                s("decimalPlaces"),
                s("documented"),
                1,
                json!(500.001)
            ),
            (
                s("getSettlements"),
                s("response 200"),
                s("$.settlements[].allocations[].allocationDate"),
                s("format"),
                s("documented"),
                1,
                json!("99.9.9999")
            ),
            (
                s("getSettlements"),
                s("response 200"),
                s("$.settlements[].allocations[].breakdown[].type"),
                s("enumValue"),
                s("documented"),
                1,
                json!("BONUS")
            ),
            (
                s("renewToken"),
                s("response 200"),
                s("$.accessToken"),
                s("type"),
                s("inferred"),
                1,
                json!("<redacted>")
            ),
            (
                s("validateToken"),
                s("response 200"),
                s("$.tier"),
                s("undocumentedField"),
                s("documented"),
                1,
                json!("xxxx")
            ),
        ]
    );
    assert_eq!(report["exchanges"], 6);
    assert_eq!(report["exchangesWithViolations"], 6);
    // Agreed paths are listed as such: the settlement's id was seen and agreed.
    let settlements = report["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["operation"] == "getSettlements")
        .unwrap();
    let id = settlements["paths"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["path"] == "$.settlements[].settlementId")
        .unwrap();
    assert_eq!(
        (id["agreed"].as_bool(), id["present"].as_u64()),
        (Some(true), Some(1))
    );

    let markdown = reqwest::get(format!("{}/proxy/report?format=markdown", proxy.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The guesses come first, each with how often it was contradicted.
    let renew = markdown.find("| renewToken | response 200 | `$.accessToken` | inferred | type | 1 of 1 | `\"<redacted>\"` |");
    let tier = markdown.find(
        "| validateToken | response 200 | `$.tier` | documented | undocumented field | 1 of 1 |",
    );
    assert!(
        renew.is_some() && tier.is_some() && renew < tier,
        "{markdown}"
    );

    let journal = get_json(&format!("{}/proxy/requests", proxy.base)).await;
    let kinds: Vec<&str> = journal.as_array().unwrap()[3]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 3, "{journal}");
}

/// Every operation with its spec example (parameters and body) through the proxy, as `token`.
async fn every_operation(proxy: &str, token: &str) -> usize {
    let http = reqwest::Client::new();
    let mut sent = 0;
    for info in OPERATIONS {
        let op: Value = serde_json::from_str(info.spec).unwrap();
        let query: Vec<(String, String)> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query" && p.get("example").is_some())
            .map(|p| {
                let example = &p["example"];
                let text = example
                    .as_str()
                    .map_or_else(|| example.to_string(), str::to_string);
                (p["name"].as_str().unwrap().to_string(), text)
            })
            .collect();
        let key = if info.operation_id == "createClient" {
            PROVISIONING
        } else {
            token
        };
        let mut request = http
            .request(
                info.method.parse().unwrap(),
                format!("{proxy}{}", info.path),
            )
            .query(&query)
            .header("x-api-key", key);
        if let Some(body) = info.request_example {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let answer = request.send().await.unwrap();
        assert_eq!(
            answer.headers()["confirma-spec-violations"],
            "0",
            "{} answered {} {:?}",
            info.operation_id,
            answer.status(),
            answer.headers().get("confirma-spec-summary")
        );
        sent += 1;
    }
    sent
}

#[tokio::test]
async fn a_faithful_upstream_breaks_nothing_over_every_operation_and_a_whole_journey() {
    let sb = TestSandbox::start(None).await;
    let proxy = TestProxy::to(&sb.base).await;
    let token = sb.demo_token().await;
    let sent = every_operation(&proxy.base, &token).await;
    // The journey of a partner through the typed client, pointed at the proxy.
    let through = |token: &str| {
        confirma_client::Client::new(
            &proxy.base,
            confirma_client::ClientState::new(confirma_client::ApiKey::new(token)),
        )
    };
    let created = through(PROVISIONING)
        .create_client()
        .body(crate::example::<confirma_client::types::CreateClientRequest>("createClient"))
        .send()
        .await;
    // The example's business id may be taken by the first pass; either answer conforms.
    let token = match created {
        Ok(created) => created.into_inner().access_token,
        Err(_) => sb.onboard(BUSINESS_IDS[2], "Proxy Oy").await.1,
    };
    let client = through(&token);
    for number in 1..=3 {
        client
            .create_invoice()
            .body(invoice(number))
            .send()
            .await
            .unwrap();
    }
    sb.advance_days(20).await;
    client
        .get_distribution_information_v2()
        .send()
        .await
        .unwrap();
    client.get_payments().send().await.unwrap();
    client.get_settlements().send().await.unwrap();
    client.validate_token().send().await.unwrap();
    crate::renewed(&client).await;
    let report = proxy.report().await;
    assert_eq!(report["violations"], 0, "{report:#}");
    assert!(
        report["exchanges"].as_u64().unwrap() >= sent as u64 + 8,
        "{report:#}"
    );
    // Every operation was answered by the sandbox, and its answers' paths confirmed.
    let agreed = report["operations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| o["paths"].as_array().unwrap())
        .filter(|p| p["agreed"] == true && p["present"].as_u64() > Some(0))
        .count();
    assert!(agreed > 50, "{agreed} paths agreed: {report:#}");
}

/// The same requests to two sandboxes started alike, one directly and one through the proxy.
#[tokio::test]
async fn exchanges_pass_byte_for_byte() {
    let direct = TestSandbox::on(confirma_sandbox::Location::Memory).await;
    let behind = TestSandbox::on(confirma_sandbox::Location::Memory).await;
    let proxy = TestProxy::to(&behind.base).await;
    let token = direct.demo_token().await;
    assert_eq!(token, behind.demo_token().await, "the two sandboxes differ");
    let invoice = serde_json::to_string(&invoice(7)).unwrap();
    let requests: Vec<(&str, &str, Option<&str>, Option<String>)> = vec![
        ("GET", "/api/v1/partner/validate", Some(&token), None),
        ("GET", "/api/v1/partner/validate", Some("wrong"), None),
        ("GET", "/api/v1/partner/validate", None, None),
        (
            "POST",
            "/api/v1/partner/invoice",
            Some(&token),
            Some(invoice.clone()),
        ),
        (
            "POST",
            "/api/v1/partner/invoice",
            Some(&token),
            Some(invoice),
        ),
        (
            "POST",
            "/api/v1/partner/invoice",
            Some(&token),
            Some("{\"a\":".into()),
        ),
        (
            "GET",
            "/api/v1/partner/invoice/distribution/v2?page=0",
            Some(&token),
            None,
        ),
        (
            "GET",
            "/api/v1/partner/invoice/distribution/v2?pageSize=2",
            Some(&token),
            None,
        ),
        ("DELETE", "/api/v1/partner/validate", Some(&token), None),
        ("GET", "/api/v1/partner/nowhere", Some(&token), None),
    ];
    let http = reqwest::Client::new();
    for (method, path, key, body) in requests {
        let mut answers = Vec::new();
        for base in [&direct.base, &proxy.base] {
            let mut request = http.request(method.parse().unwrap(), format!("{base}{path}"));
            if let Some(key) = key {
                request = request.header("x-api-key", key);
            }
            if let Some(body) = &body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.clone());
            }
            let answer = request.send().await.unwrap();
            let status = answer.status();
            let mut headers: Vec<(String, String)> = answer
                .headers()
                .iter()
                .filter(|(name, _)| !name.as_str().starts_with("confirma-spec-") && *name != "date")
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
                .collect();
            headers.sort();
            let bytes = answer.bytes().await.unwrap();
            answers.push((status, headers, bytes));
        }
        assert_eq!(answers[0], answers[1], "{method} {path}");
    }
}

#[tokio::test]
async fn refused_invalid_requests_never_reach_the_upstream() {
    let sb = TestSandbox::start(None).await;
    let proxy = TestProxy::start(ProxyConfig {
        refuse_invalid_requests: true,
        ..ProxyConfig::new(sb.base.parse().unwrap())
    })
    .await;
    let token = sb.demo_token().await;
    let http = reqwest::Client::new();
    let refused = http
        .post(format!("{}/api/v1/partner/invoice?x=1", proxy.base))
        .header("x-api-key", &token)
        .header("content-type", "application/json")
        .body("{\"invoice\": {}}")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "VALIDATION_FAILED", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("proxy"),
        "{body}"
    );
    assert!(
        !body["fieldErrors"].as_array().unwrap().is_empty(),
        "{body}"
    );
    let fine = http
        .get(format!("{}/api/v1/partner/validate", proxy.base))
        .header("x-api-key", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status(), 200);
    // The sandbox's journal saw the valid request only.
    let seen = sb.journal("").await;
    let operations: Vec<&str> = seen
        .iter()
        .map(|e| e["operation"].as_str().unwrap())
        .collect();
    assert_eq!(operations, ["validateToken"], "{seen:?}");
    let journal = get_json(&format!("{}/proxy/requests", proxy.base)).await;
    assert_eq!(journal[0]["answeredBy"], "proxy");
    assert_eq!(journal[1]["answeredBy"], "upstream");
}

#[tokio::test]
async fn an_upstream_down_is_502_and_one_that_stalls_is_504() {
    // A port nothing listens on.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let down = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let proxy = TestProxy::to(&down).await;
    let answer = reqwest::get(format!("{}/api/v1/partner/validate", proxy.base))
        .await
        .unwrap();
    assert_eq!(answer.status(), 502);
    assert_eq!(
        answer.headers()["confirma-proxy-error"],
        "upstream-unreachable"
    );
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "SERVICE_UNAVAILABLE");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{body}"
    );

    // An upstream that takes connections and never answers.
    let stalling = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stalled = format!("http://{}", stalling.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = stalling.accept().await {
            held.push(socket);
        }
    });
    let proxy = TestProxy::start(ProxyConfig {
        upstream_timeout: Duration::from_millis(300),
        ..ProxyConfig::new(stalled.parse().unwrap())
    })
    .await;
    let answer = reqwest::get(format!("{}/api/v1/partner/validate", proxy.base))
        .await
        .unwrap();
    assert_eq!(answer.status(), 504);
    assert_eq!(answer.headers()["confirma-proxy-error"], "upstream-timeout");
    let body: Value = answer.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("did not answer in time"),
        "{body}"
    );
}

#[tokio::test]
async fn large_bodies_pass_whole_and_an_answer_beyond_the_check_limit_streams_unchecked() {
    use axum::routing::{get, post};
    let big_answer = "x".repeat(confirma_sandbox::proxy::CHECK_LIMIT + 1024);
    let expected = big_answer.clone();
    let upstream = serve_app(
        axum::Router::new()
            .route(
                "/api/v1/partner/invoice",
                post(|body: axum::body::Bytes| async move {
                    answer(200, json!({"received": body.len()}))
                }),
            )
            .route(
                "/api/v1/partner/settlements",
                get(move || {
                    let big = big_answer.clone();
                    async move { ([("content-type", "application/json")], big) }
                }),
            )
            .layer(axum::extract::DefaultBodyLimit::disable()),
    )
    .await;
    let proxy = TestProxy::to(&upstream).await;
    let http = reqwest::Client::new();
    let ten_mib = confirma_server::runtime::BODY_LIMIT;
    let body = format!("\"{}\"", "y".repeat(ten_mib - 2));
    let answer: Value = http
        .post(format!("{}/api/v1/partner/invoice", proxy.base))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["received"], ten_mib);
    let big = http
        .get(format!("{}/api/v1/partner/settlements", proxy.base))
        .send()
        .await
        .unwrap();
    assert!(big.headers().contains_key("confirma-spec-unchecked"));
    assert_eq!(big.text().await.unwrap(), expected);
    // One byte beyond the sandbox's limit is refused here.
    let over = http
        .post(format!("{}/api/v1/partner/invoice", proxy.base))
        .header("content-type", "application/json")
        .body(vec![b' '; ten_mib + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(over.status(), 413);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_connections_at_once_all_pass() {
    let sb = TestSandbox::start(None).await;
    let proxy = TestProxy::to(&sb.base).await;
    let token = sb.demo_token().await;
    let calls = (0..64).map(|_| {
        let url = format!("{}/api/v1/partner/validate", proxy.base);
        let token = token.clone();
        async move {
            // A client each: 64 connections.
            reqwest::Client::new()
                .get(url)
                .header("x-api-key", token)
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = futures::future::join_all(calls).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let journal = proxy.proxy.journal.entries();
    assert_eq!(journal.len(), 64);
    assert!(
        journal
            .iter()
            .all(|e| e.status == 200 && e.violations.is_empty())
    );
    // Each exchange has its own number.
    let numbers: std::collections::BTreeSet<u64> = journal.iter().map(|e| e.seq).collect();
    assert_eq!(numbers, (1..=64).collect());
}

/// The `confirma-sandbox proxy` binary in front of a sandbox, its log at the most verbose level:
/// no key or token that passed through it (the partner's key, the provisioning token, a new
/// client's token, a renewed token) appears in its log, journal, report or recordings; stopped
/// with SIGINT, it writes the Markdown report.
#[tokio::test]
async fn no_credential_reaches_the_log_journal_report_or_recordings() {
    use std::io::BufRead;
    let sb = TestSandbox::start(None).await;
    let demo = sb.demo_token().await;
    let dir = tempfile::tempdir().unwrap();
    let (log, report, recordings) = (
        dir.path().join("proxy.log"),
        dir.path().join("drift.md"),
        dir.path().join("exchanges"),
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_confirma-sandbox"))
        .args(["proxy", "--upstream", &sb.base, "--listen", "127.0.0.1:0"])
        .arg("--report")
        .arg(&report)
        .arg("--record")
        .arg(&recordings)
        .env("RUST_LOG", "trace")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines
        .by_ref()
        .map(|l| l.unwrap())
        .find_map(|l| l.split("listening on ").nth(1).map(str::to_string))
        .expect("the proxy says where it listens");
    let through = |token: &str| {
        confirma_client::Client::new(
            &base,
            confirma_client::ClientState::new(confirma_client::ApiKey::new(token)),
        )
    };
    let created = through(PROVISIONING)
        .create_client()
        .body(crate::example::<confirma_client::types::CreateClientRequest>("createClient"))
        .send()
        .await
        .unwrap()
        .into_inner();
    let client = through(&created.access_token);
    client.validate_token().send().await.unwrap();
    let renewed = crate::renewed(&client).await;
    through(&demo).get_payments().send().await.unwrap();
    let journal = reqwest::get(format!("{base}/proxy/requests"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let report_json = reqwest::get(format!("{base}/proxy/report"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());

    let mut shown = vec![
        ("the log", std::fs::read_to_string(&log).unwrap()),
        ("the journal", journal),
        ("the JSON report", report_json),
        (
            "the Markdown report",
            std::fs::read_to_string(&report).unwrap(),
        ),
    ];
    let mut files = 0;
    for file in std::fs::read_dir(&recordings).unwrap() {
        let path = file.unwrap().path();
        shown.push(("a recording", std::fs::read_to_string(&path).unwrap()));
        files += 1;
    }
    assert_eq!(files, 4, "one recording per exchange");
    for (secret, what) in [
        (PROVISIONING, "the provisioning token"),
        (demo.as_str(), "the demo client's key"),
        (created.access_token.as_str(), "a new client's token"),
        (renewed.as_str(), "a renewed token"),
    ] {
        for (place, text) in &shown {
            assert!(!text.contains(secret), "{what} appears in {place}");
        }
    }
    // The recordings keep everything else: the new client's id, and the redaction marks.
    let all: String = shown.iter().map(|(_, t)| t.as_str()).collect();
    assert!(all.contains(&created.client_id.to_string()));
    assert!(all.contains("<redacted>"));
    assert!(
        shown[3].1.contains("| createClient | 1 | 0 | 200 ×1 |"),
        "{}",
        shown[3].1
    );
}

/// An upstream over TLS with a certificate of a test CA: reached when the proxy is given the CA,
/// refused with 502 naming the certificate problem when it is not.
#[tokio::test]
async fn a_tls_upstream_is_trusted_through_its_private_ca_and_refused_without_it() {
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use tokio_rustls::rustls;

    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("https://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/api/v1/partner/validate",
        axum::routing::get(|| async {
            answer(200, json!({"isValid": true, "message": "Token is valid"}))
        }),
    );
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate ends the handshake: nothing to serve.
                let Ok(stream) = acceptor.accept(stream).await else {
                    return;
                };
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app))
                    .await;
            });
        }
    });

    let trusting = TestProxy::start(ProxyConfig {
        upstream_ca: Some(ca.pem().into_bytes()),
        ..ProxyConfig::new(upstream.parse().unwrap())
    })
    .await;
    let answer = reqwest::get(format!("{}/api/v1/partner/validate", trusting.base))
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["confirma-spec-violations"], "0");
    assert_eq!(
        answer.text().await.unwrap(),
        r#"{"isValid":true,"message":"Token is valid"}"#
    );

    let distrusting = TestProxy::to(&upstream).await;
    let answer = reqwest::get(format!("{}/api/v1/partner/validate", distrusting.base))
        .await
        .unwrap();
    assert_eq!(answer.status(), 502);
    let body: Value = answer.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("certificate"),
        "{body}"
    );
}
