//! `confirma-sandbox`: a stateful, deterministic stand-in for the Confirma Finance Partner API.
//!
//! - [`world`]: the domain (clients, tokens, invoices, cases, time) over the database's tables,
//!   every change a deterministic [`world::Change`].
//! - [`store`]: the database (SQLite by default, or PostgreSQL shared by several processes).
//! - [`writer`]: the one path every change takes (group commit, a savepoint per change, the
//!   creates' new rows written together).
//! - [`app`]: the running sandbox: database, writer, read transactions, secrets.
//! - [`api`]: the Partner API (`confirma_server::PartnerApi`) on top of it.
//! - [`control`]: the `/sandbox/...` control API (clock, failures, reset).

pub(crate) mod api;
pub(crate) mod app;
pub(crate) mod config;
pub(crate) mod control;
mod credentials;
mod docs;
pub(crate) mod faults;
pub(crate) mod health;
pub(crate) mod journal;
mod middleware;
mod protocol_errors;
pub mod proxy;
pub(crate) mod redact;
pub(crate) mod registry;
pub mod remote;
pub(crate) mod serve;
pub(crate) mod spaces;
pub(crate) mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub(crate) mod world;
pub(crate) mod writer;

use std::sync::Arc;

use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use app::Sandbox;
pub use config::Config;
pub use serve::{Limits, serve, serve_with};
pub use store::{Location, StoreLimits};

/// The whole HTTP application: the Partner API, the control API, `/openapi.json` (both
/// described) and the interactive documentation at `/docs` (served from the binary, offline).
pub fn router(sandbox: Arc<Sandbox>) -> axum::Router {
    let mut api = confirma_server::openapi_router(Arc::new(api::SandboxApi(sandbox.clone())))
        .merge(control::router(sandbox.clone()));
    serve_itself_first(api.get_openapi_mut());
    confirma_server::finish(api)
        .merge(docs::router())
        // Limits, identification, journal, faults and health: one layer.
        .layer(axum::middleware::from_fn_with_state(
            sandbox,
            middleware::partner_api,
        ))
        .layer(
            // One line per request: method, path, status, latency. Headers (and so tokens) are
            // never recorded.
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}

/// The description this sandbox serves lists the sandbox itself first, as a relative server, so
/// that `/docs` and any tool reading `/openapi.json` call it on whatever address it listens on;
/// the real environments follow (the spec's fixed local address is left out).
fn serve_itself_first(description: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::server::Server;
    let mut itself = Server::new("/");
    itself.description = Some("This sandbox (the server of this page)".into());
    let mut servers = vec![itself];
    servers.extend(
        description
            .servers
            .take()
            .into_iter()
            .flatten()
            .filter(|s| s.url.starts_with("https://")),
    );
    description.servers = Some(servers);
}
