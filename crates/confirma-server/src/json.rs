//! Reading a request body as strict JSON: the bytes arrive within the limits (size, time), the
//! body is complete, and no object repeats a key (most parsers silently keep the last one, so a
//! repeated key would mean different things to different readers of the same request).

use std::collections::HashSet;
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

/// Parses `bytes` as one JSON value, refusing an object that repeats a key (400 naming its path).
pub fn parse(bytes: &[u8]) -> Result<Value, ApiError> {
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    let duplicate = UniqueKeys { path: "$".into() }
        .deserialize(&mut reader)
        .and_then(|found| reader.end().map(|()| found))
        .map_err(|e| ApiError::malformed_json(&e))?;
    if let Some(path) = duplicate {
        return Err(ApiError::duplicate_key(&path));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::malformed_json(&e))
}

/// Walks a JSON document and yields the path of the first repeated key, if any. Only keys are
/// kept, so it needs no understanding of numbers (with `arbitrary_precision` they arrive as
/// one-key maps, which cannot repeat a key).
struct UniqueKeys {
    path: String,
}

impl<'de> DeserializeSeed<'de> for UniqueKeys {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueKeys {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        let mut index = 0;
        while let Some(inner) = seq.next_element_seed(UniqueKeys {
            path: format!("{}[{index}]", self.path),
        })? {
            found = found.or(inner);
            index += 1;
        }
        Ok(found)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut keys = HashSet::new();
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            let path = format!("{}.{key}", self.path);
            let inner = map.next_value_seed(UniqueKeys { path: path.clone() })?;
            if !keys.insert(key) {
                found = found.or(Some(path));
            }
            found = found.or(inner);
        }
        Ok(found)
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
