//! Limits on the size of a request's URI and headers, answered in the spec's error format (414,
//! 431) before anything else looks at the request. The HTTP server below should allow somewhat
//! more, so that these answers, not its own bare ones, are what a client sees.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The longest request URI (path and query) accepted.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header bytes (names and values) accepted in one request.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The most headers accepted in one request.
pub const MAX_HEADERS: usize = 100;

/// Whether `request` stays within the limits.
pub fn check(request: &Request) -> Result<(), ApiError> {
    let uri = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if uri > MAX_URI_BYTES {
        return Err(ApiError::uri_too_long(MAX_URI_BYTES));
    }
    let headers = request.headers();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return Err(ApiError::headers_too_large(MAX_HEADER_BYTES));
    }
    Ok(())
}

/// The limits as axum middleware: `router.layer(axum::middleware::from_fn(enforce))`.
pub async fn enforce(request: Request, next: Next) -> Response {
    match check(&request) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}
