//! Fault injection for partners' retry and timeout code (what Prism's `Prefer` header and
//! WireMock's faults offer): `POST /sandbox/faults` makes the next calls of an operation fail with
//! a status (in the error format, with `Retry-After` if asked) or stall first; `DELETE` clears
//! them. Faults live in memory only: they are about this process's answers, not the world's state.

use std::sync::Mutex;

use confirma_server::{ApiError, OPERATIONS};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The longest stall a fault may ask for.
const MAX_DELAY_MS: u64 = 60_000;
/// The most calls one fault may affect.
const MAX_TIMES: u32 = 1_000;

/// One injected fault: the next `times` calls of `operation` stall `delayMs`, then fail with
/// `status` (when given) or go through.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    /// The operationId of a Partner API operation, e.g. `getPayments`.
    pub operation: String,
    /// The status to answer with (400-599), in the error format; none: only stall.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// How many of the next matching calls are affected (default 1).
    #[serde(default = "one")]
    pub times: u32,
    /// `Retry-After` (in seconds) on the failing answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u32>,
    /// Milliseconds to wait before answering (or before the real answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

fn one() -> u32 {
    1
}

impl Fault {
    /// The fault as given, or why it cannot be injected (400).
    pub fn checked(self) -> Result<Self, ApiError> {
        let problem = |path: &str, message: String| {
            Err(ApiError::validation(
                "The fault cannot be injected.",
                vec![confirma_server::field_problem(path, "business", message)],
            ))
        };
        if !OPERATIONS
            .iter()
            .any(|op| op.operation_id == self.operation)
        {
            return problem(
                "$.operation",
                "is not an operationId of the Partner API".into(),
            );
        }
        if self.status.is_some_and(|s| !(400..=599).contains(&s)) {
            return problem("$.status", "must be between 400 and 599".into());
        }
        if self.status.is_none() && self.delay_ms.is_none() {
            return problem("$.status", "give a status, a delayMs, or both".into());
        }
        if !(1..=MAX_TIMES).contains(&self.times) {
            return problem("$.times", format!("must be between 1 and {MAX_TIMES}"));
        }
        if self.delay_ms.is_some_and(|d| d > MAX_DELAY_MS) {
            return problem("$.delayMs", format!("must be at most {MAX_DELAY_MS}"));
        }
        Ok(self)
    }
}

/// The faults waiting for their calls.
#[derive(Debug, Default)]
pub struct Faults(Mutex<Vec<Fault>>);

impl Faults {
    pub fn add(&self, fault: Fault) {
        self.lock().push(fault);
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn list(&self) -> Vec<Fault> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one call from the first fault for `operation`, if there is one.
    pub(crate) fn take(&self, operation: &str) -> Option<Fault> {
        let mut faults = self.lock();
        let index = faults.iter().position(|f| f.operation == operation)?;
        let fault = faults[index].clone();
        faults[index].times -= 1;
        if faults[index].times == 0 {
            faults.remove(index);
        }
        Some(fault)
    }
}
