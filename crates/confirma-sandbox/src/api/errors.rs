//! The domain's refusals as the spec's error answers: each kind gets its status.

use confirma_server::{ApiError, FieldProblem, field_problem};

use crate::world::{Failure, Problem, Refusal};

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
            Failure::Storage(error) => {
                tracing::error!(%error, "the database failed; nothing was changed");
                ApiError::unavailable(
                    "The sandbox's database did not answer as it should; nothing was changed. Try again shortly.",
                )
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
