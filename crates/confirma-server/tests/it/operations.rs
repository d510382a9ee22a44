//! The generated operation table: every operation reaches its own facts by its enum value, and
//! the spec's operationIds lead back to it, so the runtime needs no lookup by name.

use confirma_server::{OPERATIONS, Operation, runtime};
use serde_json::Value;

#[test]
fn every_operation_reaches_its_own_facts() {
    assert!(OPERATIONS.len() >= 16, "{} operations", OPERATIONS.len());
    for info in OPERATIONS {
        let op = info.operation;
        assert_eq!(op.info(), info, "{}", info.operation_id);
        assert_eq!(op.id(), info.operation_id);
        assert_eq!(Operation::from_id(info.operation_id), Some(op));
        let spec: Value =
            serde_json::from_str(info.spec).expect("the spec of an operation is JSON");
        assert_eq!(spec["operationId"], info.operation_id);
        // Parameters are inlined: nothing to resolve at run time.
        for param in spec["parameters"].as_array().into_iter().flatten() {
            assert!(
                param.get("$ref").is_none(),
                "{}: {param}",
                info.operation_id
            );
        }
        let names: Vec<&str> = info.query.iter().map(|q| q.name).collect();
        let in_spec: Vec<&str> = spec["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, in_spec, "{}", info.operation_id);
        assert_eq!(
            info.has_body,
            info.request_example.is_some(),
            "{}",
            info.operation_id
        );
        if info.has_body {
            let example: Option<Value> = runtime::example_request(op);
            assert!(
                example.is_some_and(|e| e.is_object()),
                "{}",
                info.operation_id
            );
        }
    }
    assert_eq!(Operation::from_id("noSuchOperation"), None);
}

#[test]
fn every_validator_compiles() {
    // Builds every operation's validators from its generated facts; a bad schema panics here.
    runtime::warm_up();
}
