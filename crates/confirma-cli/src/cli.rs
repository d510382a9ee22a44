//! The command line: global options and one subcommand per operation of the spec, plus the
//! support commands. A test below holds the subcommands to the spec's operationIds.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use chrono::NaiveDate;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use confirma_client::types::{DistributionMethod, DistributionStatus, FetchType};
use confirma_client::{ApiKey, Environment, SANDBOX_URL};

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
    /// Pretty-printed JSON, exactly as the API sent it (amounts keep their decimals).
    Json,
    /// One row per record with the most useful columns.
    Table,
}

/// The subcommands. The first block mirrors the spec's operations one to one; the last ones are
/// shortcuts that combine operations.
#[derive(Subcommand)]
pub enum Command {
    /// Create a new client (onboarding; the key is the partner provisioning token).
    CreateClient(Body),
    /// Validate the access token.
    ValidateToken,
    /// Renew the access token; prints the new token. The old one stops working: store it.
    RenewToken,
    /// Create (submit) an invoice.
    CreateInvoice(Body),
    /// Queue actions on invoices or agency cases (comment, due date, withdraw, ...).
    CreateInvoiceActions(Body),
    /// Retrieve case details by case id or invoice number.
    GetCaseDetails(CaseQuery),
    /// Retrieve distribution information (last 30 days without dates).
    GetDistributionInformation(DistributionQuery),
    /// Retrieve distribution information, one page (v2).
    GetDistributionInformationV2(DistributionV2Query),
    /// Retrieve payments (last 30 days without dates).
    GetPayments(PaymentsQuery),
    /// Retrieve settlements (last 30 days without dates).
    GetSettlements(SettlementsQuery),
    /// Submit invoices to the client's accounting system.
    SubmitAccountingInvoice(Body),
    /// Submit a ledger document to the client's accounting system.
    SubmitLedger(Body),
    /// Retrieve ledger sync status (an empty answer is an empty list).
    GetLedgerStatus(LedgerStatusQuery),
    /// Submit payments to the client's accounting system.
    SubmitAccountingPayments(Body),
    /// Retrieve accounting payment sync status (an empty answer is an empty list).
    GetAccountingPaymentStatus(AccountingPaymentStatusQuery),
    /// Look up a company's registered e-invoice addresses (Finvoice registry).
    GetFinvoiceCredentials(FinvoiceQuery),

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

/// A request body.
#[derive(Args)]
pub struct Body {
    /// JSON request body: a file, or `-` for standard input. Sent as it is: the API checks it
    /// and reports every problem with its path.
    #[arg(long, value_name = "FILE", required_unless_present = "body_template")]
    pub body: Option<PathBuf>,
    /// Print the spec's example body of this operation (a starting point for --body) and exit.
    #[arg(long, conflicts_with = "body")]
    pub body_template: bool,
}

#[derive(Args)]
pub struct CaseQuery {
    /// Agency case identifier.
    #[arg(long)]
    pub case_id: Option<i64>,
    /// Invoice number.
    #[arg(long)]
    pub invoice_number: Option<i64>,
}

#[derive(Args)]
pub struct DistributionQuery {
    /// Only the record of this invoice.
    #[arg(long)]
    pub invoice_number: Option<i64>,
    /// First invoice date to include (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from_inv_date: Option<NaiveDate>,
    /// Last invoice date to include (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to_inv_date: Option<NaiveDate>,
    /// Which records to return.
    #[arg(long, value_parser = spec_enum::<FetchType>())]
    pub fetch_type: Option<FetchType>,
}

#[derive(Args)]
pub struct DistributionV2Query {
    #[command(flatten)]
    pub filters: DistributionQuery,
    /// Only records with this distribution status.
    #[arg(long, value_parser = spec_enum::<DistributionStatus>())]
    pub status: Option<DistributionStatus>,
    /// Only records distributed with this method.
    #[arg(long, value_parser = spec_enum::<DistributionMethod>())]
    pub method: Option<DistributionMethod>,
    /// Page number, from 1.
    #[arg(long)]
    pub page: Option<u32>,
    /// Records per page (1-500).
    #[arg(long)]
    pub page_size: Option<u32>,
}

#[derive(Args)]
pub struct PaymentsQuery {
    /// Start of the payment-date interval (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from_date: Option<NaiveDate>,
    /// End of the payment-date interval (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to_date: Option<NaiveDate>,
    /// Only payments of this invoice.
    #[arg(long)]
    pub invoice_number: Option<String>,
    /// Only payments of this agency case.
    #[arg(long)]
    pub case_id: Option<i64>,
}

#[derive(Args)]
pub struct SettlementsQuery {
    /// Start of the settlement-date period (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from_date: Option<NaiveDate>,
    /// End of the settlement-date period (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to_date: Option<NaiveDate>,
    /// Only settlements this integration has not fetched before (marks them fetched).
    #[arg(long)]
    pub unfetched_only: bool,
}

#[derive(Args)]
pub struct LedgerStatusQuery {
    /// Only documents dated on or after (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from_date: Option<NaiveDate>,
    /// Only documents dated on or before (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to_date: Option<NaiveDate>,
    /// Only this submitted ledger document.
    #[arg(long)]
    pub ledger_identifier: Option<String>,
}

#[derive(Args)]
pub struct AccountingPaymentStatusQuery {
    /// Only payments dated on or after (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from_date: Option<NaiveDate>,
    /// Only payments dated on or before (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to_date: Option<NaiveDate>,
    /// Only this submitted payment.
    #[arg(long)]
    pub payment_identifier: Option<String>,
}

#[derive(Args)]
pub struct FinvoiceQuery {
    /// Finnish Business ID (Y-tunnus), e.g. 3120495-4.
    #[arg(long)]
    pub business_id: String,
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

/// Accepts exactly the values of one of the spec's enums, read from the generated type's JSON
/// Schema so that `--help` lists them and a new value needs no change here.
fn spec_enum<T>() -> impl TypedValueParser<Value = T>
where
    T: schemars::JsonSchema + FromStr + Clone + Send + Sync + 'static,
{
    let schema = schemars::schema_for!(T);
    let values: Vec<String> = schema
        .schema
        .enum_values
        .iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    PossibleValuesParser::new(values).map(|value| {
        value
            .parse::<T>()
            .unwrap_or_else(|_| unreachable!("`{value}` is one of the type's own values"))
    })
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
             Add a variant to `Command` in crates/confirma-cli/src/cli.rs and its arm in src/ops.rs.",
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
