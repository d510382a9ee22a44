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
    let served_ops = normalise(&served, &|p| p.clone());
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
