//! Transport-level bad input, for every operation: wrong content type, malformed JSON, oversize
//! bodies, unknown routes and wrong methods all answer in the error format, never 500.

use confirma_server::{OPERATIONS, runtime::BODY_LIMIT};

use crate::{assert_error, send};

#[tokio::test]
async fn wrong_content_type_is_415_for_every_body() {
    for op in OPERATIONS.iter().filter(|op| op.has_body) {
        for ct in [None, Some("text/plain"), Some("application/xml")] {
            let (status, body) = send(op.method, op.path, ct, "{}").await;
            assert_eq!(status, 415, "{} with {ct:?}", op.operation_id);
            assert_error(&body, "UNSUPPORTED_MEDIA_TYPE");
        }
    }
}

#[tokio::test]
async fn malformed_json_is_400_for_every_body() {
    for op in OPERATIONS.iter().filter(|op| op.has_body) {
        for raw in ["{", "not json", "", "{\"a\": }", "[1,2"] {
            let (status, body) = send(op.method, op.path, Some("application/json"), raw).await;
            assert_eq!(status, 400, "{} with {raw:?}", op.operation_id);
            assert_error(&body, "MALFORMED_JSON");
        }
    }
}

#[tokio::test]
async fn wrong_json_type_is_a_validation_error_for_every_body() {
    for op in OPERATIONS.iter().filter(|op| op.has_body) {
        for raw in ["[]", "42", "null", "\"text\""] {
            let (status, body) = send(
                op.method,
                op.path,
                Some("application/json; charset=utf-8"),
                raw,
            )
            .await;
            assert_eq!(status, 400, "{} with {raw:?}", op.operation_id);
            let problems = assert_error(&body, "VALIDATION_FAILED");
            assert_eq!(problems[0]["path"], "$", "{body:#}");
        }
    }
}

#[tokio::test]
async fn oversize_body_is_413() {
    for op in OPERATIONS.iter().filter(|op| op.has_body) {
        let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(BODY_LIMIT));
        let (status, body) = send(op.method, op.path, Some("application/json"), big).await;
        assert_eq!(status, 413, "{}", op.operation_id);
        assert_error(&body, "PAYLOAD_TOO_LARGE");
    }
}

#[tokio::test]
async fn unknown_route_is_404_and_wrong_method_is_405() {
    let (status, body) = send("GET", "/api/v1/partner/nothing-here", None, "").await;
    assert_eq!(status, 404);
    assert_error(&body, "NOT_FOUND");
    for op in OPERATIONS {
        let other = if op.method == "DELETE" {
            "PUT"
        } else {
            "DELETE"
        };
        let (status, body) = send(other, op.path, None, "").await;
        assert_eq!(status, 405, "{other} {}", op.path);
        assert_error(&body, "METHOD_NOT_ALLOWED");
    }
}

#[tokio::test]
async fn bad_query_values_are_named_in_the_error() {
    for op in OPERATIONS.iter().filter(|op| !op.query.is_empty()) {
        // Every query parameter given a value no declared type accepts at once.
        let query: Vec<String> = op
            .query
            .iter()
            .map(|q| format!("{q}=%00not-a-valid-value%7F{}", "z".repeat(600)))
            .collect();
        let uri = format!("{}?{}", op.path, query.join("&"));
        let (status, body) = send(op.method, &uri, None, "").await;
        if status == 200 {
            // Only free-text parameters: nothing to reject.
            continue;
        }
        assert_eq!(status, 400, "{uri}: {body:#}");
        for problem in assert_error(&body, "VALIDATION_FAILED") {
            let path = problem["path"].as_str().unwrap();
            assert!(path.starts_with("query."), "{path}");
            assert!(
                op.query.contains(&&path["query.".len()..]),
                "{path} is not a parameter of {}",
                op.operation_id
            );
        }
    }
}
