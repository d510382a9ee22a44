//! Reading a request body as strict JSON: the bytes arrive within the limits (size, time), the
//! body is complete, and no object repeats a key (most parsers silently keep the last one, so a
//! repeated key would mean different things to different readers of the same request).

use std::fmt;
use std::time::Duration;

use axum::body::Body;
use axum::http::HeaderMap;
use http_body_util::BodyExt;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::error::ApiError;

/// The largest request body accepted, documented in the spec's description of every body.
/// Invoices may carry Base64 PDF attachments, hence the generous size.
pub const BODY_LIMIT: usize = 10 * 1024 * 1024;

/// How long a request body may pause between two chunks before the request is answered with 408.
/// Also documented in the spec's description.
pub const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The declared media type must be JSON, in UTF-8 (the only encoding JSON allows on the wire,
/// RFC 8259): `application/json`, optionally with `charset=utf-8`.
pub fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let raw = headers
        .get(axum::http::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let mut parts = raw.split(';');
    let essence = parts.next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::unsupported_media_type(&raw));
    }
    for parameter in parts {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        if name.trim().eq_ignore_ascii_case("charset")
            && !value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        {
            return Err(ApiError::unsupported_charset(value.trim()));
        }
    }
    Ok(())
}

/// Reads the whole body: 413 past [`BODY_LIMIT`] (at once when `Content-Length` says so), 408 when
/// the client pauses longer than [`BODY_IDLE_TIMEOUT`], 400 when the body ends early.
pub async fn read_body(headers: &HeaderMap, mut body: Body) -> Result<Vec<u8>, ApiError> {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return Err(ApiError::payload_too_large(BODY_LIMIT));
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0) as usize);
    loop {
        let frame = match tokio::time::timeout(BODY_IDLE_TIMEOUT, body.frame()).await {
            Err(_) => return Err(ApiError::request_timeout(BODY_IDLE_TIMEOUT)),
            Ok(None) => return Ok(bytes),
            Ok(Some(Err(_))) => return Err(ApiError::incomplete_body()),
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > BODY_LIMIT {
                return Err(ApiError::payload_too_large(BODY_LIMIT));
            }
            bytes.extend_from_slice(&data);
        }
    }
}

/// Parses `bytes` as one JSON value, refusing an object that repeats a key (400 naming its path),
/// in one pass: the value is built as `serde_json` builds it, and a repeated key is noticed when
/// its object has it already. One difference: `serde_json` (with `raw_value`, which the client
/// crate turns on) reads an object whose first member is named `$serde_json::private::RawValue`
/// as the JSON text in that member; here it is the object the client sent.
pub fn parse(bytes: &[u8]) -> Result<Value, ApiError> {
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    let (value, repeated) = Unique
        .deserialize(&mut reader)
        .and_then(|found| reader.end().map(|()| found))
        .map_err(|e| ApiError::malformed_json(&e))?;
    match repeated {
        Some(path) => Err(ApiError::duplicate_key(&path.to_string())),
        None => Ok(value),
    }
}

/// The key `serde_json` (with `arbitrary_precision`) hands a number under: a one-member map of
/// this key and the number's text.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Where a repeated key is, innermost step first (built only when there is one).
#[derive(Debug, Default)]
struct RepeatedAt(Vec<Step>);

#[derive(Debug)]
enum Step {
    Key(String),
    Index(usize),
}

impl RepeatedAt {
    fn under(mut self, step: Step) -> Self {
        self.0.push(step);
        self
    }
}

impl fmt::Display for RepeatedAt {
    /// The JSON path: `$.a.c[0].d`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for step in self.0.iter().rev() {
            match step {
                Step::Key(key) => write!(f, ".{key}")?,
                Step::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// A JSON value and the first repeated key in it, in document order (an object's own repeated
/// key before anything repeated inside that key's value).
struct Unique;

type Checked = (Value, Option<RepeatedAt>);

impl<'de> DeserializeSeed<'de> for Unique {
    type Value = Checked;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Checked, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Unique {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Checked, E> {
        Ok((Value::Bool(b), None))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Checked, E> {
        Ok((Value::Number(n.into()), None))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Checked, E> {
        Ok((Value::Number(n.into()), None))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Checked, E> {
        Ok((
            serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number),
            None,
        ))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Checked, E> {
        Ok((Value::String(s.to_owned()), None))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Checked, E> {
        Ok((Value::String(s), None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Checked, E> {
        Ok((Value::Null, None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        let mut found = None;
        while let Some((item, inner)) = seq.next_element_seed(Unique)? {
            found = found.or_else(|| inner.map(|at| at.under(Step::Index(items.len()))));
            items.push(item);
        }
        Ok((Value::Array(items), found))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        let mut members = serde_json::Map::new();
        let mut found = None;
        let mut first = true;
        while let Some(key) = map.next_key::<String>()? {
            if std::mem::take(&mut first) && key == NUMBER_TOKEN {
                let text: String = map.next_value()?;
                let number = text.parse().map_err(de::Error::custom)?;
                return Ok((Value::Number(number), None));
            }
            let (value, inner) = map.next_value_seed(Unique)?;
            match members.entry(key) {
                serde_json::map::Entry::Vacant(slot) => {
                    found =
                        found.or_else(|| inner.map(|at| at.under(Step::Key(slot.key().clone()))));
                    slot.insert(value);
                }
                serde_json::map::Entry::Occupied(slot) => {
                    let here = RepeatedAt::default().under(Step::Key(slot.key().clone()));
                    found = found.or(Some(here));
                }
            }
        }
        Ok((Value::Object(members), found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_key_is_named_by_its_path() {
        let error = parse(br#"{"a": {"b": 1, "c": [{"d": 1, "d": 2}]}}"#).unwrap_err();
        assert_eq!(error.status, 400);
        assert_eq!(error.body.field_errors[0].path, "$.a.c[0].d");
        let error = parse(br#"{"a": 1, "a": 1}"#).unwrap_err();
        assert_eq!(error.body.field_errors[0].path, "$.a");
    }

    #[test]
    fn the_first_repeated_key_in_document_order_is_named() {
        let path = |text: &str| {
            parse(text.as_bytes()).unwrap_err().body.field_errors[0]
                .path
                .clone()
        };
        // An object's own repeated key comes before one inside the repeated key's value.
        assert_eq!(path(r#"{"a": 1, "a": {"b": 1, "b": 2}}"#), "$.a");
        assert_eq!(path(r#"{"x": [0, {"b": 1, "b": 2}], "x": 1}"#), "$.x[1].b");
        assert_eq!(
            path(r#"[[], [{}, {"k": {"q": 1, "q": 1}}]]"#),
            "$[1][1].k.q"
        );
        assert_eq!(path(r#"{"a\u0062": 1, "ab": 2}"#), "$.ab");
        // A repeated key does not hide malformed JSON after it.
        let error = parse(br#"{"a": 1, "a": 2} x"#).unwrap_err();
        assert_eq!(error.body.code, crate::types::ErrorCode::MalformedJson);
    }

    #[test]
    fn the_value_is_what_serde_json_builds() {
        for text in [
            r#"{"z": [1, 2.50, -3e-2, 1E+400, true, false, null, {}], "a": {"é\"\n\u0001😀": "x\ty"}}"#,
            r#"[{"b": {"d": null, "c": [[], [null]]}, "a": "</script>"}, 0, -0, 12345678901234567890123]"#,
            r#""just a string""#,
            "  7  ",
            r#"{"":{"":""}}"#,
            r#"{"$serde_json::private::Number": "12.5"}"#,
        ] {
            let ours = parse(text.as_bytes()).unwrap();
            let theirs: Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
            assert_eq!(ours.to_string(), theirs.to_string(), "{text}");
        }
        // serde_json's raw-value marker has no meaning in a request: the object as sent.
        let text = r#"{"$serde_json::private::RawValue": "{\"a\": 1, \"a\": 2}"}"#;
        let ours = parse(text.as_bytes()).unwrap();
        assert_eq!(
            ours["$serde_json::private::RawValue"],
            Value::String(r#"{"a": 1, "a": 2}"#.into())
        );
    }

    #[test]
    fn numbers_stay_exact_and_unique_keys_pass() {
        let value = parse(br#"{"amount": 70.71, "n": [1, 2.50, -4.31e31]}"#).unwrap();
        assert_eq!(value["amount"].to_string(), "70.71");
        assert_eq!(value["n"][1].to_string(), "2.50");
    }

    #[test]
    fn trailing_garbage_and_deep_nesting_are_malformed() {
        assert_eq!(parse(b"{} x").unwrap_err().status, 400);
        let deep = "[".repeat(100_000);
        let error = parse(deep.as_bytes()).unwrap_err();
        assert_eq!(error.status, 400);
        assert_eq!(error.body.code, crate::types::ErrorCode::MalformedJson);
    }

    #[test]
    fn only_utf8_json_is_accepted() {
        let headers = |ct: &str| {
            let mut h = HeaderMap::new();
            h.insert("content-type", ct.parse().unwrap());
            h
        };
        assert!(check_content_type(&headers("application/json")).is_ok());
        assert!(check_content_type(&headers("Application/JSON; charset=\"UTF-8\"")).is_ok());
        assert_eq!(
            check_content_type(&headers("application/json; charset=iso-8859-1"))
                .unwrap_err()
                .status,
            415
        );
        assert_eq!(
            check_content_type(&headers("text/plain"))
                .unwrap_err()
                .status,
            415
        );
    }
}
