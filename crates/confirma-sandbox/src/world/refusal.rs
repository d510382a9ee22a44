//! Why the domain refuses: a typed error that knows nothing of HTTP. Each kind says what went
//! wrong in the domain's terms (the data, a business rule, a missing thing, a credential); the
//! HTTP edge (`api::errors`) gives each kind its status and the spec's error format.

/// One field at fault: its JSON path in the request, the rule it breaks, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    /// The rule broken: `business` for a business rule, otherwise the schema keyword
    /// (`minItems`, `required`, ...).
    pub rule: &'static str,
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, rule: &'static str, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            rule,
            message: message.into(),
        }
    }

    /// A field that breaks a business rule.
    pub fn business(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(path, "business", message)
    }
}

/// What the domain refuses, and why. A refused change changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The data is invalid whatever the sandbox holds; every problem is listed.
    #[error("{message}")]
    Invalid {
        message: String,
        problems: Vec<Problem>,
    },
    /// The data is valid, but what the sandbox holds forbids it (a number already used, a
    /// closed case, ...).
    #[error("{message}")]
    BusinessRule {
        message: String,
        problems: Vec<Problem>,
    },
    /// Nothing of the kind exists for this caller.
    #[error("{0}")]
    NotFound(String),
    /// The credential is missing or unknown.
    #[error("{0}")]
    Unauthenticated(String),
}

impl Refusal {
    pub fn invalid(message: impl Into<String>, problems: Vec<Problem>) -> Self {
        Self::Invalid {
            message: message.into(),
            problems,
        }
    }

    pub fn business_rule(message: impl Into<String>) -> Self {
        Self::BusinessRule {
            message: message.into(),
            problems: Vec::new(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::Unauthenticated(message.into())
    }

    /// The same refusal, naming the fields at fault.
    pub fn with_problems(mut self, more: Vec<Problem>) -> Self {
        if let Self::Invalid { problems, .. } | Self::BusinessRule { problems, .. } = &mut self {
            problems.extend(more);
        }
        self
    }
}

/// Why a change or a read did not complete: the domain refused it, or the storage failed (the
/// database is unreachable, say). Either way nothing changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("storage failed: {0}")]
    Storage(String),
    /// A change panicked midway; its part of the transaction was rolled back.
    #[error("internal error")]
    Internal,
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Self {
        Self::Storage(error.to_string())
    }
}

impl From<serde_json::Error> for Failure {
    fn from(error: serde_json::Error) -> Self {
        Self::Storage(format!("a stored document cannot be read: {error}"))
    }
}
