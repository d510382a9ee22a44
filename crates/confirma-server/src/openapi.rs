//! The embedded spec, and its conversions: OpenAPI 3.0 schemas to JSON Schema (for validation)
//! and the spec to utoipa's OpenAPI 3.1 model (for the served description).

use std::sync::LazyLock;

use serde_json::{Map, Value};
use utoipa::openapi::OpenApi;

use crate::{Operation, OperationInfo};

/// `openapi/partner-api.yaml` as JSON, written by `cargo xtask codegen`.
pub static SPEC: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("generated/openapi.json"))
        .expect("generated/openapi.json is written by the generator from a valid spec")
});

/// An OpenAPI 3.0 schema as JSON Schema 2020-12 for validation: `nullable` becomes a `null`
/// type, component references point into `$defs`, keywords that only document are dropped, and
/// `x-decimal-places: N` becomes an exact `multipleOf: 10^-N` (the validator computes it on
/// arbitrary-precision numbers, unlike the float arithmetic of most other tools).
pub fn to_json_schema(schema: &Value) -> Value {
    convert(schema, &|name| format!("#/$defs/{name}"), true)
}

/// An OpenAPI 3.0 schema as an OpenAPI 3.1 schema (what utoipa models).
fn to_openapi31(schema: &Value) -> Value {
    convert(
        schema,
        &|name| format!("#/components/schemas/{name}"),
        false,
    )
}

/// `multipleOf` for `places` decimals, as an exact JSON number (`0.01` for 2).
fn multiple_for_places(places: &Value) -> Option<Value> {
    let places = usize::try_from(places.as_u64()?).ok()?;
    let text = if places == 0 {
        "1".to_string()
    } else {
        format!("0.{}1", "0".repeat(places - 1))
    };
    serde_json::from_str(&text).ok()
}

fn convert(schema: &Value, reference: &dyn Fn(&str) -> String, validation: bool) -> Value {
    let recurse = |v: &Value| convert(v, reference, validation);
    match schema {
        Value::Object(map) => {
            let mut out = Map::new();
            let nullable = map.get("nullable").and_then(Value::as_bool) == Some(true);
            for (key, value) in map {
                match key.as_str() {
                    "nullable" | "example" | "xml" | "discriminator" => {}
                    "x-decimal-places" if validation => {
                        if let Some(multiple) = multiple_for_places(value) {
                            out.insert("multipleOf".into(), multiple);
                        }
                    }
                    k if k.starts_with("x-") => {}
                    "$ref" => {
                        let target = value.as_str().unwrap_or_default();
                        let name = target.rsplit('/').next().unwrap_or_default();
                        out.insert(key.clone(), Value::String(reference(name)));
                    }
                    // `decimal`, `int32` and `int64` are not JSON Schema formats; the types and
                    // the decimal places carry their meaning.
                    "format" if matches!(value.as_str(), Some("decimal" | "int32" | "int64")) => {}
                    "properties" => {
                        let props = value
                            .as_object()
                            .into_iter()
                            .flatten()
                            .map(|(k, v)| (k.clone(), recurse(v)))
                            .collect();
                        out.insert(key.clone(), Value::Object(props));
                    }
                    "items" => {
                        out.insert(key.clone(), recurse(value));
                    }
                    _ => {
                        out.insert(key.clone(), value.clone());
                    }
                }
            }
            if validation {
                bound_by_format(map, &mut out);
            }
            if nullable {
                if let Some(Value::String(t)) = out.get("type").cloned() {
                    out.insert(
                        "type".into(),
                        Value::Array(vec![Value::String(t), "null".into()]),
                    );
                }
                if let Some(Value::Array(values)) = out.get_mut("enum")
                    && !values.contains(&Value::Null)
                {
                    values.push(Value::Null);
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(recurse).collect()),
        other => other.clone(),
    }
}

/// `format: int32` / `int64` as the range it stands for (JSON Schema has no such formats, and the
/// Rust type of a bounded integer may be wider, a `NonZeroU32` for an `int32` with `minimum: 1`):
/// the tighter of the format's bound and the schema's own `minimum`/`maximum`.
fn bound_by_format(schema: &Map<String, Value>, out: &mut Map<String, Value>) {
    let (low, high) = match schema.get("format").and_then(Value::as_str) {
        Some("int32") => (i64::from(i32::MIN), i64::from(i32::MAX)),
        Some("int64") => (i64::MIN, i64::MAX),
        _ => return,
    };
    // Keep the schema's own bound where it is tighter than the format's.
    let own = |key: &str| out.get(key).and_then(Value::as_f64);
    let min = own("minimum").filter(|own| *own >= low as f64);
    let max = own("maximum").filter(|own| *own <= high as f64);
    if min.is_none() {
        out.insert("minimum".into(), Value::from(low));
    }
    if max.is_none() {
        out.insert("maximum".into(), Value::from(high));
    }
}

/// Removes every extension (`x-…` key) from a description, at any depth.
pub fn strip_extensions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with("x-"));
            map.values_mut().for_each(strip_extensions);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_extensions),
        _ => {}
    }
}

/// The component schemas, one JSON Schema each, keyed by name (for `$defs`).
pub fn component_schemas() -> Value {
    let schemas = SPEC
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    Value::Object(
        schemas
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), to_json_schema(v)))
            .collect(),
    )
}

/// The served description before any route is added: info, servers, security and components.
pub fn base_openapi() -> OpenApi {
    let mut doc = Map::new();
    doc.insert("openapi".into(), "3.1.0".into());
    for key in ["info", "servers", "security", "tags"] {
        if let Some(v) = SPEC.get(key) {
            doc.insert(key.into(), v.clone());
        }
    }
    let mut components = SPEC.get("components").cloned().unwrap_or_default();
    for section in ["schemas", "responses", "parameters"] {
        if let Some(Value::Object(entries)) = components.get_mut(section) {
            for entry in entries.values_mut() {
                *entry = to_openapi31(entry);
            }
        }
    }
    doc.insert("components".into(), components);
    doc.insert("paths".into(), Value::Object(Map::new()));
    serde_json::from_value(Value::Object(doc))
        .unwrap_or_else(|e| panic!("the embedded spec does not fit utoipa's OpenAPI model: {e}"))
}

/// The operation object of `info`, as the spec writes it (its parameters inlined).
pub fn operation_object(info: &OperationInfo) -> Value {
    serde_json::from_str(info.spec).unwrap_or_else(|e| {
        panic!(
            "the generator wrote {} as invalid JSON: {e}",
            info.operation_id
        )
    })
}

/// The OpenAPI description of one operation, as utoipa models it.
pub fn description(info: &OperationInfo) -> utoipa::openapi::path::Operation {
    let mut op = operation_object(info);
    if let Some(Value::Array(params)) = op.get_mut("parameters") {
        for p in params.iter_mut() {
            *p = to_openapi31(p);
        }
    }
    if let Some(body) = op.pointer_mut("/requestBody/content/application~1json/schema") {
        *body = to_openapi31(body);
    }
    serde_json::from_value(op).unwrap_or_else(|e| {
        panic!(
            "operation {} does not fit utoipa's OpenAPI model: {e}",
            info.operation_id
        )
    })
}

/// The spec's example `json` of the `status` response of operation `id`, as `T`. Used by
/// `ExampleApi`; a test decodes every one, so a misfit is found there first.
pub fn example<T: serde::de::DeserializeOwned>(id: &str, status: u16, json: &str) -> T {
    serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("the {status} example of {id} does not fit its type: {e}"))
}

/// The spec's example request body of `operation`, as `T` (for seeding and tests); `None` when
/// the operation takes no body.
pub fn example_request<T: serde::de::DeserializeOwned>(operation: Operation) -> Option<T> {
    let info = operation.info();
    let json = info.request_example?;
    Some(serde_json::from_str(json).unwrap_or_else(|e| {
        panic!(
            "the request example of {} does not fit its type: {e}",
            info.operation_id
        )
    }))
}
