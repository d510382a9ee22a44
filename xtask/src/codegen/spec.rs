//! Loading the spec and refusing, with a clear message, anything outside the subset the generators
//! handle. progenitor and typify panic or silently degrade on some constructs; every rule here
//! turns one of those into a sentence that names the place in the spec and the fix.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// The spec in the two forms the generators need.
pub struct Spec {
    /// The document exactly as written (with `x-evidence` and other extensions), as JSON.
    pub raw: Value,
    /// The document with every `x-` extension removed, parsed by `openapiv3`. Extensions are
    /// documentation for people; typify compares whole schemas when it applies a conversion (for
    /// example money to `Decimal`), so an extension next to a money field would defeat it.
    pub openapi: openapiv3::OpenAPI,
}

/// One number shape the generators map to an exact decimal: its decimal places (the
/// `x-decimal-places` extension, which the server checks exactly) and its range.
#[derive(Clone, Copy, Debug)]
pub struct DecimalShape {
    pub places: u32,
    pub minimum: &'static str,
    pub maximum: &'static str,
}

/// The number shapes the generators map to exact decimals: money, percentages, quantities.
/// Any other `type: number` is refused: typify would turn it into an `f64`, and no amount may
/// ever be a float. The decimal places are not `multipleOf`, which validators computing in
/// binary floating point get wrong for valid amounts (70.71 is not a multiple of 0.01 there).
pub const DECIMAL_SHAPES: [DecimalShape; 3] = [
    // Money.
    DecimalShape {
        places: 2,
        minimum: "-999999999999.99",
        maximum: "999999999999.99",
    },
    // Percentages: bounded so that no product of an amount and a rate can overflow a decimal.
    DecimalShape {
        places: 2,
        minimum: "0",
        maximum: "100",
    },
    DecimalShape {
        places: 4,
        minimum: "-99999999.9999",
        maximum: "99999999.9999",
    },
];

/// The bounds of an invoice number (`type: integer, format: int64`): typify would make a bounded
/// integer unsigned, so the generators map exactly this shape to `i64`.
pub const INVOICE_NUMBER_RANGE: (i64, i64) = (0, 99_999_999_999_999);

pub fn load(path: &Path) -> Result<Spec> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let raw = super::yaml::to_json(&text)
        .with_context(|| format!("{} is not valid YAML", path.display()))?;
    let problems = check_subset(&raw);
    if !problems.is_empty() {
        let mut msg = format!(
            "{} uses {} construct(s) the generators do not handle:\n",
            path.display(),
            problems.len()
        );
        for p in &problems {
            msg.push_str("  - ");
            msg.push_str(p);
            msg.push('\n');
        }
        msg.push_str("Fix the spec (see openapi/README.md for the rules) and run `cargo xtask codegen` again.");
        bail!(msg);
    }
    let mut stripped = raw.clone();
    strip_extensions(&mut stripped);
    let openapi: openapiv3::OpenAPI = serde_json::from_value(stripped)
        .with_context(|| format!("{} is not a valid OpenAPI 3.0 document", path.display()))?;
    Ok(Spec { raw, openapi })
}

fn strip_extensions(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with("x-"));
            map.values_mut().for_each(strip_extensions);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_extensions),
        _ => {}
    }
}

/// Every operation key OpenAPI 3.0 allows in a path item. The generators mount only
/// [`Method::ALL`]; the others are refused, not skipped.
const OPENAPI_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every rule violation in the document, as sentences. Empty when the document is in the subset.
pub fn check_subset(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
    if !version.starts_with("3.0.") {
        problems.push(format!(
            "`openapi: {version}`: progenitor reads OpenAPI 3.0.x only; declare `openapi: 3.0.3`"
        ));
    }
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();

    // Every $ref must resolve, wherever it is.
    let mut refs = Vec::new();
    collect_refs(doc, "#", &mut refs);
    for (at, target) in &refs {
        if !target.starts_with("#/") || doc.pointer(&target[1..]).is_none() {
            problems.push(format!("{at}: `$ref: {target}` does not resolve"));
        }
    }

    let mut operation_ids: BTreeMap<String, String> = BTreeMap::new();
    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (path, item) in &paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        if item.contains_key("$ref") {
            problems.push(format!(
                "paths.{path}: path items must be inline, not `$ref`"
            ));
        }
        for (method, op) in item {
            if !OPENAPI_METHODS.contains(&method.as_str()) {
                continue;
            }
            let at = format!("paths.{path}.{method}");
            if Method::from_key(method).is_none() {
                let mounted: Vec<&str> = Method::ALL.iter().map(|m| m.key()).collect();
                problems.push(format!(
                    "{at}: the generators mount {} only; `{method}` would get no route",
                    mounted.join(", ")
                ));
                continue;
            }
            check_operation(doc, &at, op, &mut operation_ids, &mut problems);
        }
    }

    for (name, schema) in &schemas {
        if !name.chars().all(|c| c.is_ascii_alphanumeric())
            || !name.starts_with(|c: char| c.is_ascii_uppercase())
        {
            problems.push(format!(
                "components.schemas.{name}: schema names must be PascalCase letters and digits"
            ));
        }
        check_schema(
            &format!("components.schemas.{name}"),
            schema,
            true,
            &mut problems,
        );
    }
    check_identifiers_agree(doc, &schemas, &mut problems);
    problems
}

/// The names of fields that carry one value from answer to request (a reference, an id, an
/// identifier, a number): wherever such a name appears, it must accept what it accepts anywhere
/// else, or a value taken from one answer cannot be sent back.
fn is_identifier(name: &str) -> bool {
    ["Reference", "Id", "Identifier", "Number"]
        .iter()
        .any(|suffix| name.ends_with(suffix))
        || matches!(name, "reference" | "id" | "identifier" | "number")
}

/// A string identifier's constraints that can refuse a value: type, format, maxLength, pattern.
fn identifier_constraints(doc: &Value, property: &Value) -> Option<String> {
    let property = resolve(doc, property);
    if property.get("type").and_then(Value::as_str) != Some("string")
        || property.get("enum").is_some()
    {
        return None;
    }
    Some(
        ["format", "maxLength", "pattern"]
            .iter()
            .map(|k| format!("{k}: {}", property.get(*k).unwrap_or(&Value::Null)))
            .collect::<Vec<_>>()
            .join(", "),
    )
}

/// Refuses an identifier ([`is_identifier`]) whose constraints differ between schemas, naming
/// every variant and where it is.
fn check_identifiers_agree(
    doc: &Value,
    schemas: &serde_json::Map<String, Value>,
    problems: &mut Vec<String>,
) {
    let mut seen: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for (name, schema) in schemas {
        let properties = schema.get("properties").and_then(Value::as_object);
        for (field, property) in properties.into_iter().flatten() {
            if !is_identifier(field) {
                continue;
            }
            if let Some(constraints) = identifier_constraints(doc, property) {
                seen.entry(field.clone())
                    .or_default()
                    .entry(constraints)
                    .or_default()
                    .push(format!("{name}.{field}"));
            }
        }
    }
    for (field, variants) in seen {
        if variants.len() > 1 {
            let listed: Vec<String> = variants
                .iter()
                .map(|(constraints, places)| format!("{{{constraints}}} in {}", places.join(", ")))
                .collect();
            problems.push(format!(
                "`{field}` carries one value across schemas but accepts different ones: {}; give it the same constraints everywhere",
                listed.join("; ")
            ));
        }
    }
}

fn check_operation(
    doc: &Value,
    at: &str,
    op: &Value,
    operation_ids: &mut BTreeMap<String, String>,
    problems: &mut Vec<String>,
) {
    match op.get("operationId").and_then(Value::as_str) {
        None => problems.push(format!(
            "{at}: missing `operationId` (generated method names come from it)"
        )),
        Some(id) => {
            if !id.starts_with(|c: char| c.is_ascii_lowercase())
                || !id.chars().all(|c| c.is_ascii_alphanumeric())
            {
                problems.push(format!("{at}: operationId `{id}` must be lowerCamelCase"));
            }
            if let Some(first) = operation_ids.insert(id.to_string(), at.to_string()) {
                problems.push(format!(
                    "{at}: operationId `{id}` is already used by {first}"
                ));
            }
        }
    }

    let reserved = match super::cli_definition::reserved_flags() {
        Ok(reserved) => reserved,
        Err(e) => {
            problems.push(format!(
                "reading the flags of `confirma`'s clap definition: {e:#}"
            ));
            Vec::new()
        }
    };
    let mut flags = BTreeMap::new();
    for (i, param) in op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let param = resolve(doc, param);
        let name = param.get("name").and_then(Value::as_str).unwrap_or("?");
        let pat = format!("{at}.parameters[{i}] ({name})");
        match param.get("in").and_then(Value::as_str) {
            Some("query") => {}
            other => problems.push(format!(
                "{pat}: only query parameters are supported (the API has no path or header parameters besides X-Api-Key), not `in: {}`",
                other.unwrap_or("?")
            )),
        }
        let flag = super::cli_definition::flag(name);
        if reserved.contains(&flag) {
            problems.push(format!(
                "{pat}: its flag --{flag} is one the `confirma` command already has; rename the parameter"
            ));
        }
        if let Some(other) = flags.insert(flag.clone(), name.to_string()) {
            problems.push(format!(
                "{pat}: its flag --{flag} is also `{other}`'s; parameter names must differ in more than case and separators"
            ));
        }
        if name.eq_ignore_ascii_case("x-api-key") {
            problems.push(format!(
                "{pat}: X-Api-Key is the security scheme; do not declare it as a parameter"
            ));
        }
        match param.get("schema") {
            None => problems.push(format!("{pat}: parameters need a `schema`")),
            Some(s) => {
                let s = resolve(doc, s);
                match s.get("type").and_then(Value::as_str) {
                    Some("string" | "integer" | "boolean") if s.get("enum").is_some() && param.pointer("/schema/$ref").is_none() => problems.push(format!(
                        "{pat}: inline enum; define it under components/schemas and `$ref` it, so client and server share one named type"
                    )),
                    Some("string" | "integer" | "boolean") => {}
                    Some("number") => check_number(&pat, s, problems),
                    other => problems.push(format!(
                        "{pat}: parameter schemas must be string, integer, boolean or decimal, not {}",
                        other.unwrap_or("untyped")
                    )),
                }
            }
        }
    }

    if let Some(body) = op.get("requestBody") {
        let body = resolve(doc, body);
        match body.get("content").and_then(Value::as_object) {
            Some(content) if content.len() == 1 && content.contains_key("application/json") => {
                check_ref_body(
                    &format!("{at}.requestBody"),
                    &content["application/json"],
                    problems,
                );
            }
            _ => problems.push(format!(
                "{at}.requestBody: must have exactly one content type, application/json"
            )),
        }
    }

    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let success: Vec<&String> = responses.keys().filter(|s| s.starts_with('2')).collect();
    if success.len() != 1 {
        problems.push(format!(
            "{at}.responses: exactly one 2xx response is supported (progenitor asserts one success type), found {}",
            if success.is_empty() { "none".to_string() } else { success.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ") }
        ));
    }
    if !responses.contains_key("500") {
        problems.push(format!("{at}.responses: document a 500 response; the server stub answers unexpected failures with it"));
    }
    for (status, resp) in &responses {
        let rat = format!("{at}.responses.{status}");
        if status.parse::<u16>().is_err() {
            problems.push(format!("{rat}: use explicit status codes (no ranges or `default`), so the server enum has one variant per status"));
        }
        let resp = resolve(doc, resp);
        match resp.get("content").and_then(Value::as_object) {
            Some(content) if content.len() == 1 && content.contains_key("application/json") => {
                let media = &content["application/json"];
                check_ref_body(&rat, media, problems);
                if status.starts_with('2') && media.get("example").is_none() {
                    problems.push(format!(
                        "{rat}: give the success response an `example`; the server's ExampleApi answers with it"
                    ));
                }
                if !status.starts_with('2') {
                    let r = media.pointer("/schema/$ref").and_then(Value::as_str);
                    if r != Some("#/components/schemas/ErrorResponse") {
                        problems.push(format!(
                            "{rat}: every error response uses the shared `ErrorResponse` schema"
                        ));
                    }
                }
            }
            _ => problems.push(format!(
                "{rat}: every response needs exactly one content type, application/json"
            )),
        }
    }
}

fn check_ref_body(at: &str, media: &Value, problems: &mut Vec<String>) {
    match media.pointer("/schema/$ref").and_then(Value::as_str) {
        Some(r) if r.starts_with("#/components/schemas/") => {}
        _ => problems.push(format!(
            "{at}: the body schema is inline; move it to components/schemas under a name and `$ref` it"
        )),
    }
}

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) if r.starts_with("#/") => doc.pointer(&r[1..]).unwrap_or(v),
        _ => v,
    }
}

fn collect_refs(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref" {
                    if let Some(r) = child.as_str() {
                        out.push((at.to_string(), r.to_string()));
                    }
                } else if k != "example" && k != "examples" {
                    collect_refs(child, &format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_refs(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn check_schema(at: &str, schema: &Value, top_level: bool, problems: &mut Vec<String>) {
    let Some(map) = schema.as_object() else {
        problems.push(format!("{at}: a schema must be an object"));
        return;
    };
    if map.contains_key("$ref") {
        let extra: BTreeSet<&str> = map
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "$ref")
            .collect();
        if !extra.is_empty() {
            problems.push(format!(
                "{at}: keys next to `$ref` ({}) are ignored in OpenAPI 3.0; put them on the referenced schema",
                extra.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        return;
    }
    for kw in ["oneOf", "anyOf", "allOf", "not"] {
        if map.contains_key(kw) {
            problems.push(format!("{at}: `{kw}` is outside the supported subset; model the variants as one object with optional fields"));
        }
    }
    match map.get("type").and_then(Value::as_str) {
        Some("object") => {
            if !top_level {
                problems.push(format!(
                    "{at}: inline object schema; give it a name under components/schemas and `$ref` it"
                ));
            }
            if let Some(ap) = map.get("additionalProperties")
                && ap != &Value::Bool(true)
                && !ap.is_object()
            {
                problems.push(format!("{at}: `additionalProperties: false` breaks forward compatibility of the client; remove it"));
            }
            let props = map.get("properties").and_then(Value::as_object);
            if props.is_none_or(|p| p.is_empty()) {
                problems.push(format!(
                    "{at}: objects need `properties` (free-form objects are not supported)"
                ));
            }
            for (name, prop) in props.into_iter().flatten() {
                check_schema(&format!("{at}.properties.{name}"), prop, false, problems);
            }
            for req in map
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let r = req.as_str().unwrap_or("");
                if !props.is_some_and(|p| p.contains_key(r)) {
                    problems.push(format!("{at}: required property `{r}` is not declared"));
                }
            }
        }
        Some("array") => match map.get("items") {
            None => problems.push(format!("{at}: arrays need `items`")),
            Some(items) => check_schema(&format!("{at}.items"), items, false, problems),
        },
        Some("number") => check_number(at, schema, problems),
        Some("string" | "integer" | "boolean") => {}
        Some(other) => problems.push(format!("{at}: unknown type `{other}`")),
        None => problems.push(format!("{at}: every schema needs a `type` (or a `$ref`)")),
    }
}

fn check_number(at: &str, schema: &Value, problems: &mut Vec<String>) {
    let text = |key: &str| schema.get(key).map(|v| v.to_string());
    let format = schema.get("format").and_then(Value::as_str);
    let allowed = format == Some("decimal")
        && DECIMAL_SHAPES.iter().any(|shape| {
            text("x-decimal-places") == Some(shape.places.to_string())
                && text("minimum").as_deref() == Some(shape.minimum)
                && text("maximum").as_deref() == Some(shape.maximum)
        });
    let extra: Vec<&str> = schema
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k.as_str())
        .filter(|k| {
            !matches!(
                *k,
                "type"
                    | "format"
                    | "minimum"
                    | "maximum"
                    | "nullable"
                    | "description"
                    | "example"
                    | "title"
                    | "default"
                    | "readOnly"
                    | "writeOnly"
                    | "deprecated"
            ) && !k.starts_with("x-")
        })
        .collect();
    if !allowed || !extra.is_empty() {
        let shapes: Vec<String> = DECIMAL_SHAPES
            .iter()
            .map(|s| {
                format!(
                    "`minimum: {}, maximum: {}, x-decimal-places: {}`",
                    s.minimum, s.maximum, s.places
                )
            })
            .collect();
        problems.push(format!(
            "{at}: numbers must be exact decimals, written exactly as `type: number, format: decimal` with {} (optionally nullable); anything else would become an f64{}",
            shapes.join(" or "),
            if extra.is_empty() { String::new() } else { format!(" (remove: {})", extra.join(", ")) }
        ));
    }
}

/// The HTTP methods the generators mount. Declared in the order the generated files list them
/// (alphabetical, as the paths are), so sorting by method keeps the output stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    Delete,
    Get,
    Patch,
    Post,
    Put,
}

impl Method {
    /// Every method the generators handle; the checker refuses the others by this list.
    pub const ALL: [Method; 5] = [
        Method::Delete,
        Method::Get,
        Method::Patch,
        Method::Post,
        Method::Put,
    ];

    /// The method's key in a path item (`get`).
    pub fn key(self) -> &'static str {
        match self {
            Method::Delete => "delete",
            Method::Get => "get",
            Method::Patch => "patch",
            Method::Post => "post",
            Method::Put => "put",
        }
    }

    /// The method for a path-item key, if the generators handle it.
    pub fn from_key(key: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.key() == key)
    }

    /// The method as HTTP writes it (`GET`).
    pub fn http(self) -> String {
        self.key().to_uppercase()
    }

    /// The method's variant name in `utoipa::openapi::HttpMethod` (`Get`).
    pub fn variant(self) -> String {
        heck::ToUpperCamelCase::to_upper_camel_case(self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(yaml: &str) -> Vec<String> {
        check_subset(&super::super::yaml::to_json(yaml).unwrap())
    }

    const BASE: &str = r#"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /a:
    get:
      operationId: getA
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/A'}, example: {}}}}
        '500': {description: failed, content: {application/json: {schema: {$ref: '#/components/schemas/ErrorResponse'}}}}
components:
  schemas:
    ErrorResponse: {type: object, properties: {code: {type: string}}}
    A: {type: object, properties: {amount: {type: number, format: decimal, minimum: -999999999999.99, maximum: 999999999999.99, x-decimal-places: 2}}}
"#;

    #[test]
    fn refuses_an_identifier_with_other_constraints_elsewhere() {
        let yaml = BASE.replace(
            "    A: {",
            "    B: {type: object, properties: {paymentReference: {type: string, maxLength: 35}, description: {type: string}}}\n    C: {type: object, properties: {paymentReference: {type: string}, description: {type: string, maxLength: 9}}}\n    A: {",
        );
        let found = problems(&yaml);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("`paymentReference`"), "{found:?}");
        assert!(found[0].contains("B.paymentReference") && found[0].contains("C.paymentReference"));
    }

    #[test]
    fn accepts_the_subset() {
        assert_eq!(problems(BASE), Vec::<String>::new());
    }

    #[test]
    fn refuses_float_money() {
        let p = problems(&BASE.replace(
            "format: decimal, minimum: -999999999999.99, maximum: 999999999999.99, x-decimal-places: 2",
            "format: double",
        ));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("exact decimals"), "{p:?}");
    }

    #[test]
    fn refuses_money_without_its_range_or_places() {
        for (from, to) in [
            ("maximum: 999999999999.99, ", ""),
            ("x-decimal-places: 2", "x-decimal-places: 3"),
            ("x-decimal-places: 2", "multipleOf: 0.01"),
        ] {
            let p = problems(&BASE.replace(from, to));
            assert_eq!(p.len(), 1, "{from} -> {to}: {p:?}");
            assert!(p[0].contains("exact decimals"), "{p:?}");
        }
    }

    #[test]
    fn refuses_missing_and_duplicate_operation_ids() {
        let dup = BASE.replace(
            "components:",
            "  /b:\n    get:\n      operationId: getA\n      responses:\n        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/A'}, example: {}}}}\n  /c:\n    get:\n      responses:\n        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/A'}, example: {}}}}\ncomponents:",
        );
        let p = problems(&dup);
        assert!(p.iter().any(|m| m.contains("already used")), "{p:?}");
        assert!(
            p.iter().any(|m| m.contains("missing `operationId`")),
            "{p:?}"
        );
    }

    #[test]
    fn refuses_inline_schemas_and_two_success_bodies() {
        let inline = BASE.replace(
            "'200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/A'}, example: {}}}}",
            "'200': {description: ok, content: {application/json: {schema: {type: object, properties: {a: {type: string}}}}}}\n        '201': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}",
        );
        let p = problems(&inline);
        assert!(p.iter().any(|m| m.contains("inline")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("exactly one 2xx")), "{p:?}");
    }

    /// The checker and the model hold one list of methods: every method OpenAPI allows is either
    /// refused by the checker or becomes an operation of the model, never neither.
    #[test]
    fn every_method_is_refused_or_modelled() {
        for method in OPENAPI_METHODS {
            let yaml = BASE.replace(
                "    get:\n      operationId: getA",
                &format!("    {method}:\n      operationId: getA"),
            );
            let doc = super::super::yaml::to_json(&yaml).unwrap();
            let refused = !check_subset(&doc).is_empty();
            let mut stripped = doc.clone();
            strip_extensions(&mut stripped);
            let spec = Spec {
                openapi: serde_json::from_value(stripped).unwrap(),
                raw: doc.clone(),
            };
            let modelled = super::super::client::progenitor(&spec)
                .and_then(|client| super::super::model::operations(&spec, &client))
                .is_ok_and(|ops| ops.len() == 1 && ops[0].method.key() == method);
            assert!(
                refused != modelled,
                "{method}: refused {refused}, modelled {modelled}"
            );
        }
    }

    /// The CLI generator's reserved flags are the checker's: a parameter that would take one of
    /// them is refused before any generator runs.
    #[test]
    fn refuses_a_parameter_with_a_flag_of_the_command_line() {
        for flag in super::super::cli_definition::reserved_flags().unwrap() {
            let name = heck::ToLowerCamelCase::to_lower_camel_case(flag.as_str());
            let yaml = BASE.replace(
                "      operationId: getA\n",
                &format!("      operationId: getA\n      parameters:\n        - {{name: {name}, in: query, schema: {{type: string}}}}\n"),
            );
            let p = problems(&yaml);
            assert!(
                p.iter().any(|m| m.contains(&format!("--{flag}"))),
                "{name}: {p:?}"
            );
        }
    }

    #[test]
    fn refuses_two_parameters_with_one_flag() {
        let yaml = BASE.replace(
            "      operationId: getA\n",
            "      operationId: getA\n      parameters:\n        - {name: caseId, in: query, schema: {type: string}}\n        - {name: case_id, in: query, schema: {type: string}}\n",
        );
        let p = problems(&yaml);
        assert!(
            p.iter().any(|m| m.contains("--case-id is also `caseId`")),
            "{p:?}"
        );
    }

    #[test]
    fn refuses_a_success_without_an_example() {
        let p = problems(&BASE.replacen(", example: {}", "", 1));
        assert!(p.iter().any(|m| m.contains("`example`")), "{p:?}");
    }

    #[test]
    fn refuses_dangling_refs_and_composition() {
        let bad = BASE.replace(
            "properties: {amount:",
            "oneOf: [{$ref: '#/components/schemas/Nope'}], properties: {amount:",
        );
        let p = problems(&bad);
        assert!(p.iter().any(|m| m.contains("does not resolve")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("`oneOf`")), "{p:?}");
    }
}
