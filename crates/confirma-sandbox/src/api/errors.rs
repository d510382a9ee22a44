//! The domain's refusals as the spec's error answers: each kind gets its status.

use confirma_server::{ApiError, FieldProblem, field_problem};

use crate::world::{Failure, Problem, Refusal, StorageKind};

/// What a 503 says, by what is wrong with the storage: nothing of the request was kept, and
/// when to try again.
fn unavailable_message(kind: StorageKind) -> String {
    let what = match kind {
        StorageKind::DiskFull => {
            "The sandbox's database is full; nothing was changed. Try again once its operator has freed space (reads still work)."
        }
        StorageKind::ReadOnly => {
            "The sandbox's database is read-only; nothing was changed. Try again once its operator has made it writable (reads still work)."
        }
        StorageKind::ConnectionLost => {
            "The sandbox lost its connection to its database; nothing was changed. Try again shortly."
        }
        StorageKind::Timeout => {
            "The sandbox's database did not answer in time; nothing was changed. Try again shortly."
        }
        StorageKind::Other => {
            "The sandbox's database did not answer as it should; nothing was changed. Try again shortly."
        }
    };
    what.to_string()
}

fn field(problem: Problem) -> FieldProblem {
    field_problem(problem.path, problem.rule, problem.message)
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Invalid { message, problems } => {
                ApiError::validation(&message, problems.into_iter().map(field).collect())
            }
            Refusal::BusinessRule { message, problems } => ApiError::business_rule(message)
                .with_field_errors(problems.into_iter().map(field).collect()),
            Refusal::NotFound(message) => ApiError::not_found(message),
            Refusal::Unauthenticated(message) => ApiError::unauthorized(message),
        }
    }
}

impl From<Failure> for ApiError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Refused(refusal) => refusal.into(),
            Failure::Storage(fault) => {
                // The writer's health logs an outage once; each answer only at debug level.
                tracing::debug!(error = %fault, "answered 503: the storage failed");
                ApiError::unavailable(unavailable_message(fault.kind))
            }
            Failure::Internal => ApiError::internal(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_refusal_has_its_status_and_keeps_its_fields() {
        let problem = || {
            vec![Problem::business(
                "$.invoice.header.number",
                "is already used",
            )]
        };
        let cases = [
            (Refusal::invalid("bad", problem()), 400, 1),
            (
                Refusal::business_rule("no").with_problems(problem()),
                402,
                1,
            ),
            (Refusal::not_found("none"), 404, 0),
            (Refusal::unauthenticated("who"), 401, 0),
        ];
        for (refusal, status, fields) in cases {
            let message = refusal.to_string();
            let error = ApiError::from(refusal);
            assert_eq!(error.status, status);
            assert_eq!(error.body.message, message);
            assert_eq!(error.body.field_errors.len(), fields);
        }
        let error = ApiError::from(Refusal::business_rule("no").with_problems(problem()));
        assert_eq!(error.body.field_errors[0].path, "$.invoice.header.number");
        assert_eq!(error.body.field_errors[0].code, "business");
    }
}
