//! What the generated handlers call: credential extraction, query and body parsing with
//! validation against the embedded spec, and route registration with its OpenAPI description.
//!
//! Validation runs before any trait method: the spec's schemas (OpenAPI 3.0) are converted once to
//! JSON Schema and compiled with the `jsonschema` crate, which reports every violation at once.

use std::sync::LazyLock;

use axum::body::Body;
use axum::http::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use utoipa::openapi::HttpMethod;
use utoipa_axum::router::UtoipaMethodRouter;

use crate::error::{ApiError, FieldProblem, clip, field_problem};
use crate::openapi::to_json_schema;
use crate::{ApiKey, OPERATIONS, Operation, OperationInfo};

pub use crate::json::{BODY_IDLE_TIMEOUT, BODY_LIMIT, read_body};

/// The compiled validators of one operation, built from its [`OperationInfo`] on first use
/// (`Operation::validators`, generated, keeps one per operation).
pub(crate) struct Validators {
    query: Option<jsonschema::Validator>,
    body: Option<jsonschema::Validator>,
}

/// Every component schema as JSON Schema, the `$defs` of each validator: converted once.
static DEFS: LazyLock<Value> = LazyLock::new(crate::openapi::component_schemas);

pub(crate) fn compile(schema: &Value) -> jsonschema::Validator {
    crate::keywords::exact_numbers(jsonschema::options())
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("the embedded spec yields an invalid JSON Schema: {e}"))
}

impl Validators {
    pub(crate) fn new(info: &OperationInfo) -> Self {
        let defs = &*DEFS;
        let op = crate::openapi::operation_object(info);
        // The parameters as the generator modelled them (name, required); their schemas from
        // the spec, where they are.
        let schemas = op.get("parameters").and_then(Value::as_array);
        let schema_of = |name: &str| {
            schemas
                .into_iter()
                .flatten()
                .find(|p| p["name"] == name)
                .map_or_else(|| json!({}), |p| to_json_schema(&p["schema"]))
        };
        let mut properties = Map::new();
        let mut required = Vec::new();
        for param in info.query {
            properties.insert(param.name.to_string(), schema_of(param.name));
            if param.required {
                required.push(Value::from(param.name));
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
        Self { query, body }
    }
}

/// Compiles every validator now rather than on the first request.
pub fn warm_up() {
    for info in OPERATIONS {
        info.operation.validators();
    }
}

/// The credential of a request: the `X-Api-Key` header, if present and readable.
pub fn api_key(headers: &HeaderMap) -> Option<ApiKey> {
    let value = headers.get("x-api-key")?.to_str().ok()?.trim();
    (!value.is_empty()).then(|| ApiKey::new(value))
}

/// Parses and validates the query string of `operation` into its typed query struct.
pub fn query<Q: DeserializeOwned>(operation: Operation, raw: Option<&str>) -> Result<Q, ApiError> {
    let object = query_object(operation, raw);
    let problems = query_problems(operation, &object);
    if !problems.is_empty() {
        return Err(ApiError::validation(
            "The query parameters are invalid.",
            problems,
        ));
    }
    serde_json::from_value(object).map_err(|e| {
        ApiError::validation(
            "The query parameters are invalid.",
            vec![field_problem("query", "type", clip(&e.to_string()))],
        )
    })
}

/// The declared parameters of a query string as one JSON object, each value as its declared
/// type expects.
pub(crate) fn query_object(operation: Operation, raw: Option<&str>) -> Value {
    let declared = operation.info().query;
    let mut object = Map::new();
    for (name, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        // Undeclared parameters are ignored, as most HTTP APIs do; the first of repeats counts.
        let Some(param) = declared.iter().find(|p| p.name == name) else {
            continue;
        };
        if object.contains_key(name.as_ref()) {
            continue;
        }
        object.insert(name.into_owned(), query_value(param.json_type, &value));
    }
    Value::Object(object)
}

/// Every way `value` breaks `validator`'s schema, as field problems under `root`. A valid value
/// (the usual case) is only checked: collecting errors walks it more slowly.
pub(crate) fn every_problem(
    validator: &jsonschema::Validator,
    root: &str,
    value: &Value,
) -> Vec<FieldProblem> {
    if validator.is_valid(value) {
        return Vec::new();
    }
    validator
        .iter_errors(value)
        .flat_map(|e| problems(root, &e))
        .collect()
}

/// Every way the query object of `operation` breaks its parameters' schemas.
pub(crate) fn query_problems(operation: Operation, object: &Value) -> Vec<FieldProblem> {
    operation
        .validators()
        .query
        .as_ref()
        .map_or_else(Vec::new, |validator| {
            every_problem(validator, "query", object)
        })
}

/// Every way a request body of `operation` breaks its schema.
pub(crate) fn body_problems(operation: Operation, value: &Value) -> Vec<FieldProblem> {
    operation
        .validators()
        .body
        .as_ref()
        .map_or_else(Vec::new, |validator| every_problem(validator, "$", value))
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

/// Reads, parses and validates the JSON body of `operation`: the typed body, and the JSON it was
/// read from.
pub async fn json_body<T: DeserializeOwned>(
    operation: Operation,
    headers: &HeaderMap,
    body: Body,
) -> Result<(T, Value), ApiError> {
    crate::json::check_content_type(headers)?;
    let bytes = crate::json::read_body(headers, body).await?;
    let value = crate::json::parse(&bytes)?;
    let problems = body_problems(operation, &value);
    if !problems.is_empty() {
        return Err(ApiError::validation(
            "The request body is invalid.",
            problems,
        ));
    }
    // Validation has already checked every constraint the types encode, so this only fails on
    // what JSON Schema cannot express (an integer beyond 64 bits, say).
    let typed = T::deserialize(&value).map_err(|e| {
        ApiError::validation(
            "The request body is invalid.",
            vec![field_problem("$", "type", clip(&e.to_string()))],
        )
    })?;
    Ok((typed, value))
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

/// The JSON path of what a validation error is about, under `root` (`$.rows[1].vatCode`).
fn instance_path(root: &str, error: &jsonschema::ValidationError<'_>) -> String {
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
    path
}

/// One validation error as field problems, each with the path of the offending field: one,
/// except for fields a closed object does not document, which are named one by one.
pub(crate) fn problems(root: &str, error: &jsonschema::ValidationError<'_>) -> Vec<FieldProblem> {
    if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } =
        error.kind()
    {
        let path = instance_path(root, error);
        return unexpected
            .iter()
            .map(|name| {
                field_problem(
                    format!("{path}.{name}"),
                    "undocumentedField",
                    "is not documented by the spec",
                )
            })
            .collect();
    }
    vec![problem(root, error)]
}

/// One validation error as a field problem, with the path of the offending field.
fn problem(root: &str, error: &jsonschema::ValidationError<'_>) -> FieldProblem {
    let mut path = instance_path(root, error);
    let kind = error.kind();
    if let jsonschema::error::ValidationErrorKind::Required { property } = kind {
        path.push('.');
        path.push_str(property.as_str().unwrap_or_default());
        return field_problem(path, "required", "is required".to_string());
    }
    if let jsonschema::error::ValidationErrorKind::Custom { keyword, message } = kind
        && keyword == crate::keywords::DECIMAL_PLACES
    {
        // `x-decimal-places` in the spec, checked as an exact multipleOf.
        return field_problem(path, "decimalPlaces", message.clone());
    }
    let message = if shown_in_full(error.instance()) {
        error.to_string()
    } else {
        error.masked_with("the value").to_string()
    };
    field_problem(path, kind.keyword(), message)
}

/// Registers `handler` for `operation` at the method and path the spec gives, together with the
/// operation's OpenAPI description, so that the served description and the routes are one list.
pub fn route<S, H, T>(operation: Operation, method: HttpMethod, handler: H) -> UtoipaMethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
    H: axum::handler::Handler<T, S>,
    T: 'static,
{
    let info = operation.info();
    let description = crate::openapi::description(info);
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
            info.path,
            utoipa::openapi::path::PathItem::new(method, description),
        )
        .build();
    (Vec::new(), paths, axum::routing::on(filter, handler))
}

pub use crate::openapi::{base_openapi, example_request};
