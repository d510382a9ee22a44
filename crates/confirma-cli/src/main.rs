//! `confirma`: the Confirma Finance Partner API on the command line.
//!
//! `cli.rs` declares the command line around `generated.rs` (one subcommand per operation of the
//! spec, written by `cargo xtask codegen`), `body.rs` reads `--body`, `ops.rs` sends an operation,
//! `support.rs` runs the shortcuts that combine operations, `output.rs` prints.

mod body;
mod cli;
#[rustfmt::skip]
#[allow(clippy::all)]
mod generated;
mod ops;
mod output;
mod support;

use std::process::ExitCode;

use clap::Parser;
use confirma_client::{ApiError, Client};

use crate::cli::{Cli, Command};

/// Why a command did not succeed, and so how the process exits.
pub enum Failure {
    /// Bad input that clap could not catch (an unreadable body, no key): exit 2.
    Usage(String),
    /// The API call failed: exit 3 for a 4xx answer, 4 for anything else, 2 for a request the
    /// client refused to send.
    Api(ApiError),
    /// A command-specific outcome with its own exit code and message (see `wait-distributed`).
    Outcome { code: u8, message: String },
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            Self::Api(ApiError::InvalidRequest(_)) => 2,
            Self::Api(error) if error.is_client_error() => 3,
            Self::Api(_) => 4,
            Self::Outcome { code, .. } => *code,
        }
    }

    /// The message for standard error: the error, then the API's field problems one per line
    /// with their JSON path, then the request id to quote to support.
    fn report(&self) -> String {
        match self {
            Self::Usage(message) | Self::Outcome { message, .. } => format!("error: {message}\n"),
            Self::Api(error) => {
                // The error's own message already shows its direct source; add the deeper
                // causes ("Connection refused", "dns error: ...") that reqwest keeps there.
                // The field problems follow one per line, so the first line leaves them out.
                let mut text = match error {
                    ApiError::Api { status, body } => {
                        format!("error: {status}: {} ({})", body.message, body.code)
                    }
                    other => format!("error: {other}"),
                };
                let mut cause = std::error::Error::source(error).and_then(|s| s.source());
                while let Some(source) = cause {
                    text.push_str(&format!(": {source}"));
                    cause = source.source();
                }
                text.push('\n');
                for problem in error.field_errors() {
                    text.push_str(&format!("  {}: {}\n", problem.path, problem.message));
                }
                if let Some(id) = error.request_id() {
                    text.push_str(&format!("request id: {id}\n"));
                }
                text
            }
        }
    }
}

fn main() -> ExitCode {
    // Usage errors exit with clap's code 2, and `--help`/`--version` with 0.
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(4);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprint!("{}", failure.report());
            ExitCode::from(failure.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    // A body template needs neither a key nor the network.
    if let Command::Operation(op) = &cli.command
        && let Some(template) = ops::body_template(op)
    {
        println!("{template}");
        return Ok(());
    }
    let environment = cli.global.environment();
    let Some(key) = cli.global.api_key else {
        return Err(Failure::Usage(
            "no API key: set CONFIRMA_API_KEY or pass --api-key".into(),
        ));
    };
    let client = Client::builder(environment, key)
        .user_agent(concat!("confirma-cli/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let out = cli.global.output;
    match cli.command {
        Command::Operation(op) => ops::run(&client, op, out).await,
        Command::WaitDistributed(args) => support::wait_distributed(&client, args, out).await,
        Command::InvoiceStatus(args) => support::invoice_status(&client, args, out).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confirma_client::types::{ErrorCode, ErrorResponse, FieldError};
    use reqwest::StatusCode;

    fn api(status: u16, field_errors: Vec<FieldError>) -> Failure {
        Failure::Api(ApiError::Api {
            status: StatusCode::from_u16(status).unwrap(),
            body: ErrorResponse {
                code: ErrorCode::ValidationFailed,
                message: "The request body failed validation (2 errors).".into(),
                field_errors,
                request_id: Some("req-7".into()),
            },
        })
    }

    #[test]
    fn exit_codes_tell_usage_client_and_service_failures_apart() {
        assert_eq!(Failure::Usage("x".into()).exit_code(), 2);
        assert_eq!(
            Failure::Api(ApiError::InvalidRequest("x".into())).exit_code(),
            2
        );
        for status in [400, 401, 402, 403, 404, 429] {
            assert_eq!(api(status, vec![]).exit_code(), 3, "{status}");
        }
        for status in [500, 502, 503] {
            assert_eq!(api(status, vec![]).exit_code(), 4, "{status}");
        }
        let unexpected = |status| ApiError::UnexpectedResponse {
            status: StatusCode::from_u16(status).unwrap(),
            body: String::new(),
        };
        assert_eq!(Failure::Api(unexpected(418)).exit_code(), 3);
        assert_eq!(Failure::Api(unexpected(502)).exit_code(), 4);
    }

    #[test]
    fn field_problems_are_listed_one_per_line() {
        let problem = |path: &str, message: &str| FieldError {
            path: path.into(),
            code: "format".into(),
            message: message.into(),
        };
        let report = api(
            400,
            vec![
                problem("$.invoice.header.dueDate", "must be a date"),
                problem("$.actions[1].data.caseId", "case is closed"),
            ],
        )
        .report();
        assert_eq!(
            report,
            "error: 400 Bad Request: The request body failed validation (2 errors). (VALIDATION_FAILED)\n\
             \x20 $.invoice.header.dueDate: must be a date\n\
             \x20 $.actions[1].data.caseId: case is closed\n\
             request id: req-7\n"
        );
    }
}
