//! The client's own state: the API key (swappable at run time) and the retry policy.
#![warn(missing_docs)]

use std::fmt;
use std::sync::{Arc, RwLock};

use reqwest::header::HeaderValue;

use crate::RetryPolicy;

/// The header that carries the access token (or the partner provisioning token) on every call.
pub const API_KEY_HEADER: &str = "X-Api-Key";

/// An access token. Its `Debug` output is redacted so that it never reaches a log.
///
/// ```
/// use confirma_client::ApiKey;
/// let key = ApiKey::new("cfis_stg_secret");
/// assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a token as issued by Confirma Finance (or returned by token renewal).
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The token itself, for the rare code that must show or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The token as a header value marked sensitive, so that HTTP libraries and proxies that
    /// honour the flag leave it out of their logs.
    pub(crate) fn header_value(&self) -> Option<HeaderValue> {
        let mut value = HeaderValue::from_str(&self.0).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// State shared by every request of one [`Client`](crate::Client): the key, swappable while the
/// client runs (for token renewal) without rebuilding it, and the retry policy.
///
/// Clones share the key: a key set through one clone is used by requests made through all.
#[derive(Clone, Debug)]
pub struct ClientState {
    api_key: Arc<RwLock<ApiKey>>,
    retry: RetryPolicy,
}

impl ClientState {
    /// State with `api_key` and the default [`RetryPolicy`].
    pub fn new(api_key: ApiKey) -> Self {
        Self {
            api_key: Arc::new(RwLock::new(api_key)),
            retry: RetryPolicy::default(),
        }
    }

    /// The same state with another retry policy ([`RetryPolicy::none`] disables retries).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Replaces the key used by every later request of every clone of this state.
    pub fn set_api_key(&self, api_key: ApiKey) {
        *self.api_key.write().unwrap_or_else(|e| e.into_inner()) = api_key;
    }

    /// The key requests currently carry.
    pub fn api_key(&self) -> ApiKey {
        self.api_key
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The policy that decides which failed requests are sent again, and when.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }
}
