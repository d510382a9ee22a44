//! Where exchanges go: the upstream's base URL (`staging`, `production` or any), the HTTP client
//! that carries them (rustls; the system's roots or a private CA; no redirects followed, no
//! bodies decoded, so that answers come back as sent), and the proxy's own answers when the
//! upstream cannot be reached (502) or does not answer in time (504).

use std::time::Duration;

use confirma_server::ApiError;

/// The upstream's base URL, without a trailing `/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream(String);

impl Upstream {
    pub const STAGING: &str = "https://staging-integrations.confirmafinance.com";
    pub const PRODUCTION: &str = "https://integrations.confirmafinance.com";

    /// The base URL of this request path and query (`/api/v1/partner/validate?x=1`).
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.0)
    }
}

impl std::str::FromStr for Upstream {
    type Err = String;

    /// `staging`, `production`, or an `http://` or `https://` base URL.
    fn from_str(text: &str) -> Result<Self, String> {
        let url = match text {
            "staging" => Self::STAGING,
            "production" => Self::PRODUCTION,
            other => other,
        };
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(|| {
                format!("{text}: the upstream is staging, production or an http(s):// base URL")
            })?;
        if rest.is_empty() || rest.contains(['?', '#']) {
            return Err(format!(
                "{text}: the upstream is a base URL with a host, without a query or fragment"
            ));
        }
        Ok(Self(url.trim_end_matches('/').to_string()))
    }
}

impl std::fmt::Display for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The HTTP client of the upstream.
pub(super) struct Client {
    pub http: reqwest::Client,
    pub timeout: Duration,
}

impl Client {
    pub fn new(config: &super::ProxyConfig) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.upstream_timeout)
            .read_timeout(config.upstream_timeout)
            .tls_backend_rustls();
        if let Some(pem) = &config.upstream_ca {
            let roots = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| anyhow::anyhow!("reading the upstream CA bundle: {e}"))?;
            anyhow::ensure!(
                !roots.is_empty(),
                "the upstream CA bundle holds no certificate"
            );
            builder = builder.tls_certs_only(roots);
        }
        Ok(Self {
            http: builder.build()?,
            timeout: config.upstream_timeout,
        })
    }
}

/// The header that tells a proxy's own failure answer from the upstream's.
pub const PROXY_ERROR: &str = "confirma-proxy-error";

/// The proxy's answer when an exchange with the upstream failed: 504 when the upstream did not
/// answer in time, 502 otherwise (refused, reset, TLS, a broken answer), in the error format.
/// The code is `SERVICE_UNAVAILABLE`, the spec's code for a passing outage, so that clients
/// decode it as they would the service's own; `Confirma-Proxy-Error` says which it was.
pub(super) fn failure(upstream: &Upstream, error: &reqwest::Error) -> (ApiError, &'static str) {
    if error.is_timeout() {
        return (too_slow(upstream), "upstream-timeout");
    }
    let why = if error.is_connect() {
        "could not be reached"
    } else {
        "broke off the exchange"
    };
    let mut answer = ApiError::unavailable(format!(
        "The upstream {upstream} {why} ({}).",
        root_cause(error)
    ));
    answer.status = 502;
    (answer, "upstream-unreachable")
}

/// The innermost cause of an error, which names what happened (connection refused, a
/// certificate not trusted), never the URL's query.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    confirma_server::clip(&cause.to_string())
}

/// 504: the upstream did not answer in time.
pub(super) fn too_slow(upstream: &Upstream) -> ApiError {
    let mut answer = ApiError::unavailable(format!(
        "The upstream {upstream} did not answer in time (the proxy's --upstream-timeout); the request may or may not have been carried out there."
    ));
    answer.status = 504;
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstreams_are_named_or_given_as_base_urls() {
        assert_eq!(
            "staging".parse::<Upstream>().unwrap().to_string(),
            Upstream::STAGING
        );
        assert_eq!(
            "production".parse::<Upstream>().unwrap().to_string(),
            Upstream::PRODUCTION
        );
        let local: Upstream = "http://127.0.0.1:8080/".parse().unwrap();
        assert_eq!(
            local.url("/api/v1/partner/validate"),
            "http://127.0.0.1:8080/api/v1/partner/validate"
        );
        assert!("ftp://x".parse::<Upstream>().is_err());
        assert!("https://".parse::<Upstream>().is_err());
        assert!("https://x/?a=1".parse::<Upstream>().is_err());
    }
}
