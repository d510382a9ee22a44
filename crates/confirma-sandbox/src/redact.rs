//! What of an exchange the sandbox's journal and the validating proxy may show: never a
//! credential (the `X-Api-Key` header, a token in an answer, a secret in a query), and in
//! reports no personal data (an example value keeps its shape, not its letters and digits).

use axum::http::HeaderMap;
use serde_json::{Map, Value};

/// What stands in for a secret.
pub const REDACTED: &str = "<redacted>";

/// Whether a header, field or query parameter of this name holds a secret.
pub fn secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["key", "token", "secret", "password", "auth", "cookie"]
        .iter()
        .any(|word| name.contains(word))
}

/// The headers as a JSON object (names lower case, repeated headers joined by `, `), secrets
/// redacted.
pub fn headers(headers: &HeaderMap) -> Value {
    let mut out = Map::new();
    for name in headers.keys() {
        let value = if secret_name(name.as_str()) {
            REDACTED.to_string()
        } else {
            headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.insert(name.as_str().to_string(), Value::String(value));
    }
    Value::Object(out)
}

/// A query string with the value of every secret parameter redacted.
pub fn query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if secret_name(name) => format!("{name}={REDACTED}"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A JSON document with the value of every field whose name says secret redacted, at any
/// depth; everything else as it was (recordings are fixtures: they keep the data).
pub fn secrets(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if secret_name(k) && !v.is_null() {
                        Value::String(REDACTED.into())
                    } else {
                        secrets(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(secrets).collect()),
        other => other.clone(),
    }
}

/// The credentials one exchange carries, wherever they appear: the values of its secret headers,
/// query parameters and fields (and of the renewal answer's `Message`, which the spec documents
/// as the new token), so that a copy of one under any other name is redacted too.
#[derive(Debug, Default)]
pub struct Secrets(Vec<String>);

/// Shorter values are not looked for elsewhere (a `0` would be redacted everywhere).
const SHORTEST_SECRET: usize = 8;

impl Secrets {
    pub fn add_headers(&mut self, headers: &HeaderMap) {
        for (name, value) in headers {
            if secret_name(name.as_str()) {
                self.add(&String::from_utf8_lossy(value.as_bytes()));
            }
        }
    }

    pub fn add_query(&mut self, query: &str) {
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if secret_name(&name) {
                self.add(&value);
            }
        }
    }

    /// The secret fields of a JSON body of `operation`'s exchange.
    pub fn add_body(&mut self, operation: &str, value: &Value) {
        match value {
            Value::Object(map) => {
                for (name, field) in map {
                    let secret =
                        secret_name(name) || (operation == "renewToken" && name == "Message");
                    match field {
                        Value::String(text) if secret => self.add(text),
                        other => self.add_body(operation, other),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| self.add_body(operation, i)),
            _ => {}
        }
    }

    fn add(&mut self, value: &str) {
        let value = value.trim();
        if value.len() >= SHORTEST_SECRET && !self.0.iter().any(|s| s == value) {
            self.0.push(value.to_string());
        }
    }

    /// `text` with every credential of the exchange in it redacted.
    pub fn scrub(&self, text: &str) -> String {
        self.0.iter().fold(text.to_string(), |text, secret| {
            text.replace(secret.as_str(), REDACTED)
        })
    }

    /// A JSON document with every credential of the exchange in it redacted, under any name.
    pub fn scrub_json(&self, value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.scrub(text)),
            Value::Array(items) => Value::Array(items.iter().map(|i| self.scrub_json(i)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.scrub_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// The longest text an example shows; longer ones are cut (their length is said).
const SHOWN: usize = 40;

/// A value as a report shows it, by the field `name` it was found in: secrets redacted; strings
/// as their shape (`Xxxxx Xxx 99`: letters become `x` or `X`, digits `9`, the rest stays), which
/// shows a format without the data, except a code of capitals (`DELIVERED`, an enum value);
/// numbers, booleans and null as they are; objects and arrays by their size.
pub fn example(name: &str, value: &Value) -> Value {
    if secret_name(name) && !value.is_null() {
        return Value::String(REDACTED.into());
    }
    match value {
        Value::String(text) => Value::String(shape(text)),
        Value::Object(map) => Value::String(format!("{{object of {} fields}}", map.len())),
        Value::Array(items) => Value::String(format!("[array of {} items]", items.len())),
        other => other.clone(),
    }
}

fn shape(text: &str) -> String {
    let code = text.len() <= SHOWN
        && text.starts_with(|c: char| c.is_ascii_uppercase())
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if code {
        return text.to_string();
    }
    let count = text.chars().count();
    let mut out: String = text
        .chars()
        .take(SHOWN)
        .map(|c| match c {
            c if c.is_uppercase() => 'X',
            c if c.is_alphabetic() => 'x',
            c if c.is_numeric() => '9',
            c => c,
        })
        .collect();
    if count > SHOWN {
        out.push_str(&format!("… ({count} characters)"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn examples_keep_the_shape_not_the_data() {
        assert_eq!(
            example("name", &json!("Matti Meikäläinen")),
            json!("Xxxxx Xxxxxxxxxxx")
        );
        assert_eq!(example("dueDate", &json!("5.3.2026")), json!("9.9.9999"));
        assert_eq!(example("status", &json!("DELIVERED")), json!("DELIVERED"));
        assert_eq!(example("accessToken", &json!("abc")), json!(REDACTED));
        assert_eq!(example("amount", &json!(12.345)), json!(12.345));
        let long = "a".repeat(50);
        assert_eq!(
            example("note", &json!(long)),
            json!(format!("{}… (50 characters)", "x".repeat(40)))
        );
    }

    #[test]
    fn a_credential_is_redacted_under_any_name() {
        let mut found = Secrets::default();
        let answer = json!({"Message": "cfis_new_token_1", "accessToken": "cfis_new_token_1"});
        found.add_body("renewToken", &answer);
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", "cfis_old_token_0".parse().unwrap());
        found.add_headers(&headers);
        found.add_query("token=short&page=1");
        assert_eq!(
            found.scrub_json(
                &json!({"Message": "cfis_new_token_1", "note": "was cfis_old_token_0", "page": "1"})
            ),
            json!({"Message": REDACTED, "note": format!("was {REDACTED}"), "page": "1"})
        );
    }

    #[test]
    fn secrets_are_redacted_at_any_depth_and_nothing_else() {
        let doc = json!({"clients": [{"clientId": 7, "accessToken": "s3cret"}], "apiKey": null});
        assert_eq!(
            secrets(&doc),
            json!({"clients": [{"clientId": 7, "accessToken": REDACTED}], "apiKey": null})
        );
        assert_eq!(
            query("page=2&api_key=s3cret"),
            format!("page=2&api_key={REDACTED}")
        );
        let mut map = HeaderMap::new();
        map.insert("x-api-key", "s3cret".parse().unwrap());
        map.insert("accept", "application/json".parse().unwrap());
        assert_eq!(
            headers(&map),
            json!({"x-api-key": REDACTED, "accept": "application/json"})
        );
    }
}
