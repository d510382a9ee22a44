//! The embedded spec, and what is made of it: OpenAPI 3.0 schemas as JSON Schema (for
//! validation), the spec in utoipa's OpenAPI 3.1 model (for registering routes), and the served
//! description, which is the spec's own document.

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
/// `x-decimal-places: N` becomes an exact `multipleOf: 10^-N` (our validators check it on the
/// number's text, `keywords/`, unlike the float arithmetic of most other tools).
pub fn to_json_schema(schema: &Value) -> Value {
    convert(schema, &|name| format!("#/$defs/{name}"), Mode::Validate)
}

/// [`to_json_schema`] with every object closed (`additionalProperties: false` wherever the spec
/// lists properties and says nothing of others), so that a field the spec does not document is
/// reported: for checking answers someone else served against the spec.
pub fn to_closed_json_schema(schema: &Value) -> Value {
    convert(
        schema,
        &|name| format!("#/$defs/{name}"),
        Mode::ValidateClosed,
    )
}

/// What a conversion is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Describing (OpenAPI 3.1 for utoipa): documentation keywords stay.
    Describe,
    /// Validating what a client sends: undocumented fields are let through.
    Validate,
    /// Validating what a server answers: undocumented fields are reported.
    ValidateClosed,
}

/// An OpenAPI 3.0 schema as an OpenAPI 3.1 schema (what utoipa models).
fn to_openapi31(schema: &Value) -> Value {
    convert(
        schema,
        &|name| format!("#/components/schemas/{name}"),
        Mode::Describe,
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

fn convert(schema: &Value, reference: &dyn Fn(&str) -> String, mode: Mode) -> Value {
    let validation = mode != Mode::Describe;
    let recurse = |v: &Value| convert(v, reference, mode);
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
            if mode == Mode::ValidateClosed
                && map.contains_key("properties")
                && !map.contains_key("additionalProperties")
            {
                out.insert("additionalProperties".into(), Value::Bool(false));
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

/// The extensions that are for the spec's maintainers only (how sure each fact is, notes, the
/// generator's header): never served. Every other keyword and extension is (`x-decimal-places`,
/// `x-wire-note`).
pub const MAINTAINER_MARKS: &[&str] = &[
    "x-evidence",
    "x-evidence-properties",
    "x-maintainer-notes",
    "x-generated",
];

/// Removes the [`MAINTAINER_MARKS`] from a description, at any depth.
pub fn strip_maintainer_marks(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !MAINTAINER_MARKS.contains(&k.as_str()));
            map.values_mut().for_each(strip_maintainer_marks);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_maintainer_marks),
        _ => {}
    }
}

/// The description served at `/openapi.json` for a router whose routes `routed` describes: the
/// spec's own document, keyword for keyword and number text as written (`900.00` stays
/// `900.00`), less its [`MAINTAINER_MARKS`], holding each spec operation the router registered;
/// beside it what else the router documents (another API's paths, schemas, security schemes and
/// tags, as the sandbox's control API), in the spec's OpenAPI version. The servers are the
/// router's (a host may list itself first).
pub fn served_description(routed: &OpenApi) -> Value {
    let routed = serde_json::to_value(routed).unwrap_or_default();
    let mut doc = SPEC.clone();
    strip_maintainer_marks(&mut doc);
    let Value::Object(doc_map) = &mut doc else {
        unreachable!("the spec is a JSON object");
    };
    if let Some(servers) = routed.get("servers") {
        doc_map.insert("servers".into(), servers.clone());
    }
    let spec_paths = doc_map
        .remove("paths")
        .and_then(|p| match p {
            Value::Object(p) => Some(p),
            _ => None,
        })
        .unwrap_or_default();
    let mut paths = Map::new();
    for (path, item) in routed["paths"].as_object().into_iter().flatten() {
        let Some(item) = item.as_object() else {
            continue;
        };
        let spec_item = spec_paths.get(path).and_then(Value::as_object);
        let mut served = Map::new();
        for (key, value) in item {
            match spec_item.and_then(|s| s.get(key)) {
                Some(spec_operation) => served.insert(key.clone(), spec_operation.clone()),
                None => served.insert(key.clone(), to_openapi30(value)),
            };
        }
        // What the spec says of the whole path (its parameters, a summary) comes along.
        for (key, value) in spec_item.into_iter().flatten() {
            if !is_method(key) {
                served.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
        paths.insert(path.clone(), Value::Object(served));
    }
    doc_map.insert("paths".into(), Value::Object(paths));
    let components = doc_map
        .entry("components")
        .or_insert_with(|| Value::Object(Map::new()));
    for (section, entries) in routed["components"].as_object().into_iter().flatten() {
        let Some(Value::Object(served)) = components.as_object_mut().map(|c| {
            c.entry(section.clone())
                .or_insert_with(|| Value::Object(Map::new()))
        }) else {
            continue;
        };
        for (name, entry) in entries.as_object().into_iter().flatten() {
            served
                .entry(name.clone())
                .or_insert_with(|| to_openapi30(entry));
        }
    }
    let tags = doc_map
        .entry("tags")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(tags) = tags {
        for tag in routed["tags"].as_array().into_iter().flatten() {
            if !tags.iter().any(|t| t["name"] == tag["name"]) {
                tags.push(to_openapi30(tag));
            }
        }
    }
    doc
}

fn is_method(key: &str) -> bool {
    matches!(
        key,
        "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
    )
}

/// What a code-first description (utoipa's, OpenAPI 3.1) says in OpenAPI 3.0 terms: a type
/// `[T, "null"]` is `T` and `nullable`, a `oneOf`/`anyOf` of a `null` and one schema is that
/// schema and `nullable`.
fn to_openapi30(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out: Map<String, Value> = map
                .iter()
                .map(|(k, v)| (k.clone(), to_openapi30(v)))
                .collect();
            if let Some(Value::Array(types)) = out.get("type").cloned() {
                let others: Vec<_> = types.iter().filter(|t| *t != "null").cloned().collect();
                if others.len() == 1 {
                    out.insert("type".into(), others[0].clone());
                    if others.len() < types.len() {
                        out.insert("nullable".into(), true.into());
                    }
                }
            }
            for key in ["oneOf", "anyOf"] {
                let Some(Value::Array(members)) = out.get(key).cloned() else {
                    continue;
                };
                let null = |m: &Value| m.get("type") == Some(&Value::from("null"));
                let others: Vec<_> = members.iter().filter(|m| !null(m)).cloned().collect();
                if others.len() == 1 && others.len() < members.len() {
                    out.remove(key);
                    out.insert("allOf".into(), Value::Array(others));
                    out.insert("nullable".into(), true.into());
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(to_openapi30).collect()),
        other => other.clone(),
    }
}

/// The component schemas, one JSON Schema each, keyed by name (for `$defs`).
pub fn component_schemas() -> Value {
    components_as(to_json_schema)
}

/// The component schemas closed ([`to_closed_json_schema`]), keyed by name.
pub(crate) fn closed_component_schemas() -> Value {
    components_as(to_closed_json_schema)
}

fn components_as(convert: fn(&Value) -> Value) -> Value {
    let schemas = SPEC
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    Value::Object(
        schemas
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), convert(v)))
            .collect(),
    )
}

/// The response object `status` of `info` as the spec writes it, a `$ref` to the spec's shared
/// responses followed; `None` when the operation does not document the status.
pub fn response_object(info: &OperationInfo, status: u16) -> Option<Value> {
    let op = operation_object(info);
    let response = op.get("responses")?.get(status.to_string())?;
    match response.get("$ref").and_then(Value::as_str) {
        Some(target) => {
            let name = target.rsplit('/').next()?;
            SPEC.pointer(&format!("/components/responses/{name}"))
                .cloned()
        }
        None => Some(response.clone()),
    }
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
