//! Answers already encoded: the JSON bytes of a model type, sent as they are. A server that
//! keeps its records' wire form (the sandbox stores each distribution record's JSON beside its
//! row) answers a page by joining stored bytes instead of decoding and encoding every record.
//! The success variant of every response enum has an `…Encoded` twin that carries one.

use std::fmt;
use std::marker::PhantomData;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The JSON encoding of a `T`, exactly as `serde_json` encodes it.
pub struct Encoded<T> {
    bytes: Vec<u8>,
    of: PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned> Encoded<T> {
    /// `value`, encoded.
    pub fn of(value: &T) -> Result<Self, serde_json::Error> {
        Ok(Self {
            bytes: serde_json::to_vec(value)?,
            of: PhantomData,
        })
    }

    /// Bytes put together from encodings stored earlier, which the caller vouches are a `T`'s
    /// encoding. Debug builds (every test) hold it to that: the bytes must decode as a `T` that
    /// encodes to the very same bytes, so that an answer from stored bytes is byte for byte the
    /// answer the typed path gives.
    pub fn stored(bytes: Vec<u8>) -> Self {
        #[cfg(debug_assertions)]
        {
            let decoded: T = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "stored bytes are not a {}: {e}: {}",
                    std::any::type_name::<T>(),
                    String::from_utf8_lossy(&bytes)
                )
            });
            let again = serde_json::to_vec(&decoded).expect("a model type encodes");
            assert!(
                again == bytes,
                "stored bytes of a {} differ from its encoding:\nstored:  {}\nencoded: {}",
                std::any::type_name::<T>(),
                String::from_utf8_lossy(&bytes),
                String::from_utf8_lossy(&again)
            );
        }
        Self {
            bytes,
            of: PhantomData,
        }
    }
}

impl<T> Encoded<T> {
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The answer with these bytes as its JSON body.
    pub fn into_response_with(self, status: u16) -> Response {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            self.bytes,
        )
            .into_response()
    }
}

impl<T> Clone for Encoded<T> {
    fn clone(&self) -> Self {
        Self {
            bytes: self.bytes.clone(),
            of: PhantomData,
        }
    }
}

impl<T> PartialEq for Encoded<T> {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl<T> fmt::Debug for Encoded<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Encoded")
            .field(&String::from_utf8_lossy(&self.bytes))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::Encoded;
    use crate::types::PageMeta;

    fn meta() -> PageMeta {
        PageMeta {
            count: 2,
            page: std::num::NonZeroU32::MIN,
            page_size: std::num::NonZeroU32::new(100).unwrap(),
            total_count: 2,
        }
    }

    #[test]
    fn stored_bytes_that_are_the_encoding_are_sent_as_they_are() {
        let bytes = serde_json::to_vec(&meta()).unwrap();
        let stored = Encoded::<PageMeta>::stored(bytes.clone());
        assert_eq!(stored.as_bytes(), bytes.as_slice());
        assert_eq!(stored, Encoded::of(&meta()).unwrap());
    }

    #[test]
    #[should_panic(expected = "differ from its encoding")]
    fn stored_bytes_that_decode_but_encode_otherwise_are_refused_in_debug_builds() {
        // The same value, its fields in another order: not what the typed path would send.
        Encoded::<PageMeta>::stored(
            br#"{"totalCount":2,"count":2,"page":1,"pageSize":100}"#.to_vec(),
        );
    }
}
