//! Every Partner API request identified once, before anything else looks at it: its operation
//! and who its credential is, put in the request's extensions ([`Identified`]) for the journal,
//! the faults and the operation itself (through `PartnerApi::authorize`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use confirma_server::{OPERATIONS, OperationInfo};

use crate::app::{Credential, Identified, Sandbox};

/// Identifies the request: as axum middleware, with the sandbox as state. Requests that are no
/// Partner API operation pass untouched.
pub async fn identify(
    State(sandbox): State<Arc<Sandbox>>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(operation) = operation_of(&request) {
        let key = confirma_server::runtime::api_key(request.headers());
        let credential = sandbox.identify(key.as_ref()).await;
        // A request with no credential of a space is the default space's (its journal, its
        // faults), as it was before there were spaces.
        let space = credential
            .as_ref()
            .ok()
            .and_then(Credential::space)
            .unwrap_or_default();
        sandbox.spaces.used(space);
        request.extensions_mut().insert(Identified {
            operation,
            space,
            credential,
        });
    }
    next.run(request).await
}

/// The Partner API operation a request is for, by its method and path.
fn operation_of(request: &Request) -> Option<&'static OperationInfo> {
    OPERATIONS
        .iter()
        .find(|op| op.path == request.uri().path() && op.method == request.method().as_str())
}
