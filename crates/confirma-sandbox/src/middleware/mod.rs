//! The sandbox's HTTP middleware over the Partner API, as one layer ([`partner_api`]): each step
//! reads or changes the running sandbox ([`crate::app`]), which knows nothing of them. `identify`
//! finds each request's operation and caller once, for the others and the operation; `journal`
//! records every request, `faults` answers in place of an operation when a fault is injected,
//! `health` gives the sandbox's own 503 answers a `Retry-After`.

pub mod faults;
pub mod health;
pub mod identify;
pub mod journal;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::Sandbox;

/// Every request, in this order: the URI and header limits (414, 431) before anything else;
/// a Partner API request identified, journalled with whatever answers it, and answered by an
/// injected fault or by the operation; the sandbox's own 503 given a `Retry-After`. One layer
/// rather than one per step: each layer costs every request a clone of the stack below it.
pub async fn partner_api(
    State(sandbox): State<Arc<Sandbox>>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Err(error) = confirma_server::limits::check(&request) {
        return error.into_response();
    }
    let Some(operation) = identify::operation_of(&request) else {
        return health::retry_after(&sandbox, next.run(request).await);
    };
    let key = confirma_server::runtime::api_key(request.headers());
    let identified = identify::identify(&sandbox, operation, key).await;
    let (method, uri) = (request.method().clone(), request.uri().clone());
    let started = journal::start(&sandbox, &identified, &method, &uri).await;
    let fault = faults::inject(&sandbox, &identified).await;
    let response = match fault {
        Some(injected) => injected,
        None => {
            request.extensions_mut().insert(identified);
            health::retry_after(&sandbox, next.run(request).await)
        }
    };
    journal::finish(&sandbox, started, response).await
}
