//! One exchange through the proxy: the request read (within the sandbox's limits) and checked,
//! refused here when asked to, else sent upstream as it came; the answer read (up to
//! [`CHECK_LIMIT`], the rest streamed unchecked) and checked, and sent back as it came with what
//! it broke of the spec in two headers; then the log, the journal, the report and the recording
//! told.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use confirma_server::exchange::{
    Checked, check_request, check_response, operation_at, request_problems,
};
use confirma_server::{ApiError, FieldProblem, Operation};
use futures::StreamExt;
use serde_json::Value;

use super::journal::Entry;
use super::record::Message;
use super::report::Seen;
use super::{Kind, Proxy, Side, Violation, evidence, upstream};
use crate::redact;

/// The largest answer body checked: a larger one is streamed on as it comes, unchecked.
pub const CHECK_LIMIT: usize = 16 * 1024 * 1024;

/// How many violations an answer has (`0` when it conforms).
pub const VIOLATIONS: HeaderName = HeaderName::from_static("confirma-spec-violations");
/// The first few, in words (kind, side, path, evidence), when there are any.
pub const SUMMARY: HeaderName = HeaderName::from_static("confirma-spec-summary");
/// Why the answer's body was not checked, when it was not.
pub const UNCHECKED: HeaderName = HeaderName::from_static("confirma-spec-unchecked");

/// Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1), and `Host`.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
    )
}

/// What the proxy learnt of one exchange, for the journal, report and recording.
struct Outcome {
    status: u16,
    answered_by: &'static str,
    unchecked: Option<String>,
    response: Option<(HeaderMap, Bytes)>,
    /// The upstream's answer as JSON, when it was checked and is JSON.
    response_json: Option<Value>,
    violations: Vec<Violation>,
}

pub(super) async fn exchange(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    let started = Instant::now();
    let received_at = Utc::now();
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| path.clone(), |pq| pq.as_str().to_string());
    let operation = operation_at(&method, &path);
    let key = operation.map_or_else(
        || format!("{method} {}", confirma_server::clip(&path)),
        |op| op.info().operation_id.to_string(),
    );
    // A body beyond the sandbox's limits never goes upstream.
    let body = match confirma_server::runtime::read_body(&parts.headers, body).await {
        Ok(body) => body,
        Err(refused) => return refused.into_response(),
    };
    let checked = operation.map(|op| check_request(op, parts.uri.query(), &parts.headers, &body));
    let request_json = checked.as_ref().and_then(|c| c.json.as_ref());
    let mut violations = match (operation, &checked) {
        (Some(op), Some(checked)) => {
            let found = Found {
                body: request_json,
                query: parts.uri.query(),
                headers: &parts.headers,
            };
            checked
                .problems
                .iter()
                .map(|p| violation(op, Side::Request, p, &found))
                .collect()
        }
        _ => vec![Violation {
            side: Side::Request,
            path: "operation".into(),
            kind: Kind::UndocumentedOperation,
            rule: "paths".into(),
            evidence: "documented",
            example: None,
        }],
    };

    let outcome = if proxy.config.refuse_invalid_requests && !violations.is_empty() {
        refuse(
            operation,
            &method,
            &path,
            parts.uri.query(),
            &parts.headers,
            &body,
        )
    } else {
        forward(&proxy, operation, &parts, &path_and_query, body.clone()).await
    };
    let (mut outcome, answer) = outcome;
    violations.append(&mut outcome.violations);
    outcome.violations = violations;
    let answer = with_violation_headers(answer, &outcome);

    let seq = proxy.next_seq();
    for v in &outcome.violations {
        tracing::warn!(
            seq,
            operation = %key,
            side = %v.side,
            path = %v.path,
            kind = v.kind.words(),
            evidence = v.evidence,
            "the exchange breaks the spec"
        );
    }
    let response_json = outcome.response_json.as_ref();
    let of = |side: Side| -> Vec<&Violation> {
        outcome
            .violations
            .iter()
            .filter(|v| v.side == side)
            .collect()
    };
    let request_violations = of(Side::Request);
    let response_violations = of(Side::Response(outcome.status));
    let mut sides = vec![Seen {
        side: Side::Request,
        body: request_json,
        violations: &request_violations,
    }];
    if outcome.answered_by == "upstream" {
        sides.push(Seen {
            side: Side::Response(outcome.status),
            body: response_json,
            violations: &response_violations,
        });
    }
    proxy.report.add(&key, operation, &sides);
    if let Some(recorder) = &proxy.recorder {
        let mut secrets = redact::Secrets::default();
        secrets.add_headers(&parts.headers);
        secrets.add_query(parts.uri.query().unwrap_or(""));
        let operation_id = operation.map_or("", |op| op.info().operation_id);
        for body in [request_json, response_json].into_iter().flatten() {
            secrets.add_body(operation_id, body);
        }
        if let Some((headers, _)) = &outcome.response {
            secrets.add_headers(headers);
        }
        recorder
            .write(
                seq,
                &key.replace([' ', '/'], "_"),
                &method,
                &path_and_query,
                Message {
                    headers: &parts.headers,
                    body: &body,
                },
                outcome.status,
                outcome
                    .response
                    .as_ref()
                    .map(|(headers, body)| Message { headers, body }),
                &outcome.violations,
                &secrets,
            )
            .await;
    }
    proxy.journal.push(Entry {
        seq,
        received_at,
        method,
        path,
        query: parts.uri.query().map(redact::query),
        operation: operation.map(|op| op.info().operation_id),
        status: outcome.status,
        answered_by: outcome.answered_by,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        unchecked: outcome.unchecked,
        violations: outcome.violations,
    });
    answer
}

/// What became of an exchange, and the answer the partner gets.
type Forwarded = (Outcome, Response);

/// The proxy's own answer in place of the upstream's.
fn answered_here(error: ApiError, proxy_error: Option<&'static str>) -> (Outcome, Response) {
    let status = error.status;
    let mut response = error.clone().into_response();
    if let Some(why) = proxy_error {
        response
            .headers_mut()
            .insert(upstream::PROXY_ERROR, HeaderValue::from_static(why));
    }
    let body = serde_json::to_vec(&error.body).unwrap_or_default();
    let outcome = Outcome {
        status,
        answered_by: "proxy",
        unchecked: None,
        response: Some((response.headers().clone(), Bytes::from(body))),
        response_json: None,
        violations: Vec::new(),
    };
    (outcome, response)
}

/// `--refuse-invalid-requests`: the spec's own answer to a request that breaks it.
fn refuse(
    operation: Option<Operation>,
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Forwarded {
    let error = match operation {
        None => ApiError::unknown_route(method, path),
        Some(op) => ApiError::validation(
            "The request breaks the spec, so the validating proxy did not send it upstream.",
            request_problems(op, query, headers, body),
        ),
    };
    answered_here(error, None)
}

async fn forward(
    proxy: &Proxy,
    operation: Option<Operation>,
    parts: &axum::http::request::Parts,
    path_and_query: &str,
    body: Vec<u8>,
) -> Forwarded {
    let upstream_base = &proxy.config.upstream;
    let mut request = proxy
        .upstream
        .http
        .request(parts.method.clone(), upstream_base.url(path_and_query));
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) && name != header::CONTENT_LENGTH {
            request = request.header(name, value);
        }
    }
    if !body.is_empty() || parts.headers.contains_key(header::CONTENT_LENGTH) {
        request = request.body(body);
    }
    let sent = tokio::time::timeout(proxy.upstream.timeout, request.send()).await;
    let answer = match sent {
        Err(_) => {
            return answered_here(upstream::too_slow(upstream_base), Some("upstream-timeout"));
        }
        Ok(Err(error)) => {
            let (error, why) = upstream::failure(upstream_base, &error);
            return answered_here(error, Some(why));
        }
        Ok(Ok(answer)) => answer,
    };
    let status = answer.status();
    let mut headers = answer.headers().clone();
    headers.retain_hop_by_hop();
    let mut stream = answer.bytes_stream();
    let mut buffered = Vec::new();
    let mut unchecked = None;
    loop {
        match stream.next().await {
            None => break,
            Some(Ok(chunk)) => {
                buffered.extend_from_slice(&chunk);
                if buffered.len() > CHECK_LIMIT {
                    unchecked = Some(format!(
                        "the body is larger than {} MiB, so it was streamed on unchecked",
                        CHECK_LIMIT / 1024 / 1024
                    ));
                    break;
                }
            }
            Some(Err(error)) => {
                let (error, why) = upstream::failure(upstream_base, &error);
                return answered_here(error, Some(why));
            }
        }
    }
    let encoded = headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|e| e.as_bytes() != b"identity");
    if encoded && unchecked.is_none() {
        unchecked = Some("the body is content-encoded, so it was not checked".into());
    }
    let status_code = status.as_u16();
    let buffered = Bytes::from(buffered);
    let checked = match operation {
        None => Checked::default(),
        Some(op) if unchecked.is_none() => check_response(op, status_code, &headers, &buffered),
        // A body not checked: whether its status is documented still is.
        Some(op) if !op.info().statuses.contains(&status_code) => {
            check_response(op, status_code, &headers, b"")
        }
        Some(_) => Checked::default(),
    };
    let violations: Vec<Violation> = operation.map_or_else(Vec::new, |op| {
        let found = Found {
            body: checked.json.as_ref(),
            query: None,
            headers: &headers,
        };
        checked
            .problems
            .iter()
            .map(|p| violation(op, Side::Response(status_code), p, &found))
            .collect()
    });
    let body = if unchecked.is_some() {
        let first = futures::stream::iter([Ok::<_, reqwest::Error>(buffered.clone())]);
        Body::from_stream(first.chain(stream))
    } else {
        Body::from(buffered.clone())
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers.clone();
    let recorded = if unchecked.is_some() {
        Bytes::new()
    } else {
        buffered
    };
    (
        Outcome {
            status: status_code,
            answered_by: "upstream",
            unchecked,
            response: Some((headers, recorded)),
            response_json: checked.json,
            violations,
        },
        response,
    )
}

trait RetainHopByHop {
    fn retain_hop_by_hop(&mut self);
}

impl RetainHopByHop for HeaderMap {
    /// Drops the headers of one connection.
    fn retain_hop_by_hop(&mut self) {
        let names: Vec<HeaderName> = self.keys().filter(|n| hop_by_hop(n)).cloned().collect();
        for name in names {
            self.remove(name);
        }
    }
}

/// One side of an exchange, where the values of its violations are looked up.
struct Found<'a> {
    /// The body, when it is JSON.
    body: Option<&'a Value>,
    query: Option<&'a str>,
    headers: &'a HeaderMap,
}

/// A problem the checker found, as a violation: its kind, the spec's evidence there, and the
/// value found, masked.
fn violation(
    operation: Operation,
    side: Side,
    problem: &FieldProblem,
    found: &Found<'_>,
) -> Violation {
    let kind = Kind::of(&problem.code);
    let example = match kind {
        Kind::MissingRequiredField | Kind::Json => None,
        Kind::UndocumentedStatus => match side {
            Side::Response(status) => Some(Value::from(status)),
            Side::Request => None,
        },
        _ => example_at(&problem.path, found),
    };
    Violation {
        side,
        path: problem.path.clone(),
        kind,
        rule: problem.code.clone(),
        evidence: evidence::at(operation, side, &problem.path),
        example,
    }
}

/// The value at `path` (`$.a[1].b`, `query.page`, `header.content-type`), masked for showing.
fn example_at(path: &str, found: &Found<'_>) -> Option<Value> {
    if let Some(name) = path.strip_prefix("query.") {
        let raw = form_urlencoded::parse(found.query?.as_bytes())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())?;
        return Some(redact::example(name, &Value::String(raw)));
    }
    if let Some(name) = path.strip_prefix("header.") {
        let raw = String::from_utf8_lossy(found.headers.get(name)?.as_bytes()).into_owned();
        return Some(redact::example(name, &Value::String(raw)));
    }
    let mut value = found.body?;
    let mut name = "";
    for part in path.strip_prefix('$')?.split('.').filter(|p| !p.is_empty()) {
        let (field, indices) = part.split_once('[').unwrap_or((part, ""));
        if !field.is_empty() {
            value = value.get(field)?;
            name = field;
        }
        for index in indices.split('[').filter(|i| !i.is_empty()) {
            let index: usize = index.trim_end_matches(']').parse().ok()?;
            value = value.get(index)?;
        }
    }
    Some(redact::example(name, value))
}

/// The answer with `Confirma-Spec-Violations`, and when there are any, `Confirma-Spec-Summary`
/// naming the first three; `Confirma-Spec-Unchecked` when the body was not checked.
fn with_violation_headers(mut answer: Response, outcome: &Outcome) -> Response {
    let headers = answer.headers_mut();
    headers.insert(VIOLATIONS, HeaderValue::from(outcome.violations.len()));
    if !outcome.violations.is_empty() {
        let mut summary: Vec<String> = outcome
            .violations
            .iter()
            .take(3)
            .map(|v| {
                format!(
                    "{} at {} {} ({})",
                    v.kind.words(),
                    v.side,
                    v.path,
                    v.evidence
                )
            })
            .collect();
        if outcome.violations.len() > 3 {
            summary.push(format!("and {} more", outcome.violations.len() - 3));
        }
        if let Ok(value) = HeaderValue::from_str(&ascii(&summary.join("; "))) {
            headers.insert(SUMMARY, value);
        }
    }
    if let Some(why) = &outcome.unchecked
        && let Ok(value) = HeaderValue::from_str(why)
    {
        headers.insert(UNCHECKED, value);
    }
    answer
}

/// Text a header value can carry: visible ASCII, at most 300 characters.
fn ascii(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(300)
        .collect()
}
