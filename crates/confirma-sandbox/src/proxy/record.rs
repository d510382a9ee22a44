//! Recordings (`--record DIR`): every exchange as one JSON file, `000001-createInvoice.json`,
//! holding the request and the answer as they went (bodies as JSON where they are JSON, else as
//! text) with every credential redacted, and the violations found: fixtures for tests, and
//! evidence for an edit of the spec.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::Violation;
use crate::redact;

/// Where recordings go.
#[derive(Debug)]
pub struct Recorder {
    dir: PathBuf,
}

/// One side of an exchange, as it went.
pub struct Message<'a> {
    pub headers: &'a axum::http::HeaderMap,
    pub body: &'a [u8],
}

impl Recorder {
    /// Recordings in `dir`, created if missing.
    pub fn new(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("creating the record directory {}: {e}", dir.display()))?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// Writes exchange `seq` of `operation` (a failure is logged; the exchange goes on).
    #[allow(clippy::too_many_arguments)]
    pub async fn write(
        &self,
        seq: u64,
        operation: &str,
        method: &str,
        path_and_query: &str,
        request: Message<'_>,
        status: u16,
        response: Option<Message<'_>>,
        violations: &[Violation],
        secrets: &redact::Secrets,
    ) {
        let (path, query) = path_and_query
            .split_once('?')
            .map_or((path_and_query, None), |(p, q)| (p, Some(q)));
        let document = json!({
            "seq": seq,
            "operation": operation,
            "request": {
                "method": method,
                "path": path,
                "query": query.map(redact::query),
                "headers": redact::headers(request.headers),
                "body": body(request.body),
            },
            "response": {
                "status": status,
                "headers": response.as_ref().map(|r| redact::headers(r.headers)),
                "body": response.as_ref().map(|r| body(r.body)),
            },
            "violations": violations,
        });
        let document = secrets.scrub_json(&document);
        let file = self.dir.join(format!("{seq:06}-{operation}.json"));
        let text = serde_json::to_vec_pretty(&document).unwrap_or_default();
        if let Err(error) = tokio::fs::write(&file, text).await {
            tracing::warn!(file = %file.display(), %error, "writing a recording failed");
        }
    }
}

/// A body as a recording holds it: JSON with secrets redacted, text, or nothing.
fn body(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => redact::secrets(&value),
        Err(_) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
    }
}
