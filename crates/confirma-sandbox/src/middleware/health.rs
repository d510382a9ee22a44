//! `Retry-After` on the sandbox's own 503 answers, from its storage's health.

/// Gives the sandbox's own 503 answers (the storage failed) a `Retry-After`, as axum
/// middleware inside the injected faults (whose answers carry one only when asked).
pub async fn retry_after(
    axum::extract::State(sandbox): axum::extract::State<std::sync::Arc<crate::Sandbox>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    if response.status() == axum::http::StatusCode::SERVICE_UNAVAILABLE {
        let seconds = sandbox.health.retry_after_seconds();
        response
            .headers_mut()
            .entry(axum::http::header::RETRY_AFTER)
            .or_insert(seconds.into());
    }
    response
}
