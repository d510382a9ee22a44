//! The hooks every generated operation calls: `pre` puts the API key on the request, `exec`
//! sends it and retries it when the [`RetryPolicy`](crate::RetryPolicy) allows.

use progenitor_client::{ClientHooks, OperationInfo};

use crate::state::API_KEY_HEADER;
use crate::{Client, ClientState, RetryPolicy};

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
