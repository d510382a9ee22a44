//! Checking an exchange that someone else served (the real service, behind a validating proxy)
//! against the spec, with the validators the router itself uses: the request against the
//! operation's parameters and body schema, the answer against the statuses the operation
//! documents and the schema of that status, closed so that undocumented fields show.
//!
//! Each problem is a [`FieldProblem`] whose `code` says what kind it is: a JSON Schema keyword
//! (`type`, `enum`, `format`, `required`, `maxLength`, ...), `decimalPlaces`,
//! `undocumentedField`, `undocumentedStatus`, `header` (the declared media type) or `json` (the
//! body is not one JSON value).

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

use axum::http::HeaderMap;
use serde_json::Value;

use crate::error::{FieldProblem, field_problem};
use crate::{OPERATIONS, Operation};

/// The operation the spec has at `method` (upper case) and `path` (no query), if any.
pub fn operation_at(method: &str, path: &str) -> Option<Operation> {
    OPERATIONS
        .iter()
        .find(|info| info.path == path && info.method.eq_ignore_ascii_case(method))
        .map(|info| info.operation)
}

/// What checking one side of an exchange found: every way it breaks the spec (empty when it
/// conforms), and its body as JSON when it is one JSON value (read once, for whoever needs it
/// next).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checked {
    pub problems: Vec<FieldProblem>,
    pub json: Option<Value>,
}

/// Every way a request for `operation` breaks the spec: its query parameters, and, when the
/// operation takes a body, the body's media type, JSON and schema. Empty when it conforms.
pub fn request_problems(
    operation: Operation,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Vec<FieldProblem> {
    check_request(operation, query, headers, body).problems
}

/// [`request_problems`], with the body as JSON.
pub fn check_request(
    operation: Operation,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Checked {
    let object = crate::runtime::query_object(operation, query);
    let mut problems = crate::runtime::query_problems(operation, &object);
    let mut json = None;
    if operation.info().has_body {
        match crate::json::check_content_type(headers) {
            Err(refused) => problems.push(field_problem(
                "header.content-type",
                "header",
                refused.body.message,
            )),
            Ok(()) => match crate::json::parse(body) {
                Err(refused) => problems.extend(unreadable(refused)),
                Ok(value) => {
                    problems.extend(crate::runtime::body_problems(operation, &value));
                    json = Some(value);
                }
            },
        }
    }
    Checked { problems, json }
}

/// Every way an answer of `operation` with `status`, `headers` and `body` breaks the spec: a
/// status the operation does not document, a body not declared as JSON where the spec says
/// JSON, and the body against the status's schema with every object closed. Empty when it
/// conforms.
pub fn response_problems(
    operation: Operation,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Vec<FieldProblem> {
    check_response(operation, status, headers, body).problems
}

/// [`response_problems`], with the body as JSON when the spec documents a JSON body.
pub fn check_response(
    operation: Operation,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Checked {
    let info = operation.info();
    let found = |problems| Checked {
        problems,
        json: None,
    };
    if !info.statuses.contains(&status) {
        let documented: Vec<String> = info.statuses.iter().map(u16::to_string).collect();
        return found(vec![field_problem(
            "status",
            "undocumentedStatus",
            format!(
                "{status} is not a status {} documents ({})",
                info.operation_id,
                documented.join(", ")
            ),
        )]);
    }
    let Some(validator) = response_validator(operation, status) else {
        return Checked::default();
    };
    if let Err(refused) = crate::json::check_content_type(headers) {
        return found(vec![field_problem(
            "header.content-type",
            "header",
            format!(
                "the spec documents application/json; {}",
                refused.body.message
            ),
        )]);
    }
    match crate::json::parse(body) {
        Err(refused) => found(unreadable(refused)),
        Ok(value) => Checked {
            problems: crate::runtime::every_problem(validator, "$", &value),
            json: Some(value),
        },
    }
}

/// A body that could not be read as one JSON value, as problems (a repeated key names its path).
fn unreadable(refused: crate::ApiError) -> Vec<FieldProblem> {
    if refused.body.field_errors.is_empty() {
        vec![field_problem("$", "json", refused.body.message)]
    } else {
        refused.body.field_errors
    }
}

/// The validator of one documented answer (none when the spec documents no JSON body for it),
/// compiled on first use.
type AnswerValidator = OnceLock<Option<jsonschema::Validator>>;

/// The closed validator of every documented answer, by operation and status.
static RESPONSES: LazyLock<HashMap<(Operation, u16), AnswerValidator>> = LazyLock::new(|| {
    OPERATIONS
        .iter()
        .flat_map(|info| {
            info.statuses
                .iter()
                .map(|status| ((info.operation, *status), OnceLock::new()))
        })
        .collect()
});

/// The component schemas closed, the `$defs` of every answer's validator: converted once.
static CLOSED_DEFS: LazyLock<Value> = LazyLock::new(crate::openapi::closed_component_schemas);

/// The validator of the JSON body of `operation`'s `status` answer; `None` when the spec
/// documents no JSON body for it.
fn response_validator(operation: Operation, status: u16) -> Option<&'static jsonschema::Validator> {
    RESPONSES
        .get(&(operation, status))?
        .get_or_init(|| {
            let response = crate::openapi::response_object(operation.info(), status)?;
            let schema = response.pointer("/content/application~1json/schema")?;
            let mut schema = crate::openapi::to_closed_json_schema(schema);
            schema["$defs"] = CLOSED_DEFS.clone();
            Some(crate::runtime::compile(&schema))
        })
        .as_ref()
}

/// Compiles every answer's validator now rather than on the first exchange.
pub fn warm_up() {
    for ((operation, status), _) in RESPONSES.iter() {
        response_validator(*operation, *status);
    }
}
