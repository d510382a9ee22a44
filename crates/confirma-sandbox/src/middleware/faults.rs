//! Injected faults (`/sandbox/faults`) applied: the next calls of an operation fail with a
//! status, or stall first.

use std::time::Duration;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use confirma_server::ApiError;

use crate::app::Identified;

/// Applies the sandbox's faults: as axum middleware, with the sandbox as state.
pub async fn inject(
    axum::extract::State(sandbox): axum::extract::State<std::sync::Arc<crate::Sandbox>>,
    request: Request,
    next: Next,
) -> Response {
    let identified = request.extensions().get::<Identified>();
    let fault = identified.and_then(|i| {
        sandbox
            .spaces
            .faults(i.space)
            .take(i.operation.operation_id)
    });
    let Some(fault) = fault else {
        return next.run(request).await;
    };
    if let Some(delay) = fault.delay_ms {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let Some(status) = fault.status else {
        return next.run(request).await;
    };
    let mut response = injected(status, &fault.operation).into_response();
    if let Some(seconds) = fault.retry_after_seconds {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(seconds));
    }
    response
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
