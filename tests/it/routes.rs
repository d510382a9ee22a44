//! Routes vs spec: the description the running stub serves at `/openapi.json` (built from the
//! routes it actually registered) equals the hand-maintained spec in every operation, method,
//! path, parameter and response status. Removing a route from the stub, or adding an operation to
//! the spec without regenerating, fails this test.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::spec::{SPEC, resolve};

#[derive(Debug, PartialEq, Eq)]
struct Shape {
    method: String,
    path: String,
    /// (name, in, required)
    params: BTreeSet<(String, String, bool)>,
    has_body: bool,
    statuses: BTreeSet<String>,
}

fn normalise(doc: &Value, resolve: &dyn Fn(&Value) -> Value) -> BTreeMap<String, Shape> {
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let params = op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| {
                    let p = resolve(p);
                    (
                        p["name"].as_str().unwrap_or_default().to_string(),
                        p["in"].as_str().unwrap_or_default().to_string(),
                        p["required"].as_bool().unwrap_or(false),
                    )
                })
                .collect();
            let shape = Shape {
                method: method.to_uppercase(),
                path: path.clone(),
                params,
                has_body: op.get("requestBody").is_some(),
                statuses: op["responses"]
                    .as_object()
                    .expect("responses")
                    .keys()
                    .cloned()
                    .collect(),
            };
            assert!(
                out.insert(id.to_string(), shape).is_none(),
                "operationId {id} appears twice"
            );
        }
    }
    out
}

#[tokio::test]
async fn served_description_matches_the_spec() {
    let (status, served) = crate::serve::get_json(
        confirma_server::router(confirma_server::ExampleApi),
        "/openapi.json",
    )
    .await;
    assert_eq!(status, 200);
    let served_ops = normalise(&served, &|p| match p.get("$ref").and_then(Value::as_str) {
        Some(r) => served
            .pointer(r.trim_start_matches('#'))
            .expect("a served $ref resolves in the served description")
            .clone(),
        None => p.clone(),
    });
    let spec_ops = normalise(&SPEC, &|p| resolve(p).clone());
    let served_ids: BTreeSet<_> = served_ops.keys().collect();
    let spec_ids: BTreeSet<_> = spec_ops.keys().collect();
    assert_eq!(
        served_ids, spec_ids,
        "operations differ between the served description and the spec"
    );
    for (id, shape) in &spec_ops {
        assert_eq!(&served_ops[id], shape, "operation {id} differs");
    }
    let names = |doc: &Value| -> BTreeSet<String> {
        doc.pointer("/components/schemas")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .collect()
    };
    assert_eq!(names(&served), names(&SPEC), "component schemas differ");
}

#[test]
fn the_generated_operation_list_matches_the_spec() {
    let generated: BTreeMap<&str, (&str, &str)> = confirma_server::OPERATIONS
        .iter()
        .map(|op| (op.operation_id, (op.method, op.path)))
        .collect();
    let spec: BTreeMap<String, (String, String)> = crate::spec::operations()
        .into_iter()
        .map(|(m, p, op)| (op["operationId"].as_str().unwrap().to_string(), (m, p)))
        .collect();
    assert_eq!(generated.len(), spec.len());
    for (id, (m, p)) in &spec {
        assert_eq!(
            generated.get(id.as_str()),
            Some(&(m.as_str(), p.as_str())),
            "{id}"
        );
    }
}

/// The spec as it is served: the document less its maintainer-only marks.
fn spec_as_served() -> Value {
    let mut spec = SPEC.clone();
    confirma_server::strip_maintainer_marks(&mut spec);
    spec
}

/// Every number of `doc`, by its JSON pointer, as its text.
fn numbers(doc: &Value, at: String, out: &mut BTreeMap<String, String>) {
    match doc {
        Value::Object(map) => {
            for (k, v) in map {
                numbers(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                numbers(v, format!("{at}/{i}"), out);
            }
        }
        Value::Number(n) => {
            out.insert(at, n.to_string());
        }
        _ => {}
    }
}

/// Every keyword, extension and example of the spec's document is served as the YAML writes it,
/// number text included (`900.00` stays `900.00`), less the maintainers' marks; the servers are
/// the spec's.
#[tokio::test]
async fn the_served_description_is_the_spec_itself() {
    let base = crate::serve::spawn(confirma_server::router(confirma_server::ExampleApi)).await;
    let text = reqwest::get(format!("{base}/openapi.json"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let served: Value = serde_json::from_str(&text).unwrap();
    let spec = spec_as_served();
    let (Value::Object(served_map), Value::Object(spec_map)) = (&served, &spec) else {
        panic!("not objects");
    };
    let keys = |m: &serde_json::Map<String, Value>| m.keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(
        keys(served_map),
        keys(spec_map),
        "top-level keywords differ"
    );
    for (key, value) in spec_map {
        assert!(served_map[key] == *value, "{key} differs from the spec");
    }
    // The number text, one by one.
    let (mut in_spec, mut in_served) = (BTreeMap::new(), BTreeMap::new());
    numbers(&spec, String::new(), &mut in_spec);
    numbers(&served, String::new(), &mut in_served);
    assert!(
        in_spec.values().any(|n| n == "900.00"),
        "the spec writes 900.00"
    );
    for (at, number) in &in_spec {
        assert_eq!(in_served.get(at), Some(number), "the number at {at}");
    }
    for written in ["900.00", "1240.50", "110.00", "1000.00"] {
        assert!(text.contains(written), "{written} is not served as written");
    }
    let spec_text = spec.to_string();
    for keyword in [
        "\"x-decimal-places\"",
        "\"format\":\"decimal\"",
        "\"example\"",
    ] {
        assert_eq!(
            text.matches(keyword).count(),
            spec_text.matches(keyword).count(),
            "{keyword}"
        );
    }
    for mark in confirma_server::MAINTAINER_MARKS {
        assert!(!text.contains(&format!("\"{mark}\"")), "{mark} is served");
    }
}
