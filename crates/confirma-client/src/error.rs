//! [`ApiError`]: the one error of the hand-written layer, with the API's error body decoded.
#![warn(missing_docs)]

use reqwest::StatusCode;

use crate::retry::is_retryable_status;
use crate::types::{ErrorCode, ErrorResponse, FieldError};

/// Everything that can go wrong with a call to the Partner API.
///
/// Convert the generated client's error with `?` or [`From`]; the helpers of this crate
/// ([`Client::connect`](crate::Client::connect), [`Client::renew_api_key`](crate::Client::renew_api_key),
/// the paging helpers) return it directly.
///
/// ```no_run
/// use confirma_client::{ApiError, Client};
///
/// # async fn demo(client: &Client, body: confirma_client::types::SalesInvoiceRequest) {
/// match client.create_invoice().body(body).send().await.map_err(ApiError::from) {
///     Ok(created) => println!("accepted: {}", created.invoice_number),
///     Err(e) if e.is_retryable() => eprintln!("try again later: {e}"),
///     Err(e) => {
///         eprintln!("{e}");
///         for problem in e.field_errors() {
///             eprintln!("  {}: {}", problem.path, problem.message);
///         }
///     }
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The service could not be reached, or the connection failed while talking to it.
    #[error("could not talk to the Partner API: {0}")]
    Transport(#[source] reqwest::Error),
    /// The service did not answer within the client's timeout.
    #[error("the Partner API did not answer in time: {0}")]
    Timeout(#[source] reqwest::Error),
    /// The service answered with one of its documented errors; `body` is its decoded
    /// `ErrorResponse` (code, message, field problems, request id).
    #[error("{status}: {} ({}){}", body.message, body.code, problems(&body.field_errors))]
    Api {
        /// The HTTP status (4xx or 5xx).
        status: StatusCode,
        /// The decoded error body.
        body: ErrorResponse,
    },
    /// The service answered with a status the spec does not document for the operation
    /// (for example a proxy's `502`). `body` holds the answer's text when it was read (see
    /// [`ApiError::read`]), and is empty otherwise.
    #[error("unexpected answer from the Partner API: {status}{}", excerpt(body))]
    UnexpectedResponse {
        /// The HTTP status.
        status: StatusCode,
        /// The body as text (possibly empty).
        body: String,
    },
    /// The service answered with a documented status, but its body does not match the spec.
    #[error(
        "the Partner API sent a body that does not match the spec: {source}{}",
        excerpt(body)
    )]
    InvalidBody {
        /// The body as text (lossily decoded).
        body: String,
        /// Why it could not be decoded.
        source: serde_json::Error,
    },
    /// The request was never sent: a parameter or body value is invalid, or the API key cannot
    /// be sent in a header.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A paging helper stopped because the pages do not add up: one came back twice, or there
    /// are more than the helper reads (see `send_all_pages`).
    #[error("the Partner API's pages do not add up: {0}")]
    Paging(String),
}

/// `; <path>: <message>` for each field problem, or nothing when there are none.
fn problems(problems: &[FieldError]) -> String {
    problems
        .iter()
        .map(|p| format!("; {}: {}", p.path, p.message))
        .collect()
}

/// `: <first 200 characters>` of a body, or nothing for an empty one.
fn excerpt(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        return String::new();
    }
    let mut cut: String = body.chars().take(200).collect();
    if cut.len() < body.len() {
        cut.push('…');
    }
    format!(": {cut}")
}

/// Awaits a typed builder's `send()`: the answer's body, or the [`ApiError`] with the body of an
/// undocumented answer read ([`ApiError::read`]). The one way this crate and its tools turn a
/// sent request into a value.
///
/// ```no_run
/// # async fn demo(client: &confirma_client::Client) -> Result<(), confirma_client::ApiError> {
/// let status = confirma_client::answer(client.validate_token().send()).await?;
/// println!("{}", status.is_valid);
/// # Ok(()) }
/// ```
pub async fn answer<T>(
    send: impl Future<
        Output = Result<
            progenitor_client::ResponseValue<T>,
            progenitor_client::Error<ErrorResponse>,
        >,
    >,
) -> Result<T, ApiError> {
    match send.await {
        Ok(value) => Ok(value.into_inner()),
        Err(error) => Err(ApiError::read(error).await),
    }
}

impl ApiError {
    /// Like [`From`], but also reads the body of an undocumented answer, so that
    /// [`UnexpectedResponse`](Self::UnexpectedResponse) shows what the service (or a proxy
    /// before it) said.
    ///
    /// ```no_run
    /// # async fn demo(client: &confirma_client::Client) -> Result<(), confirma_client::ApiError> {
    /// use confirma_client::ApiError;
    /// let status = match client.validate_token().send().await {
    ///     Ok(status) => status.into_inner(),
    ///     Err(e) => return Err(ApiError::read(e).await),
    /// };
    /// # Ok(()) }
    /// ```
    pub async fn read(error: progenitor_client::Error<ErrorResponse>) -> Self {
        match error {
            progenitor_client::Error::UnexpectedResponse(response) => {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                Self::UnexpectedResponse { status, body }
            }
            other => other.into(),
        }
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api { status, .. } | Self::UnexpectedResponse { status, .. } => Some(*status),
            Self::Transport(e) | Self::Timeout(e) => e.status(),
            Self::InvalidBody { .. } | Self::InvalidRequest(_) | Self::Paging(_) => None,
        }
    }

    /// The API's machine-readable error code, for a documented error.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api { body, .. } => Some(body.code),
            _ => None,
        }
    }

    /// The API's field problems (JSON path, code, message); empty unless the service
    /// reported some.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Self::Api { body, .. } => &body.field_errors,
            _ => &[],
        }
    }

    /// The service's correlation identifier of the failed request, to quote to support.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api { body, .. } => body.request_id.as_deref(),
            _ => None,
        }
    }

    /// Whether the same request may succeed later: connection failures, timeouts, `429` and
    /// `503`. The client has already retried safe requests by the time it returns such an
    /// error; this tells the caller whether trying again later (or retrying an unsafe request
    /// it knows to be harmless) makes sense.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(_) | Self::Timeout(_) => true,
            Self::Api { status, .. } | Self::UnexpectedResponse { status, .. } => {
                is_retryable_status(*status)
            }
            Self::InvalidBody { .. } | Self::InvalidRequest(_) | Self::Paging(_) => false,
        }
    }

    /// Whether the service rejected the request itself (a 4xx answer): fix the request rather
    /// than retry it. `429 Too Many Requests` counts as a client error here too.
    pub fn is_client_error(&self) -> bool {
        self.status().is_some_and(|s| s.is_client_error())
    }

    fn from_reqwest(error: reqwest::Error) -> Self {
        if error.is_timeout() {
            Self::Timeout(error)
        } else {
            Self::Transport(error)
        }
    }
}

impl From<progenitor_client::Error<ErrorResponse>> for ApiError {
    fn from(error: progenitor_client::Error<ErrorResponse>) -> Self {
        use progenitor_client::Error as E;
        match error {
            E::InvalidRequest(message) | E::Custom(message) => Self::InvalidRequest(message),
            E::CommunicationError(e) | E::InvalidUpgrade(e) | E::ResponseBodyError(e) => {
                Self::from_reqwest(e)
            }
            E::ErrorResponse(response) => Self::Api {
                status: response.status(),
                body: response.into_inner(),
            },
            E::InvalidResponsePayload(bytes, source) => Self::InvalidBody {
                body: String::from_utf8_lossy(&bytes).into_owned(),
                source,
            },
            E::UnexpectedResponse(response) => Self::UnexpectedResponse {
                status: response.status(),
                body: String::new(),
            },
        }
    }
}

impl From<reqwest::Error> for ApiError {
    fn from(error: reqwest::Error) -> Self {
        Self::from_reqwest(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use progenitor_client::{Error, ResponseValue};
    use reqwest::header::HeaderMap;

    fn error_body(json: &str) -> ErrorResponse {
        serde_json::from_str(json).unwrap()
    }

    fn documented(status: u16, json: &str) -> ApiError {
        ApiError::from(Error::ErrorResponse(ResponseValue::new(
            error_body(json),
            StatusCode::from_u16(status).unwrap(),
            HeaderMap::new(),
        )))
    }

    #[test]
    fn a_documented_error_is_decoded() {
        let e = documented(
            400,
            r#"{"code":"VALIDATION_FAILED","message":"The request body failed validation (2 errors).",
                "fieldErrors":[
                  {"path":"$.invoice.header.dueDate","code":"format","message":"must be a date"},
                  {"path":"$.invoice.header.currencyCode","code":"pattern","message":"must be ISO 4217"}],
                "requestId":"5d0b8f3e"}"#,
        );
        assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST));
        assert_eq!(e.code(), Some(ErrorCode::ValidationFailed));
        assert_eq!(e.request_id(), Some("5d0b8f3e"));
        let paths: Vec<&str> = e.field_errors().iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            ["$.invoice.header.dueDate", "$.invoice.header.currencyCode"]
        );
        assert!(!e.is_retryable());
        assert!(e.is_client_error());
        assert_eq!(
            e.to_string(),
            "400 Bad Request: The request body failed validation (2 errors). (VALIDATION_FAILED); \
             $.invoice.header.dueDate: must be a date; $.invoice.header.currencyCode: must be ISO 4217"
        );
    }

    #[test]
    fn unavailable_and_rate_limited_are_retryable() {
        let body = r#"{"code":"SERVICE_UNAVAILABLE","message":"Maintenance.","fieldErrors":[]}"#;
        assert!(documented(503, body).is_retryable());
        assert!(!documented(503, body).is_client_error());
        assert!(documented(429, body).is_retryable());
        assert!(!documented(500, body).is_retryable());
        assert!(documented(503, body).field_errors().is_empty());
    }

    #[test]
    fn an_undecodable_body_keeps_its_text() {
        let source = serde_json::from_str::<ErrorResponse>("<html>").unwrap_err();
        let e = ApiError::from(Error::<ErrorResponse>::InvalidResponsePayload(
            "<html>gateway</html>".into(),
            source,
        ));
        assert!(matches!(&e, ApiError::InvalidBody { body, .. } if body == "<html>gateway</html>"));
        assert!(e.to_string().ends_with(": <html>gateway</html>"));
        assert_eq!(e.status(), None);
        assert!(!e.is_retryable());
    }

    #[test]
    fn invalid_requests_are_not_retryable() {
        let e = ApiError::from(Error::<ErrorResponse>::InvalidRequest("bad date".into()));
        assert_eq!(e.to_string(), "invalid request: bad date");
        assert!(!e.is_retryable());
        assert_eq!(e.code(), None);
    }

    #[test]
    fn long_bodies_are_shortened_in_messages() {
        let long = "x".repeat(500);
        let e = ApiError::UnexpectedResponse {
            status: StatusCode::BAD_GATEWAY,
            body: long,
        };
        let message = e.to_string();
        assert!(message.starts_with("unexpected answer from the Partner API: 502 Bad Gateway: x"));
        assert!(message.ends_with('…'));
        assert!(message.len() < 300);
    }
}
