//! Onboarding, tokens (validate, renew, expiry) and tenant isolation.

use confirma_client::types;

use crate::{ADMIN, BUSINESS_IDS, PROVISIONING, TestSandbox, api_error, example, invoice};

#[tokio::test]
async fn onboarding_returns_ids_prefix_and_a_working_token() {
    let sb = TestSandbox::start(None).await;
    let request: types::CreateClientRequest = {
        let mut r: types::CreateClientRequest = example("createClient");
        r.client.business_code = "0646115-8".parse().unwrap();
        r.client.vat_reg_nbr = Some("FI06461158".parse().unwrap());
        r
    };
    let created = sb
        .client(PROVISIONING)
        .create_client()
        .body(request.clone())
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(created.client_id > 0);
    assert!(created.customer_code.starts_with("CF"));
    assert!(
        created
            .payment_reference_prefix
            .chars()
            .all(|c| c.is_ascii_digit())
    );
    let valid = sb
        .client(&created.access_token)
        .validate_token()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(valid.is_valid);
    // The same business ID again is a business-rule refusal.
    let (status, body) = api_error(
        sb.client(PROVISIONING)
            .create_client()
            .body(request)
            .send()
            .await,
    );
    assert_eq!(
        (status, body.code),
        (402, types::ErrorCode::BusinessRuleViolation)
    );
}

#[tokio::test]
async fn onboarding_checks_the_business_data() {
    let sb = TestSandbox::start(None).await;
    let mut request: types::CreateClientRequest = example("createClient");
    request.client.business_code = "123456-7".parse().unwrap();
    request.client.iban = Some("FI12345678912345678".parse().unwrap());
    request
        .contacts
        .retain(|c| c.role != types::ContactRole::Primary);
    let (status, body) = api_error(
        sb.client(PROVISIONING)
            .create_client()
            .body(request)
            .send()
            .await,
    );
    assert_eq!(status, 400);
    let paths: Vec<&str> = body.field_errors.iter().map(|f| f.path.as_str()).collect();
    for expected in ["$.client.businessCode", "$.client.iban", "$.contacts"] {
        assert!(
            paths.contains(&expected),
            "{expected} missing from {paths:?}"
        );
    }
}

#[tokio::test]
async fn each_token_works_only_where_it_belongs() {
    let sb = TestSandbox::start(None).await;
    let demo = sb.demo_token().await;
    // A client token cannot onboard; the provisioning token cannot do client work.
    let (status, _) = api_error(
        sb.client(&demo)
            .create_client()
            .body(example::<types::CreateClientRequest>("createClient"))
            .send()
            .await,
    );
    assert_eq!(status, 403);
    let (status, _) = api_error(
        sb.client(PROVISIONING)
            .create_invoice()
            .body(invoice(1))
            .send()
            .await,
    );
    assert_eq!(status, 403);
    // No or unknown token: 401.
    let (status, body) = api_error(
        sb.client("nope")
            .get_distribution_information()
            .send()
            .await,
    );
    assert_eq!((status, body.code), (401, types::ErrorCode::Unauthorized));
    let (status, _) = api_error(sb.client(ADMIN).validate_token().send().await);
    assert_eq!(status, 401, "the admin token is not an API key");
}

#[tokio::test]
async fn renewal_replaces_the_token_at_once() {
    let sb = TestSandbox::start(None).await;
    let old = sb.demo_token().await;
    let renewed = sb
        .client(&old)
        .renew_token()
        .send()
        .await
        .unwrap()
        .into_inner();
    let new = renewed.access_token.clone().unwrap();
    assert_eq!(
        renewed.message, new,
        "the documented `Message` carries the new token"
    );
    assert_ne!(new, old);
    let (status, _) = api_error(sb.client(&old).validate_token().send().await);
    assert_eq!(status, 401, "the old token stops working at once");
    assert!(
        sb.client(&new)
            .validate_token()
            .send()
            .await
            .unwrap()
            .into_inner()
            .is_valid
    );
}

#[tokio::test]
async fn an_expired_token_can_only_validate_and_renew() {
    let sb = TestSandbox::start(None).await;
    let token = sb.demo_token().await;
    let (status, _) = sb
        .control(
            "/sandbox/token/expiry",
            serde_json::json!({"clientId": 1000, "expiresAt": "2026-03-05T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        sb.client(&token)
            .get_distribution_information()
            .send()
            .await
            .is_ok(),
        "not expired yet"
    );
    sb.advance_days(5).await;
    let (status, body) = api_error(
        sb.client(&token)
            .get_distribution_information()
            .send()
            .await,
    );
    assert_eq!((status, body.code), (401, types::ErrorCode::TokenExpired));
    let (status, _) = api_error(
        sb.client(&token)
            .create_invoice()
            .body(invoice(7))
            .send()
            .await,
    );
    assert_eq!(status, 401);
    let (status, body) = api_error(sb.client(&token).validate_token().send().await);
    assert_eq!(
        (status, body.code),
        (401, types::ErrorCode::TokenExpired),
        "every call but renew"
    );
    let renewed = sb
        .client(&token)
        .renew_token()
        .send()
        .await
        .unwrap()
        .into_inner();
    let fresh = renewed.access_token.unwrap();
    assert!(renewed.expires_at.is_some());
    assert!(
        sb.client(&fresh)
            .get_distribution_information()
            .send()
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn clients_never_see_each_others_data() {
    let sb = TestSandbox::start(None).await;
    let (_, a) = sb.onboard(BUSINESS_IDS[0], "Client A Oy").await;
    let (_, b) = sb.onboard(BUSINESS_IDS[1], "Client B Oy").await;
    sb.client(&a)
        .create_invoice()
        .body(invoice(5001))
        .send()
        .await
        .unwrap();
    // B sees nothing of A's invoice, and may use the same number for its own.
    let seen = sb
        .client(&b)
        .get_distribution_information()
        .invoice_number(5001)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(seen.distributions.is_empty());
    let page = sb
        .client(&b)
        .get_distribution_information_v2()
        .invoice_number(5001)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.meta.total_count, 0);
    let own = sb
        .client(&b)
        .create_invoice()
        .body(invoice(5001))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.invoice_number, 5001);
    let a_view = sb
        .client(&a)
        .get_distribution_information()
        .invoice_number(5001)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(a_view.distributions.len(), 1);
    assert_ne!(
        a_view.distributions[0]
            .payment_reference
            .as_ref()
            .map(|r| r.to_string()),
        own.payment_reference.map(|r| r.to_string()),
        "each client's own prefix"
    );
}

/// Every request example of the spec, posted as documented (onboard, then invoice, actions and
/// accounting with the new client's token), succeeds on a fresh sandbox.
#[tokio::test]
async fn every_request_example_of_the_spec_succeeds_on_a_fresh_sandbox_in_order() {
    let sb = TestSandbox::start(None).await;
    let http = reqwest::Client::new();
    let post = |key: String, operation: &'static str| {
        let op = confirma_server::OPERATIONS
            .iter()
            .find(|o| o.operation_id == operation)
            .unwrap();
        let body: serde_json::Value = crate::example_body(operation);
        http.post(format!("{}{}", sb.base, op.path))
            .header("x-api-key", key)
            .json(&body)
            .send()
    };
    let onboarded = post(crate::PROVISIONING.to_string(), "createClient")
        .await
        .unwrap();
    assert_eq!(
        onboarded.status(),
        200,
        "{}",
        onboarded.text().await.unwrap()
    );
    let token = onboarded.json::<serde_json::Value>().await.unwrap()["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let mut posted = vec!["createClient"];
    for operation in [
        "createInvoice",
        "createInvoiceActions",
        "submitLedger",
        "submitAccountingInvoice",
        "submitAccountingPayments",
    ] {
        let answer = post(token.clone(), operation).await.unwrap();
        let status = answer.status();
        assert_eq!(status, 200, "{operation}: {}", answer.text().await.unwrap());
        posted.push(operation);
    }
    // The demo client's printed token runs the client examples too (its seeded invoices use
    // numbers of their own).
    for operation in [
        "createInvoice",
        "createInvoiceActions",
        "submitLedger",
        "submitAccountingInvoice",
        "submitAccountingPayments",
    ] {
        let answer = post(sb.demo_token().await, operation).await.unwrap();
        let status = answer.status();
        assert_eq!(
            status,
            200,
            "{operation} with the demo token: {}",
            answer.text().await.unwrap()
        );
    }
    let with_body: Vec<&str> = confirma_server::OPERATIONS
        .iter()
        .filter(|o| o.has_body)
        .map(|o| o.operation_id)
        .collect();
    assert_eq!(
        posted.len(),
        with_body.len(),
        "every example is posted: {with_body:?}"
    );
}
