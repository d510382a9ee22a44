//! The client's own state (the API key) and the hooks that apply it to every request.

use std::fmt;
use std::sync::{Arc, RwLock};

use progenitor_client::{ClientHooks, OperationInfo};
use reqwest::header::HeaderValue;

use crate::Client;

/// The header that carries the access token (or the partner provisioning token) on every call.
pub const API_KEY_HEADER: &str = "X-Api-Key";

/// An access token. Its `Debug` output is redacted so that it never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The token itself, for the rare code that must show or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn header_value(&self) -> Option<HeaderValue> {
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

/// State shared by every request of one [`Client`]: the key, swappable while the client runs
/// (for token renewal) without rebuilding it.
#[derive(Clone, Debug)]
pub struct ClientState {
    api_key: Arc<RwLock<ApiKey>>,
}

impl ClientState {
    pub fn new(api_key: ApiKey) -> Self {
        Self {
            api_key: Arc::new(RwLock::new(api_key)),
        }
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
}

impl ClientHooks<ClientState> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let key = self.inner.api_key();
        let value = key.header_value().ok_or_else(|| {
            progenitor_client::Error::InvalidRequest(
                "the API key contains characters that cannot be sent in an HTTP header".into(),
            )
        })?;
        request.headers_mut().insert(API_KEY_HEADER, value);
        Ok(())
    }
}
