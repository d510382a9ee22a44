//! The control API and the sandbox's served description and documentation.

use serde_json::{Value, json};

use crate::TestSandbox;

#[tokio::test]
async fn control_needs_the_admin_token_and_answers_in_the_error_format() {
    let sb = TestSandbox::start(None).await;
    let http = reqwest::Client::new();
    for token in [None, Some("wrong"), Some(crate::PROVISIONING)] {
        let mut request = http
            .post(format!("{}/sandbox/clock/advance", sb.base))
            .json(&json!({"days": 1}));
        if let Some(t) = token {
            request = request.header("x-admin-token", t);
        }
        let resp = request.send().await.unwrap();
        assert_eq!(resp.status(), 401);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "UNAUTHORIZED");
    }
    for bad in [
        json!({"days": "x"}),
        json!({"weeks": 1}),
        json!({"days": 1, "to": "2027-01-01T00:00:00Z"}),
        json!({"days": -1}),
        json!({"days": 100000}),
    ] {
        let (status, body) = sb.control("/sandbox/clock/advance", bad.clone()).await;
        assert!(status == 400 || status == 402, "{bad} gave {status}");
        assert!(body["message"].is_string(), "{body}");
    }
    let (status, body) = sb
        .control(
            "/sandbox/payments",
            json!({"reference": "1234561", "amount": 10}),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (404, Some("NOT_FOUND")));
}

#[tokio::test]
async fn the_served_description_covers_the_partner_api_and_the_control_api() {
    let sb = TestSandbox::start(None).await;
    let doc: Value = reqwest::get(format!("{}/openapi.json", sb.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    for op in confirma_server::OPERATIONS {
        assert!(
            ids.contains(&op.operation_id),
            "{} is not described",
            op.operation_id
        );
    }
    for path in [
        "/sandbox/clock/advance",
        "/sandbox/payments",
        "/sandbox/settlements/run",
        "/sandbox/reset",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is not described");
    }
    assert!(
        doc["components"]["securitySchemes"]
            .get("AdminToken")
            .is_some()
    );
    // The Partner API part is the spec's own, untouched by the control API beside it, in the
    // spec's OpenAPI version.
    let mut spec = confirma_server::SPEC.clone();
    confirma_server::strip_maintainer_marks(&mut spec);
    assert_eq!(doc["openapi"], spec["openapi"]);
    for (path, item) in spec["paths"].as_object().unwrap() {
        assert!(doc["paths"][path] == *item, "{path} is not the spec's");
    }
    for (section, entries) in spec["components"].as_object().unwrap() {
        for (name, entry) in entries.as_object().unwrap() {
            assert!(
                doc["components"][section][name] == *entry,
                "{section}/{name} is not the spec's"
            );
        }
    }
    // The control API's nullable fields in the spec's version's terms.
    assert_eq!(
        doc["components"]["schemas"]["Fault"]["properties"]["status"]["nullable"],
        true
    );
    assert!(
        !doc.to_string().contains("\"null\""),
        "an OpenAPI 3.1 null type is served"
    );
    // Money is decimal in the control API too (a generator fed this types it exactly).
    assert_eq!(
        doc["components"]["schemas"]["IncomingPayment"]["properties"]["amount"]["format"],
        "decimal"
    );
    assert!(
        !doc.to_string().contains("\"double\""),
        "a float amount is served"
    );
    let docs = reqwest::get(format!("{}/docs/", sb.base)).await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger-ui"));
}

#[tokio::test]
async fn docs_call_the_sandbox_that_serves_them_and_show_no_maintainer_notes() {
    let sb = TestSandbox::start(None).await;
    let doc: Value = reqwest::get(format!("{}/openapi.json", sb.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The sandbox itself first, relative, so that any port works; no fixed local address.
    assert_eq!(doc["servers"][0]["url"], "/");
    let text = doc.to_string();
    assert!(
        !text.contains("127.0.0.1:8080"),
        "the fixed local server is listed"
    );
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            assert!(
                op.get("servers").is_none(),
                "an operation overrides the servers"
            );
        }
    }
    // Maintainers' notes stay in the spec.
    for mark in confirma_server::MAINTAINER_MARKS {
        assert!(!text.contains(&format!("\"{mark}\"")), "{mark} is served");
    }
    assert!(
        !text.contains("xtask"),
        "maintainer instructions are served"
    );
    assert!(
        !doc["info"]["description"]
            .as_str()
            .unwrap()
            .contains("Hand-maintained")
    );
    // The page is the product's, in Swagger UI's base layout (no "Explore" bar).
    let page = reqwest::get(format!("{}/docs", sb.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<title>Confirma Finance Partner API · sandbox</title>"),
        "{page}"
    );
    assert!(page.contains("BaseLayout") && !page.contains("StandaloneLayout"));
    let asset = reqwest::get(format!("{}/docs/swagger-ui-bundle.js", sb.base))
        .await
        .unwrap();
    assert_eq!(asset.status(), 200);
}

#[tokio::test]
async fn reset_returns_to_the_seeded_state() {
    let sb = TestSandbox::start(None).await;
    let before = sb.demo_token().await;
    let (_, token) = sb.onboard(crate::BUSINESS_IDS[0], "Gone Oy").await;
    sb.advance_days(3).await;
    let (status, body) = sb.control("/sandbox/reset", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["now"], "2026-03-02T08:00:00Z");
    assert_eq!(sb.demo_token().await, before);
    let (status, _) = crate::api_error(sb.client(&token).validate_token().send().await);
    assert_eq!(status, 401, "clients onboarded after the seed are gone");
}

#[tokio::test]
async fn a_long_advance_lets_other_requests_through_and_says_what_happened() {
    let sb = TestSandbox::start(None).await;
    let start = sb.sandbox.now().await.unwrap();
    let end = start + chrono::Duration::days(3000);
    let advancing = {
        let (base, http) = (sb.base.clone(), reqwest::Client::new());
        tokio::spawn(async move {
            let resp = http
                .post(format!("{base}/sandbox/clock/advance"))
                .header("x-admin-token", crate::ADMIN)
                .json(&json!({"to": end}))
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        })
    };
    // Meanwhile the API keeps answering, and sees the clock part of the way.
    let demo = sb.client(&sb.demo_token().await);
    let mut seen_midway = 0;
    while !advancing.is_finished() {
        demo.validate_token().send().await.unwrap();
        let now = sb.sandbox.now().await.unwrap();
        if start < now && now < end {
            seen_midway += 1;
        }
    }
    let (status, answer) = advancing.await.unwrap();
    assert_eq!(status, 200, "{answer}");
    assert!(
        seen_midway > 0,
        "no request was answered during the advance"
    );
    assert_eq!(answer["now"], json!(end));
    // What it says happened is what the API shows afterwards.
    let shown = sb.all_distributions(&sb.demo_token().await).await;
    let happened = &answer["happened"];
    assert_eq!(
        happened["distributed"],
        json!(shown.meta_data.successful_count),
        "{answer}"
    );
    assert_eq!(
        happened["distributionFailed"],
        json!(shown.meta_data.failed_count)
    );
    let reminded = shown
        .distributions
        .iter()
        .filter(|d| d.case_id.is_some())
        .count();
    assert_eq!(happened["reminded"], json!(reminded), "{answer}");
    assert!(happened["overdue"].as_u64().unwrap() >= 1, "{answer}");
}
