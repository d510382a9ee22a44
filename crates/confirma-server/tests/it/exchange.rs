//! Checking exchanges served by someone else (`confirma_server::exchange`): the spec's own
//! examples conform, and each kind of drift is named at its path.

use axum::http::{HeaderMap, HeaderValue, header};
use confirma_server::exchange::{operation_at, request_problems, response_problems};
use confirma_server::{OPERATIONS, Operation, response_object};
use serde_json::{Value, json};

fn json_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers
}

fn codes(problems: &[confirma_server::FieldProblem]) -> Vec<(String, String)> {
    problems
        .iter()
        .map(|p| (p.path.clone(), p.code.clone()))
        .collect()
}

#[test]
fn every_example_answer_of_the_spec_conforms_to_its_closed_schema() {
    let mut checked = 0;
    for info in OPERATIONS {
        for status in info.statuses {
            let response = response_object(info, *status).expect("a documented status");
            let Some(example) = response.pointer("/content/application~1json/example") else {
                continue;
            };
            let body = serde_json::to_vec(example).unwrap();
            let problems = response_problems(info.operation, *status, &json_headers(), &body);
            assert!(
                problems.is_empty(),
                "{} {status}: {problems:?}",
                info.operation_id
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} examples checked");
}

#[test]
fn operations_are_found_by_method_and_path() {
    assert_eq!(
        operation_at("GET", "/api/v1/partner/validate"),
        Some(Operation::ValidateToken)
    );
    assert_eq!(
        operation_at("get", "/api/v1/partner/validate"),
        Some(Operation::ValidateToken)
    );
    assert_eq!(operation_at("POST", "/api/v1/partner/validate"), None);
    assert_eq!(operation_at("GET", "/api/v1/partner/nothing"), None);
}

/// The 200 example of `operation`, as JSON.
fn example(operation: Operation) -> Value {
    response_object(operation.info(), 200)
        .and_then(|r| r.pointer("/content/application~1json/example").cloned())
        .expect("a 200 example")
}

#[test]
fn each_kind_of_drift_in_an_answer_is_named_at_its_path() {
    let op = Operation::ValidateToken;
    let mut drifted = example(op);
    let object = drifted.as_object_mut().unwrap();
    object.insert("surprise".into(), json!(1));
    let body = serde_json::to_vec(&drifted).unwrap();
    let problems = response_problems(op, 200, &json_headers(), &body);
    assert_eq!(
        codes(&problems),
        vec![("$.surprise".into(), "undocumentedField".into())],
        "{problems:?}"
    );
    let mut missing = example(op);
    missing.as_object_mut().unwrap().remove("isValid");
    let problems = response_problems(
        op,
        200,
        &json_headers(),
        &serde_json::to_vec(&missing).unwrap(),
    );
    assert_eq!(
        codes(&problems),
        vec![("$.isValid".into(), "required".into())],
        "{problems:?}"
    );

    let problems = response_problems(op, 418, &json_headers(), b"{}");
    assert_eq!(
        codes(&problems),
        vec![("status".into(), "undocumentedStatus".into())]
    );

    let problems = response_problems(op, 200, &HeaderMap::new(), &body);
    assert_eq!(
        codes(&problems),
        vec![("header.content-type".into(), "header".into())]
    );

    let problems = response_problems(op, 200, &json_headers(), b"<html>");
    assert_eq!(codes(&problems), vec![("$".into(), "json".into())]);
}

#[test]
fn decimal_places_enums_and_formats_of_answers_are_checked() {
    let op = Operation::GetSettlements;
    let mut answer = example(op);
    let settlement = &mut answer["settlements"][0];
    settlement["settlementAmount"] = serde_json::from_str("12.345").unwrap();
    settlement["settlementDate"] = json!("5.3.2026");
    settlement["allocations"][0]["breakdown"][0]["type"] = json!("BONUS");
    let body = serde_json::to_vec(&answer).unwrap();
    let found = codes(&response_problems(op, 200, &json_headers(), &body));
    assert!(
        found.contains(&(
            "$.settlements[0].settlementAmount".into(),
            "decimalPlaces".into()
        )),
        "{found:?}"
    );
    assert!(
        found.contains(&("$.settlements[0].settlementDate".into(), "format".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&(
            "$.settlements[0].allocations[0].breakdown[0].type".into(),
            "enum".into()
        )),
        "{found:?}"
    );
}

#[test]
fn requests_are_checked_as_the_router_checks_them() {
    let op = Operation::CreateInvoice;
    let problems = request_problems(op, None, &HeaderMap::new(), b"{}");
    assert_eq!(
        codes(&problems),
        vec![("header.content-type".into(), "header".into())]
    );
    let problems = request_problems(op, None, &json_headers(), b"{\"a\":1,\"a\":2}");
    assert_eq!(
        codes(&problems),
        vec![("$.a".into(), "duplicateKey".into())]
    );
    let problems = request_problems(op, None, &json_headers(), b"{}");
    assert!(
        codes(&problems).iter().all(|(_, code)| code == "required") && !problems.is_empty(),
        "{problems:?}"
    );
    let problems = request_problems(
        Operation::GetDistributionInformationV2,
        Some("page=0&unknown=1"),
        &HeaderMap::new(),
        b"",
    );
    assert_eq!(
        codes(&problems),
        vec![("query.page".into(), "minimum".into())]
    );
}
