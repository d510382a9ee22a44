//! The sandbox's HTTP middleware over the Partner API: each reads or changes the running
//! sandbox ([`crate::app`]), which knows nothing of them. `journal` records every request,
//! `faults` answers in place of an operation when a fault is injected, `health` gives the
//! sandbox's own 503 answers a `Retry-After`.

pub mod faults;
pub mod health;
pub mod journal;

use axum::extract::Request;
use confirma_server::{OPERATIONS, OperationInfo};

/// The Partner API operation a request is for, by its method and path.
pub fn operation_of(request: &Request) -> Option<&'static OperationInfo> {
    OPERATIONS
        .iter()
        .find(|op| op.path == request.uri().path() && op.method == request.method().as_str())
}
