//! `ApiError`: an error answer in the spec's one error format, with its status code.

use crate::types::{ErrorCode, ErrorResponse, FieldError};

/// One field-level problem: the JSON path of the field and what is wrong with it.
pub type FieldProblem = FieldError;

/// A field problem at `path` (`$.invoice.header.dueDate`), by rule `code`, saying `message`.
pub fn field_problem(
    path: impl Into<String>,
    code: impl Into<String>,
    message: impl Into<String>,
) -> FieldProblem {
    FieldError {
        path: path.into(),
        code: code.into(),
        message: message.into(),
    }
}

/// An error answer: an HTTP status and an [`ErrorResponse`] body. Every generated response enum
/// converts from it (`From<ApiError>`), choosing the variant of its status.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub body: ErrorResponse,
}

impl ApiError {
    pub fn new(status: u16, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorResponse {
                code,
                message: message.into(),
                field_errors: Vec::new(),
                request_id: None,
            },
        }
    }

    /// Adds field problems to the answer.
    pub fn with_field_errors(mut self, problems: Vec<FieldProblem>) -> Self {
        self.body.field_errors = problems;
        self
    }

    /// 400: the request does not satisfy the spec; every problem is listed.
    pub fn validation(message: &str, problems: Vec<FieldProblem>) -> Self {
        Self::new(400, ErrorCode::ValidationFailed, message).with_field_errors(problems)
    }

    /// 400: a well-formed request that is invalid for a reason the schema cannot express.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, ErrorCode::BadRequest, message)
    }

    /// 400: the body is not JSON.
    pub fn malformed_json(error: &serde_json::Error) -> Self {
        Self::new(
            400,
            ErrorCode::MalformedJson,
            format!("The request body is not valid JSON: {error}."),
        )
    }

    /// 400: an object of the body names the same key twice (`path` is the repeated one).
    pub fn duplicate_key(path: &str) -> Self {
        Self::new(
            400,
            ErrorCode::MalformedJson,
            "The request body repeats a key in one object; send each key once.",
        )
        .with_field_errors(vec![field_problem(
            clip(path),
            "duplicateKey",
            "appears more than once in its object",
        )])
    }

    /// 400: the connection ended before the body announced by the request was complete.
    pub fn incomplete_body() -> Self {
        Self::bad_request("The request body ended before it was complete.")
    }

    /// 408: the body paused for longer than `idle` between two chunks.
    pub fn request_timeout(idle: std::time::Duration) -> Self {
        Self::new(
            408,
            ErrorCode::RequestTimeout,
            format!(
                "The request body paused for more than {} seconds; send it again.",
                idle.as_secs()
            ),
        )
    }

    /// 414: the request URI is longer than `limit` bytes.
    pub fn uri_too_long(limit: usize) -> Self {
        Self::new(
            414,
            ErrorCode::UriTooLong,
            format!("The request URI is longer than {limit} bytes."),
        )
    }

    /// 431: the request headers are larger than `limit` bytes in all.
    pub fn headers_too_large(limit: usize) -> Self {
        Self::new(
            431,
            ErrorCode::HeadersTooLarge,
            format!("The request headers are larger than {limit} bytes in all."),
        )
    }

    /// 401: no valid credential.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, ErrorCode::Unauthorized, message)
    }

    /// 401: the credential has passed its expiry; renew it.
    pub fn token_expired() -> Self {
        Self::new(
            401,
            ErrorCode::TokenExpired,
            "The access token has expired; renew it with GET /api/v1/partner/renew.",
        )
    }

    /// 402: the request is valid but a business rule refuses it.
    pub fn business_rule(message: impl Into<String>) -> Self {
        Self::new(402, ErrorCode::BusinessRuleViolation, message)
    }

    /// 403: the credential may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, ErrorCode::Forbidden, message)
    }

    /// 404: no such resource (for this caller).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, ErrorCode::NotFound, message)
    }

    /// 404 for a path no operation has.
    pub fn unknown_route(method: &str, path: &str) -> Self {
        Self::new(
            404,
            ErrorCode::NotFound,
            format!("No operation is at {method} {}.", clip(path)),
        )
    }

    /// 405 for a known path with another method.
    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        Self::new(
            405,
            ErrorCode::MethodNotAllowed,
            format!("{} does not accept {method}.", clip(path)),
        )
    }

    /// 413: the body is larger than the documented limit.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            413,
            ErrorCode::PayloadTooLarge,
            format!("The request body is larger than {limit} bytes."),
        )
    }

    /// 415: the body is not declared as JSON.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        let shown = if content_type.is_empty() {
            "none".to_string()
        } else {
            clip(content_type)
        };
        Self::new(
            415,
            ErrorCode::UnsupportedMediaType,
            format!("Request bodies must be sent as application/json (Content-Type was {shown})."),
        )
    }

    /// 415: the body is declared as JSON in an encoding other than UTF-8.
    pub fn unsupported_charset(charset: &str) -> Self {
        Self::new(
            415,
            ErrorCode::UnsupportedMediaType,
            format!(
                "Request bodies must be JSON in UTF-8 (the charset was {}).",
                clip(charset)
            ),
        )
    }

    /// 500: something failed that the caller cannot fix.
    pub fn internal() -> Self {
        Self::new(
            500,
            ErrorCode::InternalError,
            "An unexpected error occurred.",
        )
    }

    /// 503: try again later.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, ErrorCode::ServiceUnavailable, message)
    }
}

/// The longest piece of a request an error message repeats; longer ones are cut.
pub const ECHO_LIMIT: usize = 64;

/// `text` as an error message may repeat it: at most [`ECHO_LIMIT`] characters, then `…`.
pub fn clip(text: &str) -> String {
    match text.char_indices().nth(ECHO_LIMIT) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body.message)
    }
}

impl std::error::Error for ApiError {}

impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        crate::json_response(self.status, &self.body)
    }
}
