//! The request journal (`/sandbox/requests`) filled: every Partner API request, with who
//! called (never the key), the status, the time and an error answer's problems.

use std::time::Instant;

use axum::body::Body;
use axum::http::{Method, Uri};
use axum::response::Response;
use chrono::Utc;
use confirma_server::types::ErrorResponse;

use crate::app::{Credential, Identified, Sandbox};
use crate::journal::Entry;

/// The most of an error answer read back for its code and field problems.
const ERROR_BODY_LIMIT: usize = 256 * 1024;

/// A Partner API request being answered, to be journalled once it is.
pub struct Started {
    space: crate::world::SpaceId,
    at: Instant,
    entry: Entry,
}

/// Starts the journal entry of an identified request (its method and URI).
pub async fn start(
    sandbox: &Sandbox,
    identified: &Identified,
    method: &Method,
    uri: &Uri,
) -> Started {
    let at = Instant::now();
    let space = identified.space;
    let (credential, client_id, sandbox_time) = match &identified.credential {
        Ok(Credential::Client(caller)) => {
            ("client", Some(caller.client_id), Some(caller.checked_at))
        }
        Ok(Credential::Missing) => ("none", None, sandbox.now_in(space).await.ok()),
        Ok(Credential::Provisioning(_)) => ("provisioning", None, sandbox.now_in(space).await.ok()),
        Ok(Credential::Unknown) | Err(_) => ("unknown", None, sandbox.now_in(space).await.ok()),
    };
    let entry = Entry {
        received_at: Utc::now(),
        sandbox_time: sandbox_time.unwrap_or_else(Utc::now),
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(crate::redact::query),
        operation: identified.operation.operation_id.to_string(),
        credential: credential.to_string(),
        client_id,
        status: 0,
        duration_ms: 0,
        error_code: None,
        field_errors: Vec::new(),
    };
    Started { space, at, entry }
}

/// Journals the request with its answer (an error answer's code and field problems read back
/// from it) and sends the answer on.
pub async fn finish(sandbox: &Sandbox, started: Started, response: Response) -> Response {
    let Started {
        space,
        at,
        mut entry,
    } = started;
    entry.status = response.status().as_u16();
    let response = if entry.status >= 400 {
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, ERROR_BODY_LIMIT)
            .await
            .unwrap_or_default();
        if let Ok(error) = serde_json::from_slice::<ErrorResponse>(&bytes) {
            entry.error_code = Some(error.code.to_string());
            entry.field_errors = error.field_errors;
        }
        Response::from_parts(parts, Body::from(bytes))
    } else {
        response
    };
    entry.duration_ms = at.elapsed().as_millis() as u64;
    sandbox.spaces.journal(space).push(entry);
    response
}
