//! Injected faults (`/sandbox/faults`) applied: the next calls of an operation fail with a
//! status, or stall first.

use std::time::Duration;

use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use confirma_server::ApiError;

use crate::app::Identified;

/// The fault injected for this request, if any: waits out its delay, then answers in its place
/// (`Some`) or lets the operation answer (`None`, a delay alone).
pub async fn inject(sandbox: &crate::Sandbox, identified: &Identified) -> Option<Response> {
    let fault = sandbox
        .spaces
        .faults(identified.space)
        .take(identified.operation.operation_id)?;
    if let Some(delay) = fault.delay_ms {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let status = fault.status?;
    let mut response = injected(status, &fault.operation).into_response();
    if let Some(seconds) = fault.retry_after_seconds {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(seconds));
    }
    Some(response)
}

/// The answer of an injected failure: the status, with the error code that fits it.
fn injected(status: u16, operation: &str) -> ApiError {
    use confirma_server::types::ErrorCode;
    let code = match status {
        401 => ErrorCode::Unauthorized,
        402 => ErrorCode::BusinessRuleViolation,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        408 => ErrorCode::RequestTimeout,
        429 | 502..=504 => ErrorCode::ServiceUnavailable,
        400..=499 => ErrorCode::BadRequest,
        _ => ErrorCode::InternalError,
    };
    ApiError::new(
        status,
        code,
        format!("A fault injected with POST /sandbox/faults ({status} for {operation})."),
    )
}
