//! What the generated calls (`client_calls.rs`: one client call per operation, built from the
//! spec's examples) need: the examples as typed values, and the outcome of a call as JSON.

pub use crate::client_calls::call;

use confirma_client::types;
use serde::Serialize;
use serde_json::Value;

use crate::spec::{query_examples, request_example};

/// The example of query parameter `name` of `op`, as `T`.
pub fn q<T: serde::de::DeserializeOwned>(op: &str, name: &str) -> Option<T> {
    let (_, v) = query_examples(op).into_iter().find(|(n, _)| n == name)?;
    Some(serde_json::from_value(v).unwrap_or_else(|e| panic!("{op}: example of {name}: {e}")))
}

pub fn body<T: serde::de::DeserializeOwned>(op: &str) -> T {
    let example = request_example(op).unwrap_or_else(|| panic!("{op} has no request body"));
    serde_json::from_value(example)
        .unwrap_or_else(|e| panic!("{op}: the request example does not fit the client type: {e}"))
}

/// What a call gave back: the success body as JSON, or the error.
pub type Outcome = Result<Value, String>;

pub fn outcome<T: Serialize>(
    r: Result<confirma_client::ResponseValue<T>, confirma_client::Error<types::ErrorResponse>>,
) -> Outcome {
    match r {
        Ok(v) => Ok(serde_json::to_value(v.into_inner()).expect("serializable")),
        Err(e) => Err(e.to_string()),
    }
}

/// JSON with every `null`-valued or empty-array object key removed: the generated types omit
/// absent optional fields and empty optional lists, which the spec treats as the same.
pub fn without_nulls(v: &Value) -> Value {
    let absent = |v: &Value| v.is_null() || v.as_array().is_some_and(|a| a.is_empty());
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !absent(v))
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}
