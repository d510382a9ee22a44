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
    Storage(StorageFault),
    /// A change panicked midway; its part of the transaction was rolled back.
    #[error("internal error")]
    Internal,
}

/// What is wrong with the storage, as far as an operator can act on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StorageKind {
    /// The disk (or the database's size cap) is full: free space, or raise the cap.
    DiskFull,
    /// The database cannot be written: a read-only file or filesystem, or a read-only server.
    ReadOnly,
    /// The connection to the database was lost (the server restarted, the backend was
    /// terminated, the network failed).
    ConnectionLost,
    /// A statement, a lock or the whole group of changes took longer than the storage timeout.
    Timeout,
    /// Anything else: a failure of the database or a record it holds.
    Other,
}

impl StorageKind {
    /// What it is, as the log and the 503 answer say it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::DiskFull => {
                "the database is full (no space left on its disk, or its size cap reached)"
            }
            Self::ReadOnly => "the database is read-only",
            Self::ConnectionLost => "the connection to the database was lost",
            Self::Timeout => "the database did not answer within the storage timeout",
            Self::Other => "the database failed",
        }
    }
}

/// A storage failure: its kind and the database's own words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {detail}", kind.describe())]
pub struct StorageFault {
    pub kind: StorageKind,
    pub detail: String,
}

impl StorageFault {
    pub fn new(kind: StorageKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }

    /// A failure of the database or of a record it holds.
    pub fn other(detail: impl Into<String>) -> Self {
        Self::new(StorageKind::Other, detail)
    }
}

impl From<sqlx::Error> for StorageFault {
    fn from(error: sqlx::Error) -> Self {
        let kind = match &error {
            sqlx::Error::Database(e) => e.code().map_or(StorageKind::Other, |c| kind_of_code(&c)),
            sqlx::Error::Io(e) => match e.kind() {
                std::io::ErrorKind::StorageFull => StorageKind::DiskFull,
                std::io::ErrorKind::ReadOnlyFilesystem => StorageKind::ReadOnly,
                std::io::ErrorKind::TimedOut => StorageKind::Timeout,
                _ => StorageKind::ConnectionLost,
            },
            sqlx::Error::PoolTimedOut => StorageKind::Timeout,
            sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed | sqlx::Error::Protocol(_) => {
                StorageKind::ConnectionLost
            }
            _ => StorageKind::Other,
        };
        // Whatever its kind for the client, an I/O error may have left the connection broken:
        // the pool tests its connections before their next use.
        if kind == StorageKind::ConnectionLost || matches!(error, sqlx::Error::Io(_)) {
            crate::store::connection_lost();
        }
        Self::new(kind, error.to_string())
    }
}

/// The kind of a database error code: a PostgreSQL SQLSTATE (five characters) or an SQLite
/// result code (a number, perhaps extended: its low byte is the primary code).
fn kind_of_code(code: &str) -> StorageKind {
    if code.len() == 5 {
        return match code {
            "53100" => StorageKind::DiskFull,
            "25006" => StorageKind::ReadOnly,
            // Canceled by statement_timeout; lock_timeout.
            "57014" | "55P03" => StorageKind::Timeout,
            // Terminated, shut down, cannot connect now; connection exceptions.
            c if c.starts_with("57P") || c.starts_with("08") => StorageKind::ConnectionLost,
            _ => StorageKind::Other,
        };
    }
    match code.parse::<u32>().map(|c| c & 0xff) {
        // SQLITE_FULL
        Ok(13) => StorageKind::DiskFull,
        // SQLITE_READONLY, SQLITE_CANTOPEN
        Ok(8 | 14) => StorageKind::ReadOnly,
        // SQLITE_BUSY, SQLITE_LOCKED: the busy timeout ran out.
        Ok(5 | 6) => StorageKind::Timeout,
        _ => StorageKind::Other,
    }
}

impl From<sqlx::Error> for Failure {
    /// A storage fault, except a clash of keys: the sandbox inserts only records it has never
    /// stored, so a clash is a bug (an id scheme that ran out, say). It fails loudly, as an
    /// internal error with the cause in the log, and overwrites nothing.
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(e) = &error
            && e.is_unique_violation()
        {
            tracing::error!(%error, "a new record's key clashed with a stored one; nothing was written");
            return Self::Internal;
        }
        Self::Storage(error.into())
    }
}

impl From<crate::store::documents::DocumentError> for Failure {
    fn from(error: crate::store::documents::DocumentError) -> Self {
        Self::Storage(StorageFault::other(error.to_string()))
    }
}

impl From<serde_json::Error> for Failure {
    fn from(error: serde_json::Error) -> Self {
        Self::Storage(StorageFault::other(format!(
            "a stored document cannot be read: {error}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_codes_name_what_an_operator_can_fix() {
        let cases = [
            ("13", StorageKind::DiskFull),
            ("8", StorageKind::ReadOnly),
            // SQLITE_READONLY_DBMOVED, an extended code.
            ("1032", StorageKind::ReadOnly),
            ("5", StorageKind::Timeout),
            ("517", StorageKind::Timeout),
            ("19", StorageKind::Other),
            ("53100", StorageKind::DiskFull),
            ("25006", StorageKind::ReadOnly),
            ("57014", StorageKind::Timeout),
            ("55P03", StorageKind::Timeout),
            ("57P01", StorageKind::ConnectionLost),
            ("08006", StorageKind::ConnectionLost),
            ("23505", StorageKind::Other),
        ];
        for (code, kind) in cases {
            assert_eq!(kind_of_code(code), kind, "{code}");
        }
        let lost = StorageFault::from(sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        )));
        assert_eq!(lost.kind, StorageKind::ConnectionLost);
        assert_eq!(
            StorageFault::from(sqlx::Error::PoolTimedOut).kind,
            StorageKind::Timeout
        );
    }
}
