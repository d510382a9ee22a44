//! The validating proxy (`confirma-sandbox proxy --upstream URL`): partners point their
//! application at it instead of the real service; every request goes upstream unchanged and
//! every answer comes back unchanged, each checked against the spec with the server stub's own
//! validators (`confirma_server::exchange`). What breaks the spec shows in the answer's headers,
//! the log, the proxy's journal, its drift report (per operation and path, with the spec's
//! `x-evidence` there, so that a contradicted guess stands out) and, when asked, recordings.
//!
//! - [`upstream`]: where exchanges go, and the proxy's own answers when they cannot.
//! - [`forward`]: one exchange: read, check, forward, check, answer, tell.
//! - [`evidence`]: how sure the spec is at a path.
//! - [`report`]: the drift report (JSON and Markdown).
//! - [`journal`] and [`record`]: the recent exchanges, and every exchange on disk.
//! - [`crate::redact`]: what may be shown.

pub mod evidence;
mod forward;
pub mod journal;
pub mod record;
pub mod report;
pub mod upstream;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub use forward::{CHECK_LIMIT, SUMMARY, UNCHECKED, VIOLATIONS};
pub use upstream::{PROXY_ERROR, Upstream};

/// How a proxy runs.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    pub upstream: Upstream,
    /// A PEM bundle of the certificate authorities the upstream's certificate is checked
    /// against instead of the system's (a private CA).
    pub upstream_ca: Option<Vec<u8>>,
    /// How long the upstream may take to start its answer, and to send each part of it.
    pub upstream_timeout: Duration,
    /// Answer a request that breaks the spec with 400 here, never sending it upstream.
    pub refuse_invalid_requests: bool,
    /// Save every exchange as one redacted JSON file in this directory.
    pub record: Option<PathBuf>,
}

impl ProxyConfig {
    pub fn new(upstream: Upstream) -> Self {
        Self {
            upstream,
            upstream_ca: None,
            upstream_timeout: Duration::from_secs(30),
            refuse_invalid_requests: false,
            record: None,
        }
    }
}

/// Which side of an exchange a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    Request,
    /// The answer, with its status.
    Response(u16),
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Side::Request => f.write_str("request"),
            Side::Response(status) => write!(f, "response {status}"),
        }
    }
}

impl Serialize for Side {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The kind of a difference between an exchange and the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// A field the spec does not document.
    UndocumentedField,
    /// A field the spec requires is absent.
    MissingRequiredField,
    /// A value of another JSON type than the spec's.
    Type,
    /// A value the spec's enumeration does not list.
    EnumValue,
    /// A string that does not have the spec's format or pattern.
    Format,
    /// A number with more decimals than the spec allows.
    DecimalPlaces,
    /// A value outside the spec's other bounds (length, range, items).
    Constraint,
    /// A status the operation does not document.
    UndocumentedStatus,
    /// A header that differs from the spec (a body not declared as JSON).
    Header,
    /// A body that is not one JSON value.
    Json,
    /// A method and path the spec has no operation for.
    UndocumentedOperation,
}

impl Kind {
    /// The kind of a problem `confirma_server::exchange` reported with `code`.
    fn of(code: &str) -> Self {
        match code {
            "undocumentedField" => Kind::UndocumentedField,
            "required" => Kind::MissingRequiredField,
            "type" => Kind::Type,
            "enum" | "const" => Kind::EnumValue,
            "format" | "pattern" => Kind::Format,
            "decimalPlaces" => Kind::DecimalPlaces,
            "undocumentedStatus" => Kind::UndocumentedStatus,
            "header" => Kind::Header,
            "json" | "duplicateKey" => Kind::Json,
            _ => Kind::Constraint,
        }
    }

    /// In words, for the log and the Markdown report.
    pub fn words(self) -> &'static str {
        match self {
            Kind::UndocumentedField => "undocumented field",
            Kind::MissingRequiredField => "missing required field",
            Kind::Type => "type",
            Kind::EnumValue => "enum value",
            Kind::Format => "format",
            Kind::DecimalPlaces => "decimal places",
            Kind::Constraint => "constraint",
            Kind::UndocumentedStatus => "undocumented status",
            Kind::Header => "header",
            Kind::Json => "not JSON",
            Kind::UndocumentedOperation => "undocumented operation",
        }
    }
}

/// One difference between an exchange and the spec.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    pub side: Side,
    /// Where: a JSON path into the body (`$.settlements[0].settlementAmount`), `query.<name>`,
    /// `header.<name>`, `status` or `operation`.
    pub path: String,
    pub kind: Kind,
    /// The rule broken, as the validator names it (`maxLength`, `required`, ...).
    pub rule: String,
    /// How sure the spec is there: `documented`, `sibling`, `finvoice` or `inferred`.
    pub evidence: &'static str,
    /// The value found, masked ([`redact::example`]); none for what is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<serde_json::Value>,
}

/// A running proxy: the upstream, and what it has seen.
pub struct Proxy {
    config: ProxyConfig,
    upstream: upstream::Client,
    pub journal: journal::Journal,
    pub report: report::Report,
    recorder: Option<record::Recorder>,
    exchanges: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("upstream", &self.config.upstream)
            .finish_non_exhaustive()
    }
}

impl Proxy {
    /// A proxy to `config.upstream`; fails when the CA bundle or the record directory cannot be
    /// used.
    pub fn new(config: ProxyConfig) -> anyhow::Result<Arc<Self>> {
        let upstream = upstream::Client::new(&config)?;
        let recorder = config
            .record
            .as_deref()
            .map(record::Recorder::new)
            .transpose()?;
        confirma_server::runtime::warm_up();
        confirma_server::exchange::warm_up();
        Ok(Arc::new(Self {
            report: report::Report::new(config.upstream.to_string()),
            journal: journal::Journal::default(),
            upstream,
            recorder,
            config,
            exchanges: std::sync::atomic::AtomicU64::new(0),
        }))
    }

    pub fn config(&self) -> &ProxyConfig {
        &self.config
    }

    /// The number of the next exchange, from 1.
    fn next_seq(&self) -> u64 {
        self.exchanges
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1
    }
}

/// The proxy's HTTP application: its own journal and report under `/proxy/`, every other
/// request forwarded.
pub fn router(proxy: Arc<Proxy>) -> axum::Router {
    axum::Router::new()
        .route("/proxy/requests", axum::routing::get(requests))
        .route("/proxy/report", axum::routing::get(report))
        .fallback(forward::exchange)
        .with_state(proxy)
        // Oversized URIs and headers are answered (414, 431) as the sandbox answers them.
        .layer(axum::middleware::from_fn(confirma_server::limits::enforce))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            confirma_server::ApiError::internal().into_response()
        }))
}

async fn requests(State(proxy): State<Arc<Proxy>>) -> Response {
    confirma_server::json_response(200, &proxy.journal.entries())
}

#[derive(serde::Deserialize)]
struct ReportQuery {
    format: Option<String>,
}

async fn report(State(proxy): State<Arc<Proxy>>, Query(query): Query<ReportQuery>) -> Response {
    match query.format.as_deref() {
        None | Some("json") => confirma_server::json_response(200, &proxy.report.summary()),
        Some("markdown") => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/markdown; charset=utf-8",
            )],
            proxy.report.markdown(),
        )
            .into_response(),
        Some(_) => confirma_server::ApiError::validation(
            "The query parameters are invalid.",
            vec![confirma_server::field_problem(
                "query.format",
                "enum",
                "must be json or markdown",
            )],
        )
        .into_response(),
    }
}
