//! What the generated handlers call: credential extraction, query and body parsing with
//! validation against the embedded spec, and route registration with its OpenAPI description.
//!
//! Validation runs before any trait method: the spec's schemas (OpenAPI 3.0) are converted once to
//! JSON Schema and compiled with the `jsonschema` crate, which reports every violation at once.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::body::Body;
use axum::http::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use utoipa::openapi::HttpMethod;
use utoipa_axum::router::UtoipaMethodRouter;

use crate::ApiKey;
use crate::error::{ApiError, FieldProblem, clip};
use crate::openapi::{SPEC, to_json_schema};

pub use crate::json::{BODY_IDLE_TIMEOUT, BODY_LIMIT};

/// Compiled validators for one operation.
struct OperationValidators {
    query: Option<jsonschema::Validator>,
    /// Declared query parameters and their JSON types, for turning query strings into JSON.
    query_types: BTreeMap<String, String>,
    body: Option<jsonschema::Validator>,
}

static VALIDATORS: LazyLock<BTreeMap<String, OperationValidators>> =
    LazyLock::new(build_validators);

fn compile(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("the embedded spec yields an invalid JSON Schema: {e}"))
}

fn build_validators() -> BTreeMap<String, OperationValidators> {
    let defs = crate::openapi::component_schemas();
    let mut out = BTreeMap::new();
    for (_, item) in SPEC["paths"].as_object().into_iter().flatten() {
        for (_, op) in item.as_object().into_iter().flatten() {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let mut properties = Map::new();
            let mut required = Vec::new();
            let mut query_types = BTreeMap::new();
            for p in op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let p = crate::openapi::resolve(p);
                let name = p["name"].as_str().unwrap_or_default().to_string();
                let schema = crate::openapi::resolve(&p["schema"]);
                query_types.insert(
                    name.clone(),
                    schema["type"].as_str().unwrap_or("string").to_string(),
                );
                properties.insert(name.clone(), to_json_schema(&p["schema"]));
                if p["required"].as_bool() == Some(true) {
                    required.push(Value::String(name));
                }
            }
            let query = (!properties.is_empty()).then(|| {
                compile(&json!({"type": "object", "properties": properties, "required": required, "$defs": defs}))
            });
            let body = op
                .pointer("/requestBody/content/application~1json/schema")
                .map(|schema| {
                    let mut schema = to_json_schema(schema);
                    schema["$defs"] = defs.clone();
                    compile(&schema)
                });
            out.insert(
                id.to_string(),
                OperationValidators {
                    query,
                    query_types,
                    body,
                },
            );
        }
    }
    out
}

/// Compiles every validator now rather than on the first request.
pub fn warm_up() {
    LazyLock::force(&VALIDATORS);
}

/// The credential of a request: the `X-Api-Key` header, if present and readable.
pub fn api_key(headers: &HeaderMap) -> Option<ApiKey> {
    let value = headers.get("x-api-key")?.to_str().ok()?.trim();
    (!value.is_empty()).then(|| ApiKey::new(value))
}

/// Parses and validates the query string of `operation` into its typed query struct.
pub fn query<Q: DeserializeOwned>(operation: &str, raw: Option<&str>) -> Result<Q, ApiError> {
    let validators = &VALIDATORS[operation];
    let mut object = Map::new();
    for (name, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        // Undeclared parameters are ignored, as most HTTP APIs do; the first of repeats counts.
        let Some(kind) = validators.query_types.get(name.as_ref()) else {
            continue;
        };
        if object.contains_key(name.as_ref()) {
            continue;
        }
        object.insert(name.into_owned(), query_value(kind, &value));
    }
    let object = Value::Object(object);
    if let Some(validator) = &validators.query {
        let problems: Vec<FieldProblem> = validator
            .iter_errors(&object)
            .map(|e| problem("query", &e))
            .collect();
        if !problems.is_empty() {
            return Err(ApiError::validation(
                "The query parameters are invalid.",
                problems,
            ));
        }
    }
    serde_json::from_value(object).map_err(|e| {
        ApiError::validation(
            "The query parameters are invalid.",
            vec![FieldProblem::new("query", "type", clip(&e.to_string()))],
        )
    })
}

/// A query-string value as the JSON value its declared type expects; when it cannot be read as
/// that type it stays a string, so that validation reports it with the parameter's name.
fn query_value(kind: &str, raw: &str) -> Value {
    match kind {
        "integer" | "number" => serde_json::from_str::<serde_json::Number>(raw)
            .map(Value::Number)
            .unwrap_or_else(|_| Value::String(raw.to_string())),
        "boolean" => match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(raw.to_string()),
        },
        _ => Value::String(raw.to_string()),
    }
}

/// Reads, parses and validates the JSON body of `operation`.
pub async fn json_body<T: DeserializeOwned>(
    operation: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<T, ApiError> {
    crate::json::check_content_type(headers)?;
    let bytes = crate::json::read_body(headers, body).await?;
    let value = crate::json::parse(&bytes)?;
    if let Some(validator) = &VALIDATORS[operation].body {
        let problems: Vec<FieldProblem> = validator
            .iter_errors(&value)
            .map(|e| problem("$", &e))
            .collect();
        if !problems.is_empty() {
            return Err(ApiError::validation(
                "The request body is invalid.",
                problems,
            ));
        }
    }
    // Validation has already checked every constraint the types encode, so this only fails on
    // what JSON Schema cannot express (an integer beyond 64 bits, say).
    serde_json::from_value(value).map_err(|e| {
        ApiError::validation(
            "The request body is invalid.",
            vec![FieldProblem::new("$", "type", clip(&e.to_string()))],
        )
    })
}

/// Whether an error message may show `value` itself: short scalars only, so that an answer
/// never repeats a large submitted value.
fn shown_in_full(value: &Value) -> bool {
    match value {
        Value::String(s) => s.chars().count() <= crate::error::ECHO_LIMIT,
        Value::Number(n) => n.to_string().len() <= crate::error::ECHO_LIMIT,
        Value::Bool(_) | Value::Null => true,
        Value::Array(_) | Value::Object(_) => false,
    }
}

/// One validation error as a field problem, with the path of the offending field.
fn problem(root: &str, error: &jsonschema::ValidationError<'_>) -> FieldProblem {
    let mut path = root.to_string();
    for segment in error.instance_path().as_str().split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment.chars().all(|c| c.is_ascii_digit()) && !segment.is_empty() {
            path.push_str(&format!("[{segment}]"));
        } else {
            path.push('.');
            path.push_str(&segment);
        }
    }
    let kind = error.kind();
    if let jsonschema::error::ValidationErrorKind::Required { property } = kind {
        path.push('.');
        path.push_str(property.as_str().unwrap_or_default());
        return FieldProblem::new(path, "required", "is required".to_string());
    }
    if let jsonschema::error::ValidationErrorKind::MultipleOf { multiple_of } = kind {
        // `x-decimal-places` in the spec, checked as an exact multipleOf.
        let places = multiple_of
            .to_string()
            .split_once('.')
            .map_or(0, |(_, d)| d.len());
        return FieldProblem::new(
            path,
            "decimalPlaces",
            format!("must have at most {places} decimals"),
        );
    }
    let message = if shown_in_full(error.instance()) {
        error.to_string()
    } else {
        error.masked_with("the value").to_string()
    };
    FieldProblem::new(path, kind.keyword(), message)
}

/// Registers `handler` for `operation` at the method and path the spec gives, together with the
/// operation's OpenAPI description, so that the served description and the routes are one list.
pub fn route<S, H, T>(operation: &str, method: HttpMethod, handler: H) -> UtoipaMethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
    H: axum::handler::Handler<T, S>,
    T: 'static,
{
    let (path, description) = crate::openapi::operation(operation, &method);
    let filter = match method {
        HttpMethod::Get => axum::routing::MethodFilter::GET,
        HttpMethod::Post => axum::routing::MethodFilter::POST,
        HttpMethod::Put => axum::routing::MethodFilter::PUT,
        HttpMethod::Patch => axum::routing::MethodFilter::PATCH,
        HttpMethod::Delete => axum::routing::MethodFilter::DELETE,
        HttpMethod::Head => axum::routing::MethodFilter::HEAD,
        HttpMethod::Options => axum::routing::MethodFilter::OPTIONS,
        HttpMethod::Trace => axum::routing::MethodFilter::TRACE,
    };
    let paths = utoipa::openapi::path::Paths::builder()
        .path(
            path,
            utoipa::openapi::path::PathItem::new(method, description),
        )
        .build();
    (Vec::new(), paths, axum::routing::on(filter, handler))
}

pub use crate::openapi::{base_openapi, example_request};
