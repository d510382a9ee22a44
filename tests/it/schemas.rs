//! Schema snapshots: the JSON Schema (schemars) of every generated model type, snapshotted with
//! insta; the types must match the spec's component schemas after normalisation (property names,
//! required fields, types, enum values, references). The server's types are the client's own
//! (one generated copy), which a test holds for every schema.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::schema_names::with_schema_names;
use crate::spec::SPEC;

macro_rules! schema_maps {
    ($($name:ident),*) => {
        fn client_schemas() -> BTreeMap<&'static str, Value> {
            BTreeMap::from([$(
                (stringify!($name), serde_json::to_value(schemars::schema_for!(confirma_client::types::$name)).unwrap()),
            )*])
        }
        /// For every schema, whether the server's type is the client's own.
        fn server_types_are_client_types() -> Vec<(&'static str, bool)> {
            vec![$(
                (
                    stringify!($name),
                    std::any::TypeId::of::<confirma_client::types::$name>()
                        == std::any::TypeId::of::<confirma_server::types::$name>(),
                ),
            )*]
        }
    };
}
with_schema_names!(schema_maps);

#[test]
fn client_type_schemas_snapshot() {
    insta::assert_json_snapshot!("client_type_schemas", client_schemas());
}

#[test]
fn the_server_uses_the_client_types() {
    let types = server_types_are_client_types();
    assert_eq!(types.len(), client_schemas().len());
    let copies: Vec<&str> = types
        .iter()
        .filter(|(_, same)| !same)
        .map(|(name, _)| *name)
        .collect();
    assert!(copies.is_empty(), "server types of their own: {copies:?}");
}

/// schemars' rendering of `rust_decimal::Decimal` (a string pattern); on our wire it is a number.
const DECIMAL_PATTERN: &str = "^-?[0-9]+(\\.[0-9]+)?$";

/// The normalised form of a property or item schema: `decimal`, `integer`, `string:date`,
/// `enum[A,B]`, `ref:Name` (objects only), `array<...>`.
fn shape(v: &Value, lookup: &dyn Fn(&str) -> Value) -> String {
    if let Some(r) = v.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap();
        let target = lookup(name);
        return if target["type"] == "object" {
            format!("ref:{name}")
        } else {
            shape(&target, lookup)
        };
    }
    // schemars wraps a reference that carries a default or description in a one-element allOf.
    if let Some([only]) = v.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
        return shape(only, lookup);
    }
    if let Some(any) = v.get("anyOf").and_then(Value::as_array) {
        let non_null: Vec<&Value> = any.iter().filter(|s| s["type"] != "null").collect();
        assert_eq!(non_null.len(), 1, "unexpected anyOf {v}");
        return shape(non_null[0], lookup);
    }
    let ty = match &v["type"] {
        Value::Array(types) => types
            .iter()
            .find(|t| *t != "null")
            .cloned()
            .unwrap_or(Value::Null),
        t => t.clone(),
    };
    // schemars writes a one-value enum as `const`.
    if let Some(value) = v.get("const") {
        return format!("enum[{value}]");
    }
    if let Some(values) = v.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values
            .iter()
            .filter(|x| !x.is_null())
            .map(|x| x.to_string())
            .collect();
        return format!("enum[{}]", values.join(","));
    }
    match ty.as_str().unwrap_or("untyped") {
        "string" if v["pattern"] == DECIMAL_PATTERN => "decimal".into(),
        "string" => match v["format"].as_str() {
            Some(f @ ("date" | "date-time")) => format!("string:{f}"),
            _ => "string".into(),
        },
        "number" if v["format"] == "decimal" => "decimal".into(),
        "array" => format!("array<{}>", shape(&v["items"], lookup)),
        other => other.into(),
    }
}

/// A component schema as (shape of itself, property shapes, required properties).
type Normal = (String, BTreeMap<String, String>, BTreeSet<String>);

fn normalise(v: &Value, lookup: &dyn Fn(&str) -> Value, required_drops_nullable: bool) -> Normal {
    let empty = Map::new();
    let props = v
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let nullable = |p: &Value| p["nullable"] == true;
    let required = v
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|r| !(required_drops_nullable && nullable(&props[*r])))
        .map(str::to_string)
        .collect();
    let own = if v["type"] == "object" {
        "object".to_string()
    } else {
        shape(v, lookup)
    };
    (
        own,
        props
            .iter()
            .map(|(k, p)| (k.clone(), shape(p, lookup)))
            .collect(),
        required,
    )
}

#[test]
fn generated_types_match_the_spec() {
    let spec_schemas = SPEC["components"]["schemas"].as_object().unwrap();
    let spec_lookup = |name: &str| spec_schemas[name].clone();
    let mut mismatches = Vec::new();
    for (name, root) in client_schemas() {
        let defs = root.get("definitions").cloned().unwrap_or_default();
        let lookup = |n: &str| defs.get(n).cloned().unwrap_or_else(|| spec_lookup(n));
        // A required but nullable field is an Option in Rust, which schemars lists as optional.
        let from_type = normalise(&root, &lookup, false);
        let from_spec = normalise(&spec_schemas[name], &spec_lookup, true);
        if from_type != from_spec {
            mismatches.push(format!(
                "{name}:\n  type: {from_type:?}\n  spec: {from_spec:?}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} types differ from the spec:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
