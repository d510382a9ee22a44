//! Which failed requests are sent again, and after how long: [`RetryPolicy`].
#![warn(missing_docs)]

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};

/// GET operations that change server state and so must never be sent twice by the client on its
/// own. `renewToken` is a GET by the documented wire format, but each call issues a new token
/// and revokes the old one (see the operation's description in the spec).
const UNSAFE_GETS: &[&str] = &["renew_token"];

/// POST operations the spec marks as idempotent. The spec has no such marker yet, so every POST
/// is treated as non-idempotent and never retried: a retried `createInvoice` whose first attempt
/// did reach the service would submit the invoice twice.
const IDEMPOTENT_POSTS: &[&str] = &[];

/// When and how often a failed request is retried.
///
/// A request is retried only when it is *safe* to send twice — a `GET` (except `renewToken`,
/// which changes state) or a `POST` the spec marks idempotent (none yet) — and only when the
/// failure is transient: a connection error, a timeout, `429 Too Many Requests` or
/// `503 Service Unavailable`. Between attempts the client waits an exponentially growing,
/// jittered back-off, or longer when the answer carries `Retry-After` (in seconds or as an
/// HTTP date). A `Retry-After` longer than [`max_retry_after`](Self::max_retry_after) is not
/// waited for: the `429`/`503` is returned at once, so that a caller is never blocked for a
/// maintenance window.
///
/// ```no_run
/// use std::time::Duration;
/// use confirma_client::{ApiKey, Client, Environment, RetryPolicy};
///
/// # fn demo() -> Result<(), confirma_client::ApiError> {
/// let policy = RetryPolicy::default()
///     .max_attempts(6)
///     .initial_backoff(Duration::from_millis(500))
///     .max_retry_after(Duration::from_secs(60));
/// let client = Client::builder(Environment::Staging, ApiKey::new("token"))
///     .retry_policy(policy)
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// Four attempts in all; back-off 200 ms, 400 ms, 800 ms (each jittered down to half), at
    /// most 5 s; `Retry-After` honoured up to 30 s.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries: every request is sent once.
    pub fn none() -> Self {
        Self::default().max_attempts(1)
    }

    /// How many times a request is sent at most, the first time included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The back-off before the first retry; each later one doubles it.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The longest back-off between two attempts (before jitter).
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The longest `Retry-After` the client waits for; a longer one ends the retries.
    pub fn max_retry_after(mut self, limit: Duration) -> Self {
        self.max_retry_after = limit;
        self
    }

    /// How many times a request is sent at most.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Whether the operation may be sent more than once (see the type's documentation).
    /// `operation_id` is the generated method's name, as `OperationInfo` carries it
    /// (`get_payments`, not `getPayments`).
    pub fn is_safe(method: &Method, operation_id: &str) -> bool {
        if *method == Method::GET {
            !UNSAFE_GETS.contains(&operation_id)
        } else if *method == Method::POST {
            IDEMPOTENT_POSTS.contains(&operation_id)
        } else {
            false
        }
    }

    /// The back-off after `attempts_made` failed attempts (1 after the first), before jitter:
    /// `initial_backoff * 2^(attempts_made - 1)`, at most `max_backoff`.
    pub fn backoff(&self, attempts_made: u32) -> Duration {
        let exponent = attempts_made.saturating_sub(1).min(31);
        self.initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff)
    }

    /// "Equal jitter": half the back-off is kept, the other half scaled by `unit` (in `[0, 1)`),
    /// so that clients that failed together do not retry together yet still wait a while.
    fn jittered(&self, attempts_made: u32, unit: f64) -> Duration {
        let backoff = self.backoff(attempts_made);
        let half = backoff / 2;
        half + half.mul_f64(unit.clamp(0.0, 1.0))
    }

    /// How long to wait before sending the request again after `attempts_made` attempts that
    /// ended with `outcome`, or `None` when it must not be sent again. The caller has already
    /// checked that the request is safe to repeat.
    pub(crate) fn delay_after(
        &self,
        attempts_made: u32,
        outcome: &reqwest::Result<reqwest::Response>,
    ) -> Option<Duration> {
        let failure = match outcome {
            Ok(response) => Failure::Status {
                status: response.status(),
                retry_after: retry_after(response.headers(), SystemTime::now()),
            },
            Err(error) if error.is_connect() || error.is_timeout() || error.is_request() => {
                Failure::Transport
            }
            Err(_) => return None,
        };
        self.delay_for(attempts_made, failure, fastrand::f64())
    }

    fn delay_for(&self, attempts_made: u32, failure: Failure, unit: f64) -> Option<Duration> {
        if attempts_made >= self.max_attempts {
            return None;
        }
        let backoff = self.jittered(attempts_made, unit);
        match failure {
            Failure::Transport => Some(backoff),
            Failure::Status {
                status,
                retry_after,
            } if is_retryable_status(status) => match retry_after {
                Some(wait) if wait > self.max_retry_after => None,
                Some(wait) => Some(wait.max(backoff)),
                None => Some(backoff),
            },
            Failure::Status { .. } => None,
        }
    }
}

/// What went wrong with one attempt, as far as retrying is concerned.
#[derive(Clone, Copy, Debug)]
enum Failure {
    /// No answer: the connection failed or timed out.
    Transport,
    /// An answer (possibly a success, which is never retried).
    Status {
        status: StatusCode,
        retry_after: Option<Duration>,
    },
}

/// The statuses that mean "not now, try again": `429` and `503`.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE
}

/// The wait a `Retry-After` header asks for, relative to `now`: delay-seconds (`120`) or an
/// HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`; a date in the past means no wait). `None` when
/// the header is absent or unreadable.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // An absurdly long number saturates instead of being ignored: it still means "later".
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn policy() -> RetryPolicy {
        RetryPolicy::default()
            .max_attempts(5)
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(1000))
            .max_retry_after(Duration::from_secs(30))
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = policy();
        let schedule: Vec<u128> = (1..=6).map(|n| p.backoff(n).as_millis()).collect();
        assert_eq!(schedule, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(p.backoff(u32::MAX), Duration::from_millis(1000));
    }

    #[test]
    fn jitter_keeps_between_half_and_all_of_the_backoff() {
        let p = policy();
        assert_eq!(p.jittered(3, 0.0), Duration::from_millis(200));
        assert_eq!(p.jittered(3, 0.5), Duration::from_millis(300));
        assert!(p.jittered(3, 0.999_999) < Duration::from_millis(400));
        for _ in 0..100 {
            let d = p.jittered(2, fastrand::f64());
            assert!(d >= Duration::from_millis(100) && d < Duration::from_millis(200));
        }
    }

    #[test]
    fn attempts_are_bounded() {
        let p = policy();
        assert!(p.delay_for(4, Failure::Transport, 0.0).is_some());
        assert_eq!(p.delay_for(5, Failure::Transport, 0.0), None);
        assert_eq!(
            RetryPolicy::none().delay_for(1, Failure::Transport, 0.0),
            None
        );
        assert_eq!(RetryPolicy::default().max_attempts(0).attempts(), 1);
    }

    #[test]
    fn only_429_and_503_are_retried() {
        let p = policy();
        let status = |code: u16| Failure::Status {
            status: StatusCode::from_u16(code).unwrap(),
            retry_after: None,
        };
        for code in [429, 503] {
            assert_eq!(
                p.delay_for(1, status(code), 0.0),
                Some(Duration::from_millis(50))
            );
        }
        for code in [200, 204, 400, 401, 402, 404, 500, 502, 504] {
            assert_eq!(p.delay_for(1, status(code), 0.0), None, "{code}");
        }
    }

    #[test]
    fn retry_after_is_waited_for_but_not_beyond_the_limit() {
        let p = policy();
        let with = |secs: u64| Failure::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(Duration::from_secs(secs)),
        };
        assert_eq!(p.delay_for(1, with(2), 0.0), Some(Duration::from_secs(2)));
        // A shorter Retry-After than the back-off does not shorten the back-off.
        assert_eq!(
            p.delay_for(4, with(0), 0.0),
            Some(Duration::from_millis(400))
        );
        assert_eq!(p.delay_for(1, with(30), 0.0), Some(Duration::from_secs(30)));
        assert_eq!(p.delay_for(1, with(31), 0.0), None);
    }

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2026 07:28:00 GMT").unwrap();
        let parse = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
            retry_after(&headers, now)
        };
        assert_eq!(parse("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse("0"), Some(Duration::ZERO));
        assert_eq!(
            parse("99999999999999999999999"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse("Wed, 21 Oct 2026 07:28:45 GMT"),
            Some(Duration::from_secs(45))
        );
        assert_eq!(parse("Wed, 21 Oct 2026 07:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse("-5"), None);
        assert_eq!(parse("soon"), None);
        assert_eq!(parse(""), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn only_safe_operations_are_repeated() {
        assert!(RetryPolicy::is_safe(&Method::GET, "get_payments"));
        assert!(RetryPolicy::is_safe(&Method::GET, "validate_token"));
        assert!(!RetryPolicy::is_safe(&Method::GET, "renew_token"));
        assert!(!RetryPolicy::is_safe(&Method::POST, "create_invoice"));
        assert!(!RetryPolicy::is_safe(&Method::POST, "submit_ledger"));
        assert!(!RetryPolicy::is_safe(&Method::DELETE, "anything"));
    }

    /// The names above are generated method names; if the spec renamed `renewToken`, the
    /// exception would silently stop applying. The generated client names the operation in
    /// `OperationInfo`, so look for exactly that string there.
    #[test]
    fn unsafe_gets_name_real_operations() {
        let generated = include_str!("generated.rs");
        for id in UNSAFE_GETS.iter().chain(IDEMPOTENT_POSTS) {
            assert!(
                generated.contains(&format!("operation_id: \"{id}\"")),
                "`{id}` in src/retry.rs names no operation of the generated client; \
                 update the list to the operation's new name"
            );
        }
    }
}
