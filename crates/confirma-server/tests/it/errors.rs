//! Transport-level bad input, for every operation: wrong content type, malformed JSON, oversize
//! bodies, unknown routes and wrong methods all answer in the error format, never 500.

use confirma_server::{OPERATIONS, runtime::BODY_LIMIT};
use tower::ServiceExt;

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
            .map(|q| format!("{}=%00not-a-valid-value%7F{}", q.name, "z".repeat(600)))
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
                op.query.iter().any(|q| q.name == &path["query.".len()..]),
                "{path} is not a parameter of {}",
                op.operation_id
            );
        }
    }
}

#[tokio::test]
async fn a_repeated_key_is_400_naming_it_for_every_body() {
    for op in OPERATIONS.iter().filter(|op| op.has_body) {
        let (status, body) = send(
            op.method,
            op.path,
            Some("application/json"),
            r#"{"a": {"b": 1, "b": 2}}"#,
        )
        .await;
        assert_eq!(status, 400, "{}", op.operation_id);
        let problems = assert_error(&body, "MALFORMED_JSON");
        assert_eq!(problems[0]["path"], "$.a.b", "{}", op.operation_id);
        assert_eq!(problems[0]["code"], "duplicateKey");
    }
}

#[tokio::test]
async fn json_in_another_charset_is_415_for_every_body() {
    for op in OPERATIONS.iter().filter(|op| op.has_body) {
        for ct in [
            "application/json; charset=iso-8859-1",
            "application/json;charset=utf-16",
        ] {
            let (status, body) = send(op.method, op.path, Some(ct), "{}").await;
            assert_eq!(status, 415, "{} with {ct}", op.operation_id);
            assert_error(&body, "UNSUPPORTED_MEDIA_TYPE");
        }
    }
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_413_before_reading() {
    let response = confirma_server::router(confirma_server::ExampleApi)
        .oneshot(
            axum::http::Request::post("/api/v1/partner/invoice")
                .header("x-api-key", "k")
                .header("content-type", "application/json")
                .header("content-length", (BODY_LIMIT + 1).to_string())
                // The body never comes: the answer must not wait for it.
                .body(axum::body::Body::from_stream(futures::stream::pending::<
                    Result<Vec<u8>, std::io::Error>,
                >()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
}

/// A body that sends `first` and then either stalls for ever or fails.
fn partial_body(first: &'static str, then_fail: bool) -> axum::body::Body {
    use futures::StreamExt;
    let head = futures::stream::iter([Ok::<_, std::io::Error>(first.as_bytes().to_vec())]);
    if then_fail {
        let broken = futures::stream::iter([Err(std::io::Error::other("connection reset"))]);
        axum::body::Body::from_stream(head.chain(broken))
    } else {
        axum::body::Body::from_stream(head.chain(futures::stream::pending()))
    }
}

#[tokio::test(start_paused = true)]
async fn a_stalled_body_is_408_and_a_broken_one_400() {
    let (status, body) = send(
        "POST",
        "/api/v1/partner/invoice",
        Some("application/json"),
        partial_body("{\"invoice\":", false),
    )
    .await;
    assert_eq!(status, 408);
    assert_error(&body, "REQUEST_TIMEOUT");
    let (status, body) = send(
        "POST",
        "/api/v1/partner/invoice",
        Some("application/json"),
        partial_body("{\"invoice\":", true),
    )
    .await;
    assert_eq!(status, 400);
    assert_error(&body, "BAD_REQUEST");
}

#[tokio::test]
async fn oversized_uris_and_headers_are_414_and_431_in_the_error_format() {
    let long = format!(
        "/api/v1/partner/invoice/distribution?toInvDate={}",
        "9".repeat(confirma_server::limits::MAX_URI_BYTES)
    );
    let (status, body) = send("GET", &long, None, "").await;
    assert_eq!(status, 414);
    assert_error(&body, "URI_TOO_LONG");

    let mut request = axum::http::Request::get("/api/v1/partner/validate");
    for i in 0..20 {
        request = request.header(format!("x-filler-{i}"), "f".repeat(1000));
    }
    let response = confirma_server::router(confirma_server::ExampleApi)
        .oneshot(request.body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 431);
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_error(
        &serde_json::from_slice(&bytes).unwrap(),
        "HEADERS_TOO_LARGE",
    );
}
