//! The command line: global options, the generated subcommand of every operation of the spec
//! (`generated.rs`), and the shortcuts. A test below holds the subcommands to the spec's
//! operationIds.

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use confirma_client::{ApiKey, Environment, SANDBOX_URL};

use crate::generated::OperationCommand;

const EXIT_CODES: &str = "\
Environment:
  CONFIRMA_ENV       where the API is, as --env: staging, production, sandbox or a base URL
  CONFIRMA_BASE_URL  a base URL, used when CONFIRMA_ENV and --env are not set
  CONFIRMA_API_KEY   the access token (or the provisioning token for create-client)
Without either, requests go to the local sandbox (http://127.0.0.1:8080).

Exit codes:
  0  success
  1  wait-distributed: the distribution failed
  2  usage error (bad arguments, an unreadable --body, no API key)
  3  the API rejected the request (4xx)
  4  the service failed (5xx) or could not be reached
  5  wait-distributed: timed out before the distribution was final";

/// The Confirma Finance Partner API on the command line.
///
/// Every operation of the API is a subcommand named after its operationId (`createInvoice` is
/// `confirma create-invoice`). Answers are printed as pretty JSON, or as a compact table for list
/// operations with `--output table`.
#[derive(Parser)]
#[command(name = "confirma", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

const GLOBAL: &str = "Global options";

/// Options every subcommand takes, each on one help line (`confirma --help` explains more).
#[derive(Args)]
pub struct Global {
    /// staging, production, sandbox or a base URL [default: the local sandbox]
    #[arg(
        long,
        global = true,
        value_name = "ENV",
        env = "CONFIRMA_ENV",
        hide_env_values = true,
        help_heading = GLOBAL
    )]
    pub env: Option<Environment>,

    /// The base URL, when --env is not given (the client examples' variable)
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "CONFIRMA_BASE_URL",
        hide_env_values = true,
        help_heading = GLOBAL
    )]
    pub base_url: Option<Environment>,

    /// Access token sent as X-Api-Key (prefer the variable: flags show in `ps`)
    #[arg(
        long,
        global = true,
        value_name = "KEY",
        env = "CONFIRMA_API_KEY",
        hide_env_values = true,
        value_parser = parse_key,
        help_heading = GLOBAL,
    )]
    pub api_key: Option<ApiKey>,

    /// json, or table for list operations
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t = Output::Json,
        hide_possible_values = true,
        help_heading = GLOBAL
    )]
    pub output: Output,
}

impl Global {
    /// Where to send requests: `--env` (or `CONFIRMA_ENV`), else `--base-url` (or
    /// `CONFIRMA_BASE_URL`), else the local sandbox.
    pub fn environment(&self) -> Environment {
        self.env
            .clone()
            .or_else(|| self.base_url.clone())
            .unwrap_or_else(|| SANDBOX_URL.parse().expect("the sandbox URL is valid"))
    }
}

fn parse_key(key: &str) -> Result<ApiKey, std::convert::Infallible> {
    Ok(ApiKey::new(key))
}

/// How answers are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Pretty-printed JSON of the API's answer: every field it sent, keys in name order, amounts
    /// with their decimals.
    Json,
    /// One row per record with the most useful columns.
    Table,
}

/// The subcommands: one per operation of the spec (generated, in `generated.rs`), then the
/// shortcuts that combine operations.
#[derive(Subcommand)]
pub enum Command {
    #[command(flatten)]
    Operation(OperationCommand),

    /// Wait until an invoice's distribution is final (SENT, DELIVERED or FAILED).
    ///
    /// Polls the distribution information and prints the invoice's record when its status is
    /// final. Shows progress on a terminal, nothing when piped. Exits 0 when the invoice was sent
    /// or delivered, 1 when its distribution failed, 5 when the timeout passes first.
    WaitDistributed(WaitDistributed),
    /// What happened to an invoice: its distribution record(s) and, if there is an agency case,
    /// the case summary and balance.
    InvoiceStatus(InvoiceStatus),
}

#[derive(Args)]
pub struct WaitDistributed {
    /// The invoice to wait for.
    #[arg(long)]
    pub invoice_number: i64,
    /// Give up after this long (e.g. 90s, 5m, 500ms; a bare number is seconds).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Time between two polls.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub interval: Duration,
}

#[derive(Args)]
pub struct InvoiceStatus {
    /// The invoice number.
    pub invoice_number: i64,
}

/// `90s`, `5m`, `500ms`, `1h`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (e.g. 90s, 5m, 500ms)"))?;
    match unit {
        "" | "s" => Ok(Duration::from_secs(number)),
        "ms" => Ok(Duration::from_millis(number)),
        "m" => Ok(Duration::from_secs(number.saturating_mul(60))),
        "h" => Ok(Duration::from_secs(number.saturating_mul(3600))),
        _ => Err(format!(
            "unknown unit `{unit}` in `{text}` (use ms, s, m or h)"
        )),
    }
}

/// The subcommands that are not operations of the spec.
#[cfg(test)]
const SHORTCUTS: &[&str] = &["wait-distributed", "invoice-status"];

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::collections::BTreeSet;

    fn spec_operations() -> BTreeSet<String> {
        // The spec as JSON, as `cargo xtask codegen` writes it (its drift check keeps it equal).
        let spec: serde_json::Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../confirma-server/src/generated/openapi.json"
        )))
        .expect("the spec parses");
        let mut ids = BTreeSet::new();
        for item in spec["paths"].as_object().expect("paths").values() {
            for operation in item.as_object().expect("path item").values() {
                if let Some(id) = operation["operationId"].as_str() {
                    ids.insert(id.to_string());
                }
            }
        }
        // A parser that found nothing would make the test below pass vacuously.
        assert!(
            ids.contains("createInvoice"),
            "no operations found: {ids:?}"
        );
        ids
    }

    #[test]
    fn every_operation_of_the_spec_has_a_subcommand() {
        let command = Cli::command();
        let subcommands: BTreeSet<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
        let mut missing = Vec::new();
        let mut operations = BTreeSet::new();
        for id in spec_operations() {
            let name = heck::AsKebabCase(&id).to_string();
            if !subcommands.contains(name.as_str()) {
                missing.push(format!("`{id}` → `confirma {name}`"));
            }
            operations.insert(name);
        }
        assert!(
            missing.is_empty(),
            "operations of openapi/partner-api.yaml without a subcommand: {}.\n\
             Run `cargo xtask codegen`.",
            missing.join(", ")
        );
        let unknown: Vec<&str> = subcommands
            .iter()
            .copied()
            .filter(|name| !operations.contains(*name) && !SHORTCUTS.contains(name))
            .collect();
        assert!(
            unknown.is_empty(),
            "subcommands that match no operation of the spec: {unknown:?}; \
             remove them or list them in SHORTCUTS"
        );
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn enum_flags_list_the_spec_values() {
        let command = Cli::command();
        let v2 = command
            .find_subcommand("get-distribution-information-v2")
            .unwrap();
        let status = v2.get_arguments().find(|a| a.get_id() == "status").unwrap();
        let values: Vec<String> = status
            .get_possible_values()
            .iter()
            .map(|v| v.get_name().to_string())
            .collect();
        assert_eq!(
            values,
            ["PENDING", "PROCESSING", "SENT", "DELIVERED", "FAILED"]
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 days").is_err());
        assert!(parse_duration("").is_err());
    }
}
