//! How sure the spec is of what it says at a place of an exchange: the `x-evidence` mark
//! (`documented`, `sibling`, `finvoice`, `inferred`) the maintainers put on the property,
//! parameter, schema, response or operation, read from the spec itself. The spec's convention:
//! whatever is not marked is documented, and a property that cannot carry a mark of its own is
//! listed in its parent's `x-evidence-properties`.

use confirma_server::{Operation, SPEC};
use serde_json::Value;

use super::Side;

/// What the spec says of itself when it marks nothing.
const UNMARKED: &str = "documented";

/// The evidence of `path` (`$.settlements[].allocations[].caseId`, `query.page`, `status`,
/// `header.content-type`) on `side` of an exchange of `operation`. For a field the spec does
/// not have, the evidence of the object that lacks it.
pub fn at(operation: Operation, side: Side, path: &str) -> &'static str {
    let op = operation_object(operation);
    let own = |v: &'static Value| mark(v).unwrap_or(UNMARKED);
    let op_label = op.map_or(UNMARKED, own);
    match side {
        Side::Request => {
            if let Some(name) = path.strip_prefix("query.") {
                return op
                    .and_then(|op| op.get("parameters"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(resolve)
                    .find(|p| p["name"] == name)
                    .map_or(op_label, own);
            }
            if path.starts_with("header.") {
                return op_label;
            }
            match op.and_then(|op| op.pointer("/requestBody/content/application~1json/schema")) {
                Some(schema) => walk(schema, path, op_label),
                None => op_label,
            }
        }
        Side::Response(status) => {
            let Some(response) = op.and_then(|op| op.pointer(&format!("/responses/{status}")))
            else {
                return op_label;
            };
            let response = resolve(response);
            let response_label = mark(response).unwrap_or(op_label);
            if path == "status" || path.starts_with("header.") {
                return response_label;
            }
            match response.pointer("/content/application~1json/schema") {
                Some(schema) => walk(schema, path, response_label),
                None => response_label,
            }
        }
    }
}

/// The operation object of the spec (with its extensions).
fn operation_object(operation: Operation) -> Option<&'static Value> {
    let info = operation.info();
    SPEC.get("paths")?
        .get(info.path)?
        .get(info.method.to_ascii_lowercase())
}

fn mark(value: &Value) -> Option<&str> {
    value.get("x-evidence").and_then(Value::as_str)
}

/// A `$ref` followed to what it names in the spec (any depth of references).
fn resolve(value: &'static Value) -> &'static Value {
    let mut value = value;
    for _ in 0..16 {
        let Some(target) = value.get("$ref").and_then(Value::as_str) else {
            break;
        };
        match target.strip_prefix('#').and_then(|p| SPEC.pointer(p)) {
            Some(next) => value = next,
            None => break,
        }
    }
    value
}

/// Follows a JSON path through `schema`, from the evidence `label` of the whole body.
fn walk(schema: &'static Value, path: &str, label: &'static str) -> &'static str {
    let mut schema = resolve(schema);
    let mut label = mark(schema).unwrap_or(label);
    for segment in segments(path) {
        match segment {
            Segment::Item => {
                let Some(items) = schema.get("items") else {
                    return label;
                };
                schema = resolve(items);
                label = mark(items).or(mark(schema)).unwrap_or(label);
            }
            Segment::Field(name) => {
                let Some(property) = schema.get("properties").and_then(|p| p.get(name)) else {
                    // A field the spec does not have: how sure it is of the object without it.
                    return label;
                };
                label = mark(property)
                    .or_else(|| {
                        schema
                            .get("x-evidence-properties")
                            .and_then(|m| m.get(name))
                            .and_then(Value::as_str)
                    })
                    .unwrap_or(UNMARKED);
                schema = resolve(property);
            }
        }
    }
    label
}

enum Segment<'a> {
    Field(&'a str),
    Item,
}

/// `$.a[3].b` or `$.a[].b` as its segments (`a`, item, `b`).
fn segments(path: &str) -> impl Iterator<Item = Segment<'_>> {
    path.strip_prefix('$')
        .unwrap_or(path)
        .split('.')
        .filter(|s| !s.is_empty())
        .flat_map(|part| {
            let (name, items) = part.split_once('[').unwrap_or((part, ""));
            let items = items.matches(']').count();
            std::iter::once(Segment::Field(name))
                .filter(|s| !matches!(s, Segment::Field("")))
                .chain(std::iter::repeat_with(|| Segment::Item).take(items))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_read_from_the_property_its_parent_or_the_convention() {
        let settlements = Operation::GetSettlements;
        // `agency` says nothing: the Partner pages document it.
        assert_eq!(
            at(settlements, Side::Response(200), "$.settlements[0].agency"),
            "documented"
        );
        // The error body is inferred throughout; `code` is listed in its parent's map.
        assert_eq!(at(settlements, Side::Response(404), "$.code"), "inferred");
        assert_eq!(
            at(settlements, Side::Response(404), "$.message"),
            "inferred"
        );
        // A field the spec lacks: the evidence of the object without it.
        assert_eq!(
            at(settlements, Side::Response(404), "$.surprise"),
            "inferred"
        );
        // The 503 answer is marked as a whole.
        assert_eq!(at(settlements, Side::Response(503), "status"), "sibling");
        // An inferred operation: its request body's fields are at least as unsure.
        assert_eq!(
            at(
                Operation::SubmitAccountingInvoice,
                Side::Response(418),
                "status"
            ),
            "inferred"
        );
    }

    #[test]
    fn every_mark_the_spec_uses_is_reachable() {
        let mut seen = std::collections::BTreeSet::new();
        for info in confirma_server::OPERATIONS {
            for status in info.statuses {
                seen.insert(at(info.operation, Side::Response(*status), "status"));
            }
            for p in info.query {
                seen.insert(at(
                    info.operation,
                    Side::Request,
                    &format!("query.{}", p.name),
                ));
            }
        }
        for label in ["documented", "inferred", "sibling"] {
            assert!(seen.contains(label), "{label} never found: {seen:?}");
        }
    }
}
