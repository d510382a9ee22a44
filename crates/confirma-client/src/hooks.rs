//! The hooks every generated operation calls: `pre` puts the API key on the request, `exec`
//! sends it and retries it when the [`RetryPolicy`](crate::RetryPolicy) allows, and puts a
//! renewed token in place of the one it revokes, however the renewal was sent.

use progenitor_client::{ClientHooks, OperationInfo};

use crate::state::API_KEY_HEADER;
use crate::{Client, ClientState, RetryPolicy};

/// The operation that issues a new token and revokes the one it was sent with.
pub(crate) const RENEW_TOKEN: &str = "renew_token";

/// The token a renewal answered: `accessToken`, or else the documented `Message`.
pub(crate) fn renewed_token(answer: &serde_json::Value) -> Option<&str> {
    ["accessToken", "Message"]
        .iter()
        .filter_map(|field| answer.get(field).and_then(serde_json::Value::as_str))
        .find(|token| !token.trim().is_empty())
}

impl Client {
    /// A successful renewal's answer, read whole: the client sends its token from the next
    /// request on (every clone of its state too), and the answer goes on to the caller as it
    /// came.
    async fn take_renewed_token(
        &self,
        answer: reqwest::Response,
    ) -> reqwest::Result<reqwest::Response> {
        if !answer.status().is_success() {
            return Ok(answer);
        }
        let (status, version, headers) =
            (answer.status(), answer.version(), answer.headers().clone());
        let body = answer.bytes().await?;
        if let Some(token) = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .as_ref()
            .and_then(renewed_token)
        {
            self.inner.set_api_key(crate::ApiKey::new(token));
        }
        let mut rebuilt = http::Response::new(body);
        *rebuilt.status_mut() = status;
        *rebuilt.version_mut() = version;
        *rebuilt.headers_mut() = headers;
        Ok(reqwest::Response::from(rebuilt))
    }
}

impl ClientHooks<ClientState> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        // Read at send time, so that a key swapped by token renewal applies to the next request.
        let key = self.inner.api_key();
        let value = key.header_value().ok_or_else(|| {
            progenitor_client::Error::InvalidRequest(
                "the API key contains characters that cannot be sent in an HTTP header".into(),
            )
        })?;
        request.headers_mut().insert(API_KEY_HEADER, value);
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        if info.operation_id == RENEW_TOKEN {
            // Never retried (it changes state): sent once, and its token taken on at once.
            let answer = self.client.execute(request).await?;
            return self.take_renewed_token(answer).await;
        }
        let policy = self.inner.retry_policy();
        if !RetryPolicy::is_safe(request.method(), info.operation_id) {
            return self.client.execute(request).await;
        }
        let mut attempts_made = 0;
        loop {
            attempts_made += 1;
            // Each attempt but the last sends a copy, so that the original is left to send
            // again. A request whose body cannot be copied (a stream) is sent once.
            let copy = if attempts_made < policy.attempts() {
                request.try_clone()
            } else {
                None
            };
            let Some(copy) = copy else {
                return self.client.execute(request).await;
            };
            let outcome = self.client.execute(copy).await;
            match policy.delay_after(attempts_made, &outcome) {
                Some(delay) => {
                    drop(outcome);
                    tokio::time::sleep(delay).await;
                }
                None => return outcome,
            }
        }
    }
}
