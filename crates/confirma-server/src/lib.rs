//! The Partner API as an axum server stub, generated from `openapi/partner-api.yaml`.
//!
//! Implement [`PartnerApi`] (`authorize`, which decides who the caller is before anything else of
//! the request is read, and one async method per operation, which receives that caller) and call
//! [`router`]: every request is
//! parsed and validated against the spec before it reaches the trait, every answer is one of the
//! statuses the spec documents for that operation, and every error is an [`ErrorResponse`]
//! (`types::ErrorResponse`). The router also serves its own description at `/openapi.json`.
//!
//! `src/generated/` is written by `cargo xtask codegen`; the rest of this crate is the hand-written
//! runtime it calls into. The model types are the client's ([`types`] is `confirma_client::types`).

mod encoded;
mod error;
pub mod exchange;
mod json;
mod keywords;
pub mod limits;
mod openapi;
pub mod runtime;

#[rustfmt::skip]
#[allow(clippy::all, unused_imports)]
mod generated {
    pub mod api;
    pub mod examples;
    pub mod router;
}

use std::sync::Arc;

use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// The model types: generated once, in the client crate, and shared with it (one type space,
/// one set of settings, one copy).
pub use confirma_client::types;
pub use encoded::Encoded;
pub use error::{ApiError, FieldProblem, clip, field_problem};
pub use generated::api::*;
pub use generated::examples::ExampleApi;
pub use generated::router::openapi_router;
pub use openapi::{
    MAINTAINER_MARKS, SPEC, component_schemas, response_object, strip_maintainer_marks,
    to_closed_json_schema, to_json_schema,
};

/// A caller's credential (the `X-Api-Key` header). `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for comparing against stored credentials.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// A JSON answer with a status code.
pub fn json_response<T: serde::Serialize>(status: u16, body: &T) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match serde_json::to_vec(body) {
        Ok(bytes) => (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(_) => ApiError::internal().into_response(),
    }
}

/// The whole stub: every operation of the spec, `/openapi.json`, and error-format answers for
/// unknown routes (404), wrong methods (405), oversized URIs and headers (414, 431) and, as a
/// last resort, panics (500).
pub fn router<A: PartnerApi>(api: A) -> axum::Router {
    finish(openapi_router(Arc::new(api))).layer(axum::middleware::from_fn(limits::enforce))
}

/// Turns an [`openapi_router`] (possibly extended with more documented routes) into a router
/// that also serves the description at `/openapi.json` (the spec's own document, with whatever
/// else the router documents beside it) and answers every error in the spec's format.
pub fn finish(router: utoipa_axum::router::OpenApiRouter) -> axum::Router {
    runtime::warm_up();
    let (router, routed) = router.split_for_parts();
    // The spec itself, with what else the router documents beside it.
    let description = Arc::new(openapi::served_description(&routed).to_string());
    router
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let description = description.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        (*description).clone(),
                    )
                }
            }),
        )
        .fallback(|method: Method, uri: Uri| async move {
            ApiError::unknown_route(method.as_str(), uri.path())
        })
        .method_not_allowed_fallback(|method: Method, uri: Uri| async move {
            ApiError::method_not_allowed(method.as_str(), uri.path())
        })
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            ApiError::internal().into_response()
        }))
}
