//! Answers already encoded: the JSON bytes of a model type, sent as they are. A server that
//! keeps its records' wire form (the sandbox stores each distribution record's JSON beside its
//! row) answers a page by joining stored bytes instead of decoding and encoding every record.
//! The success variant of every response enum has an `…Encoded` twin that carries one.

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The JSON encoding of a `T`, exactly as `serde_json` encodes it: one or more parts, sent one
/// after the other.
pub struct Encoded<T> {
    parts: Vec<Bytes>,
    of: PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned> Encoded<T> {
    /// `value`, encoded.
    pub fn of(value: &T) -> Result<Self, serde_json::Error> {
        Ok(Self {
            parts: vec![serde_json::to_vec(value)?.into()],
            of: PhantomData,
        })
    }

    /// Bytes put together from encodings stored earlier, which the caller vouches are a `T`'s
    /// encoding. Debug builds (every test) hold it to that: the bytes must decode as a `T` that
    /// encodes to the very same bytes, so that an answer from stored bytes is byte for byte the
    /// answer the typed path gives.
    pub fn stored(bytes: Vec<u8>) -> Self {
        Self::stored_parts(vec![bytes.into()])
    }

    /// [`Encoded::stored`] of the parts one after the other, each sent as it is: a page's
    /// records joined by the database go out without being copied into a body of their own
    /// (the connection writes the parts with one vectored write).
    pub fn stored_parts(parts: Vec<Bytes>) -> Self {
        #[cfg(debug_assertions)]
        {
            let bytes = parts.concat();
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
            parts,
            of: PhantomData,
        }
    }
}

impl<T> Encoded<T> {
    /// The encoding, its parts joined.
    pub fn to_vec(&self) -> Vec<u8> {
        self.parts.concat()
    }

    /// The answer with these bytes as its JSON body.
    pub fn into_response_with(self, status: u16) -> Response {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut parts = self.parts;
        parts.retain(|part| !part.is_empty());
        let body = match <[Bytes; 1]>::try_from(parts) {
            Ok([bytes]) => Body::from(bytes),
            Err(parts) => Body::new(Parts {
                remaining: parts.iter().map(|p| p.len() as u64).sum(),
                parts: parts.into(),
            }),
        };
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}

/// A body of parts known in advance, each a frame, of an exact size (so that the answer has a
/// `Content-Length`, as one of a single part has).
struct Parts {
    parts: VecDeque<Bytes>,
    remaining: u64,
}

impl http_body::Body for Parts {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let part = self.parts.pop_front();
        if let Some(part) = &part {
            self.remaining -= part.len() as u64;
        }
        Poll::Ready(part.map(|part| Ok(Frame::data(part))))
    }

    fn is_end_stream(&self) -> bool {
        self.parts.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

impl<T> Clone for Encoded<T> {
    fn clone(&self) -> Self {
        Self {
            parts: self.parts.clone(),
            of: PhantomData,
        }
    }
}

impl<T> PartialEq for Encoded<T> {
    fn eq(&self, other: &Self) -> bool {
        self.to_vec() == other.to_vec()
    }
}

impl<T> fmt::Debug for Encoded<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Encoded")
            .field(&String::from_utf8_lossy(&self.to_vec()))
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
        assert_eq!(stored.to_vec(), bytes);
        assert_eq!(stored, Encoded::of(&meta()).unwrap());
    }

    /// Parts go out one after the other as one body of their exact size (a `Content-Length`);
    /// an empty part is left out.
    #[tokio::test]
    async fn stored_parts_are_sent_one_after_the_other_with_their_size() {
        use axum::body::Bytes;
        use http_body::Body as _;
        use http_body_util::BodyExt;

        let whole = serde_json::to_vec(&meta()).unwrap();
        let parts: Vec<Bytes> = vec![
            Bytes::copy_from_slice(&whole[..5]),
            Bytes::new(),
            Bytes::copy_from_slice(&whole[5..20]),
            Bytes::copy_from_slice(&whole[20..]),
        ];
        let stored = Encoded::<PageMeta>::stored_parts(parts);
        assert_eq!(stored, Encoded::of(&meta()).unwrap());
        let body = stored.into_response_with(200).into_body();
        assert_eq!(body.size_hint().exact(), Some(whole.len() as u64));
        let mut frames = 0;
        let mut sent = Vec::new();
        let mut body = std::pin::pin!(body);
        while let Some(frame) = body.frame().await {
            sent.extend_from_slice(&frame.unwrap().into_data().unwrap());
            frames += 1;
        }
        assert_eq!((frames, sent), (3, whole));
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
