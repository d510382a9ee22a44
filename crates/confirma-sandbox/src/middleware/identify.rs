//! Every Partner API request identified once, before anything else looks at it: its operation
//! and who its credential is, put in the request's extensions ([`Identified`]) for the journal,
//! the faults and the operation itself (through `PartnerApi::authorize`).

use axum::extract::Request;
use confirma_server::ApiKey;
use confirma_server::{OPERATIONS, OperationInfo};

use crate::app::{Credential, Identified, Sandbox};

/// Identifies a Partner API request for `operation` ([`operation_of`]): its caller, by the
/// credential it carries (`key`).
pub async fn identify(
    sandbox: &Sandbox,
    operation: &'static OperationInfo,
    key: Option<ApiKey>,
) -> Identified {
    let credential = sandbox.identify(key.as_ref()).await;
    // A request with no credential of a space is the default space's (its journal, its
    // faults), as it was before there were spaces.
    let space = credential
        .as_ref()
        .ok()
        .and_then(Credential::space)
        .unwrap_or_default();
    sandbox.spaces.used(space);
    Identified {
        operation,
        space,
        credential,
    }
}

/// The Partner API operation a request is for, by its method and path.
pub fn operation_of(request: &Request) -> Option<&'static OperationInfo> {
    OPERATIONS
        .iter()
        .find(|op| op.path == request.uri().path() && op.method == request.method().as_str())
}
