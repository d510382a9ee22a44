//! `confirma-sandbox`: a stateful, deterministic stand-in for the Confirma Finance Partner API.
//!
//! - [`world`]: the domain (clients, tokens, invoices, distribution, time) as deterministic
//!   commands.
//! - [`store`]: the durable command log behind a two-method interface (SQLite by default).
//! - [`app`]: the running sandbox, the one path every change takes.
//! - [`api`]: the Partner API (`confirma_server::PartnerApi`) on top of it.
//! - [`control`]: the `/sandbox/...` control API (clock, failures, reset).

pub mod api;
pub mod app;
pub mod config;
pub mod control;
mod protocol_errors;
pub mod registry;
pub mod serve;
pub mod store;
pub mod world;

use std::sync::Arc;

use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa_swagger_ui::SwaggerUi;

pub use app::Sandbox;
pub use config::Config;
pub use serve::{Limits, serve, serve_with};

/// The whole HTTP application: the Partner API, the control API, `/openapi.json` (both
/// described) and the interactive documentation at `/docs` (served from the binary, offline).
pub fn router(sandbox: Arc<Sandbox>) -> axum::Router {
    let api = confirma_server::openapi_router(Arc::new(api::SandboxApi(sandbox.clone())))
        .merge(control::router(sandbox));
    confirma_server::finish(api)
        .merge(SwaggerUi::new("/docs").config(utoipa_swagger_ui::Config::from("/openapi.json")))
        // Oversized URIs and headers are answered (414, 431) before anything else happens.
        .layer(axum::middleware::from_fn(confirma_server::limits::enforce))
        .layer(
            // One line per request: method, path, status, latency. Headers (and so tokens) are
            // never recorded.
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}
