//! The hand-maintained spec, read straight from `openapi/partner-api.yaml` (not from anything
//! generated), so that tests compare generated artefacts against the source of truth.

use std::sync::LazyLock;

use serde_json::Value;

pub static SPEC: LazyLock<Value> = LazyLock::new(|| {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/partner-api.yaml");
    let text = std::fs::read_to_string(path).expect("openapi/partner-api.yaml is readable");
    xtask::codegen::yaml::to_json(&text).expect("openapi/partner-api.yaml is valid YAML")
});

pub fn resolve(v: &Value) -> &Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => SPEC
            .pointer(r.trim_start_matches('#'))
            .expect("$ref resolves"),
        None => v,
    }
}

/// One operation of the spec: (method in upper case, path, operation object).
pub fn operations() -> Vec<(String, String, &'static Value)> {
    let mut out = Vec::new();
    for (path, item) in SPEC["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if op.get("operationId").is_some() {
                out.push((method.to_uppercase(), path.clone(), op));
            }
        }
    }
    out
}

pub fn operation(id: &str) -> (String, String, &'static Value) {
    operations()
        .into_iter()
        .find(|(_, _, op)| op["operationId"] == id)
        .unwrap_or_else(|| panic!("no operation {id} in the spec"))
}

/// The example of the request body of `id`, if it has a body.
pub fn request_example(id: &str) -> Option<Value> {
    let (_, _, op) = operation(id);
    let body = resolve(op.get("requestBody")?);
    Some(
        body.pointer("/content/application~1json/example")
            .cloned()
            .unwrap_or_else(|| panic!("{id}: request body has no example")),
    )
}

/// The example of the success response of `id`.
pub fn response_example(id: &str) -> (u16, Value) {
    let (_, _, op) = operation(id);
    let (status, resp) = op["responses"]
        .as_object()
        .expect("responses")
        .iter()
        .find(|(s, _)| s.starts_with('2'))
        .unwrap_or_else(|| panic!("{id}: no 2xx response"));
    let example = resolve(resp)
        .pointer("/content/application~1json/example")
        .cloned()
        .unwrap_or_else(|| panic!("{id}: the {status} response has no example"));
    (status.parse().expect("numeric status"), example)
}

/// The query parameters of `id` that the spec gives an example for, as (name, example).
pub fn query_examples(id: &str) -> Vec<(String, Value)> {
    let (_, _, op) = operation(id);
    op.get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(resolve)
        .filter_map(|p| {
            let example = p.get("example").or_else(|| p.pointer("/schema/example"))?;
            Some((p["name"].as_str()?.to_string(), example.clone()))
        })
        .collect()
}
