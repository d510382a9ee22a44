//! `Retry-After` on the sandbox's own 503 answers, from its storage's health.

use axum::response::Response;

/// Gives a 503 of the sandbox's own (the storage failed) a `Retry-After`. Injected faults'
/// answers do not pass here (they carry one only when asked).
pub fn retry_after(sandbox: &crate::Sandbox, mut response: Response) -> Response {
    if response.status() == axum::http::StatusCode::SERVICE_UNAVAILABLE {
        let seconds = sandbox.health.retry_after_seconds();
        response
            .headers_mut()
            .entry(axum::http::header::RETRY_AFTER)
            .or_insert(seconds.into());
    }
    response
}
