//! The sandbox's control API as a typed client over HTTP: what the `confirma-sandbox space ...`
//! commands and [`crate::testing::Space`] call a running sandbox with. Every failure is an
//! error naming the status and the sandbox's message.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use crate::control::spaces::{CreateSpace, ForkSpace, Space, SpaceClient, SpaceCreated};
pub use crate::control::{
    Advance, Advanced, Clock, FailDistribution, IncomingPayment, PaymentCredited,
};
pub use crate::faults::Fault;

/// A running sandbox, reached at `url` with an `X-Admin-Token`.
#[derive(Clone, Debug)]
pub struct Remote {
    url: String,
    token: String,
    http: reqwest::Client,
}

/// What a call to a running sandbox can end in.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("cannot reach the sandbox at {url}: {source}")]
    Unreachable { url: String, source: reqwest::Error },
    #[error("the sandbox answered {status}: {message}")]
    Refused { status: u16, message: String },
    #[error("the sandbox's answer cannot be read: {0}")]
    Unreadable(String),
}

impl Remote {
    /// The sandbox at `url` (its base, e.g. `http://127.0.0.1:8080`), called with `token` (the
    /// sandbox's admin token, a space's admin token or the spaces token).
    pub fn new(url: &str, token: &str) -> Self {
        Self {
            url: url.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http: reqwest::Client::new(),
        }
    }

    /// The same sandbox, called with another token.
    pub fn with_token(&self, token: &str) -> Self {
        Self {
            token: token.to_string(),
            ..self.clone()
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// One call: `body` as JSON (none for `()`), the answer as `T` (`()` for none).
    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<T, RemoteError> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.url))
            .header("x-admin-token", &self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|source| RemoteError::Unreachable {
                url: self.url.clone(),
                source,
            })?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| RemoteError::Unreadable(e.to_string()))?;
        if !(200..300).contains(&status) {
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_string))
                .unwrap_or(text);
            return Err(RemoteError::Refused { status, message });
        }
        let text = if text.is_empty() { "null" } else { &text };
        serde_json::from_str(text).map_err(|e| RemoteError::Unreadable(e.to_string()))
    }

    pub async fn create_space(&self, request: &CreateSpace) -> Result<SpaceCreated, RemoteError> {
        self.call(reqwest::Method::POST, "/sandbox/spaces", Some(request))
            .await
    }

    pub async fn spaces(&self) -> Result<Vec<Space>, RemoteError> {
        self.call(reqwest::Method::GET, "/sandbox/spaces", None::<&()>)
            .await
    }

    pub async fn space(&self, space_id: &str) -> Result<Space, RemoteError> {
        self.call(
            reqwest::Method::GET,
            &format!("/sandbox/spaces/{space_id}"),
            None::<&()>,
        )
        .await
    }

    pub async fn fork_space(
        &self,
        space_id: &str,
        request: &ForkSpace,
    ) -> Result<SpaceCreated, RemoteError> {
        self.call(
            reqwest::Method::POST,
            &format!("/sandbox/spaces/{space_id}/fork"),
            Some(request),
        )
        .await
    }

    pub async fn delete_space(&self, space_id: &str) -> Result<(), RemoteError> {
        self.call(
            reqwest::Method::DELETE,
            &format!("/sandbox/spaces/{space_id}"),
            None::<&()>,
        )
        .await
    }

    /// The clock of the token's space.
    pub async fn now(&self) -> Result<DateTime<Utc>, RemoteError> {
        let clock: Clock = self
            .call(reqwest::Method::GET, "/sandbox/clock", None::<&()>)
            .await?;
        Ok(clock.now)
    }

    pub async fn advance(&self, advance: &Advance) -> Result<Advanced, RemoteError> {
        self.call(
            reqwest::Method::POST,
            "/sandbox/clock/advance",
            Some(advance),
        )
        .await
    }

    pub async fn pay(&self, payment: &IncomingPayment) -> Result<PaymentCredited, RemoteError> {
        self.call(reqwest::Method::POST, "/sandbox/payments", Some(payment))
            .await
    }

    /// Runs a settlement now; the clock after it.
    pub async fn settle(&self) -> Result<DateTime<Utc>, RemoteError> {
        let clock: Clock = self
            .call(
                reqwest::Method::POST,
                "/sandbox/settlements/run",
                None::<&()>,
            )
            .await?;
        Ok(clock.now)
    }

    pub async fn fail_next_distribution(
        &self,
        client_id: i64,
        invoice_number: i64,
    ) -> Result<(), RemoteError> {
        let _: Clock = self
            .call(
                reqwest::Method::POST,
                "/sandbox/distribution/fail-next",
                Some(&FailDistribution {
                    client_id,
                    invoice_number,
                }),
            )
            .await?;
        Ok(())
    }

    /// Adds a fault; every fault still waiting.
    pub async fn inject(&self, fault: &Fault) -> Result<Vec<Fault>, RemoteError> {
        self.call(reqwest::Method::POST, "/sandbox/faults", Some(fault))
            .await
    }

    pub async fn clear_faults(&self) -> Result<(), RemoteError> {
        let _: Vec<Fault> = self
            .call(reqwest::Method::DELETE, "/sandbox/faults", None::<&()>)
            .await?;
        Ok(())
    }

    /// Back to the space's seeded state; the clock after it.
    pub async fn reset(&self) -> Result<DateTime<Utc>, RemoteError> {
        let clock: Clock = self
            .call(reqwest::Method::POST, "/sandbox/reset", None::<&()>)
            .await?;
        Ok(clock.now)
    }
}
