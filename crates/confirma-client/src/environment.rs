//! Where the API lives ([`Environment`]) and how a ready-to-use [`Client`] is built for it
//! ([`Client::connect`], [`ClientBuilder`]).
#![warn(missing_docs)]

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use reqwest::Url;

use crate::{ApiError, ApiKey, Client, ClientState, RetryPolicy};

/// Base URL of the staging service (test data; staging tokens only work here).
pub const STAGING_URL: &str = "https://staging-integrations.confirmafinance.com";
/// Base URL of the production service (production tokens only work here).
pub const PRODUCTION_URL: &str = "https://integrations.confirmafinance.com";
/// Base URL of the local sandbox (the project's own server), its default address.
pub const SANDBOX_URL: &str = "http://127.0.0.1:8080";

/// A Partner API deployment. Tokens are issued per environment and only work in their own.
///
/// Parses from `staging`, `production`, `sandbox` or a base URL:
///
/// ```
/// use confirma_client::Environment;
/// assert_eq!("staging".parse::<Environment>().unwrap(), Environment::Staging);
/// let local: Environment = "http://127.0.0.1:9000".parse().unwrap();
/// assert_eq!(local.base_url(), "http://127.0.0.1:9000");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Environment {
    /// [`STAGING_URL`].
    Staging,
    /// [`PRODUCTION_URL`].
    Production,
    /// Any other base URL: the local sandbox ([`Environment::sandbox`]), a mock, a proxy.
    /// A path stem is kept (`https://proxy.example/confirma`).
    Custom(Url),
}

impl Environment {
    /// The local sandbox at its default address, [`SANDBOX_URL`].
    pub fn sandbox() -> Self {
        Self::Custom(Url::parse(SANDBOX_URL).expect("SANDBOX_URL is a valid URL"))
    }

    /// The base URL, without a trailing slash (the generated client appends `/api/v1/...`).
    pub fn base_url(&self) -> &str {
        match self {
            Self::Staging => STAGING_URL,
            Self::Production => PRODUCTION_URL,
            Self::Custom(url) => url.as_str().trim_end_matches('/'),
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Staging => f.write_str("staging"),
            Self::Production => f.write_str("production"),
            Self::Custom(_) => f.write_str(self.base_url()),
        }
    }
}

/// Why a string is not an [`Environment`].
#[derive(Debug, thiserror::Error)]
#[error("`{input}` is not an environment: use staging, production, sandbox or an http(s) URL")]
pub struct ParseEnvironmentError {
    input: String,
}

impl FromStr for Environment {
    type Err = ParseEnvironmentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "staging" => Ok(Self::Staging),
            "production" => Ok(Self::Production),
            "sandbox" => Ok(Self::sandbox()),
            other => match Url::parse(other) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
                    Ok(Self::Custom(url))
                }
                _ => Err(ParseEnvironmentError {
                    input: s.to_string(),
                }),
            },
        }
    }
}

/// Builds a [`Client`] with timeouts, retries and a `User-Agent`; start with
/// [`Client::builder`].
///
/// Defaults: 10 s to connect, 30 s for a whole request, [`RetryPolicy::default`].
///
/// ```no_run
/// use std::time::Duration;
/// use confirma_client::{ApiKey, Client, Environment};
///
/// # fn demo() -> Result<(), confirma_client::ApiError> {
/// let client = Client::builder(Environment::Production, ApiKey::new("token"))
///     .timeout(Duration::from_secs(60))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ClientBuilder {
    environment: Environment,
    api_key: ApiKey,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    user_agent: String,
}

impl ClientBuilder {
    /// Time allowed to open a connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for one attempt of a request, from connecting until the whole answer has
    /// arrived. Retries each get their own.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Which failed requests are sent again (see [`RetryPolicy`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The `User-Agent` header (default `confirma-client/<version>`); name your integration
    /// here so that Confirma Finance can tell it apart in their logs.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The client. Fails only when the HTTP stack cannot be set up (for example no TLS roots).
    pub fn build(self) -> Result<Client, ApiError> {
        // With the `rustls-ring` feature reqwest brings no crypto provider: use ring, unless
        // the application installed a provider of its own already.
        #[cfg(feature = "rustls-ring")]
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(self.user_agent)
            .build()?;
        let state = ClientState::new(self.api_key).with_retry_policy(self.retry);
        Ok(Client::new_with_client(
            self.environment.base_url(),
            http,
            state,
        ))
    }
}

impl Client {
    /// A client for `environment` that authenticates with `api_key`, with the default
    /// timeouts and retries.
    ///
    /// ```no_run
    /// use confirma_client::{ApiKey, Client, Environment};
    ///
    /// # async fn demo() -> Result<(), confirma_client::ApiError> {
    /// let client = Client::connect(Environment::Staging, ApiKey::new("token"))?;
    /// let status = client.validate_token().send().await?;
    /// println!("valid: {}", status.is_valid);
    /// # Ok(()) }
    /// ```
    pub fn connect(environment: Environment, api_key: ApiKey) -> Result<Self, ApiError> {
        Self::builder(environment, api_key).build()
    }

    /// A [`ClientBuilder`] to adjust timeouts, retries or the `User-Agent` before connecting.
    pub fn builder(environment: Environment, api_key: ApiKey) -> ClientBuilder {
        ClientBuilder {
            environment,
            api_key,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            user_agent: concat!("confirma-client/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }

    /// The client's state: the API key in use (replace it with
    /// [`ClientState::set_api_key`]) and the retry policy.
    pub fn state(&self) -> &ClientState {
        &self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_urls_parse() {
        assert_eq!(
            "staging".parse::<Environment>().unwrap(),
            Environment::Staging
        );
        assert_eq!(
            "production".parse::<Environment>().unwrap(),
            Environment::Production
        );
        assert_eq!(
            "sandbox".parse::<Environment>().unwrap().base_url(),
            SANDBOX_URL
        );
        let proxied: Environment = "https://proxy.example/confirma/".parse().unwrap();
        assert_eq!(proxied.base_url(), "https://proxy.example/confirma");
        assert_eq!(proxied.to_string(), "https://proxy.example/confirma");
        for bad in [
            "",
            "stagin",
            "ftp://example.com",
            "127.0.0.1:8080",
            "http://",
        ] {
            assert!(bad.parse::<Environment>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn the_base_url_has_no_trailing_slash() {
        for env in [
            Environment::Staging,
            Environment::Production,
            Environment::sandbox(),
        ] {
            assert!(!env.base_url().ends_with('/'), "{env}");
        }
    }

    /// The URLs restate the spec's `servers`; keep them equal. (Read from the spec as JSON, which
    /// `cargo xtask codegen` writes and its drift check keeps equal to the YAML.)
    #[test]
    fn the_urls_are_the_specs_servers() {
        let spec: serde_json::Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../confirma-server/src/generated/openapi.json"
        )))
        .unwrap();
        let servers: Vec<&str> = spec["servers"]
            .as_array()
            .expect("servers")
            .iter()
            .map(|s| s["url"].as_str().expect("url"))
            .collect();
        assert_eq!(
            servers,
            [STAGING_URL, PRODUCTION_URL, SANDBOX_URL],
            "openapi/partner-api.yaml's `servers` changed: update the constants in src/environment.rs"
        );
    }
}
