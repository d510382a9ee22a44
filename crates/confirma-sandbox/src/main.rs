//! The `confirma-sandbox` binary: serve the sandbox, or drive a running one.

mod cli;

/// mimalloc: a request is a tree of small allocations (its JSON, its typed form), and glibc's
/// malloc and free took a fifth of the CPU of a create.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use confirma_sandbox::{Config, Sandbox};

#[derive(Parser)]
#[command(
    name = "confirma-sandbox",
    version,
    about = "A stateful stand-in for the Confirma Finance Partner API"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: Serve,
}

#[derive(clap::Args)]
struct Serve {
    /// Address to listen on; port 0 picks a free port (the bound address is printed).
    #[arg(
        long,
        env = "CONFIRMA_SANDBOX_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    listen: SocketAddr,
    /// Database file (created if missing); the state survives restarts.
    #[arg(
        long,
        env = "CONFIRMA_SANDBOX_DB",
        default_value = "confirma-sandbox.db"
    )]
    db: PathBuf,
    /// Keep the state in PostgreSQL instead (postgres://user:password@host:port/database);
    /// every sandbox process on one database serves the same sandbox.
    #[arg(long, env = "CONFIRMA_SANDBOX_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Keep everything in memory instead (lost when the process ends).
    #[arg(
        long,
        env = "CONFIRMA_SANDBOX_IN_MEMORY",
        conflicts_with = "database_url"
    )]
    in_memory: bool,
    /// Seed of every generated id and secret.
    #[arg(long, env = "CONFIRMA_SANDBOX_SEED", default_value_t = 1)]
    seed: u64,
    /// Sandbox time at the first start (RFC 3339).
    #[arg(
        long,
        env = "CONFIRMA_SANDBOX_START",
        default_value = "2026-03-02T08:00:00Z"
    )]
    start: DateTime<Utc>,
    /// The partner provisioning token (default: random, generated once per database and kept in
    /// it).
    #[arg(
        long,
        env = "CONFIRMA_SANDBOX_PROVISIONING_TOKEN",
        hide_env_values = true
    )]
    provisioning_token: Option<String>,
    /// The admin token of the /sandbox control API (default: random, kept like the provisioning
    /// token).
    #[arg(long, env = "CONFIRMA_SANDBOX_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Seconds a database statement, lock or group of writes may take before it is given up
    /// and answered 503 (the sandbox then carries on with a fresh connection).
    #[arg(long, env = "CONFIRMA_SANDBOX_STORAGE_TIMEOUT", default_value_t = 30.0,
          value_parser = positive_seconds)]
    storage_timeout: f64,
    /// The most the SQLite database may hold, in MiB: beyond it writes answer 503 as on a full
    /// disk, while reads go on (default: what the disk holds).
    #[arg(long, env = "CONFIRMA_SANDBOX_MAX_DATABASE_MIB", value_parser = clap::value_parser!(u32).range(1..))]
    max_database_mib: Option<u32>,
    /// A token that may create spaces (POST /sandbox/spaces) and do nothing else: for a CI fleet
    /// that must not hold the admin token (default: none; the admin token creates spaces).
    #[arg(long, env = "CONFIRMA_SANDBOX_SPACES_TOKEN", hide_env_values = true)]
    spaces_token: Option<String>,
    /// The most spaces the sandbox holds at once (the default space aside); beyond it, making a
    /// space answers 429.
    #[arg(long, env = "CONFIRMA_SANDBOX_MAX_SPACES", default_value_t = 1_000)]
    max_spaces: u32,
    /// The longest a space may go unused before it is deleted, in seconds (also the default
    /// idle expiry of a new space).
    #[arg(long, env = "CONFIRMA_SANDBOX_SPACE_MAX_IDLE", default_value_t = 86_400.0,
          value_parser = idle_seconds)]
    space_max_idle: f64,
}

/// A number of seconds, at least 1 and at most a year.
fn idle_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if (1.0..=31_536_000.0).contains(&s) => Ok(s),
        _ => Err("a number of seconds from 1 to 31536000 (a year)".into()),
    }
}

/// A number of seconds above zero, at most a day.
fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 86_400.0 => Ok(s),
        _ => Err("a number of seconds above 0 and at most 86400".into()),
    }
}

/// What else the binary does than serve the sandbox.
#[derive(Subcommand)]
enum Command {
    /// Run a validating proxy in front of the real service (or any server of the API): every
    /// exchange passes unchanged and is checked against the spec; what breaks it shows in the
    /// answer's Confirma-Spec-Violations header, the log, /proxy/requests and the drift report
    /// (/proxy/report, and --report FILE on exit).
    Proxy(ProxyArgs),
    /// Manage the spaces of a running sandbox (create, list, fork, delete).
    #[command(subcommand)]
    Space(cli::space::SpaceCommand),
    #[command(flatten)]
    Control(Control),
}

/// Drive a running sandbox through its control API.
#[derive(Subcommand)]
enum Control {
    /// Show the sandbox clock.
    Clock(Target),
    /// Advance the sandbox clock.
    Advance {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 0)]
        days: i64,
        #[arg(long, default_value_t = 0)]
        hours: i64,
        #[arg(long, default_value_t = 0)]
        minutes: i64,
    },
    /// Make the next distribution of an invoice fail.
    FailDistribution {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        client_id: i64,
        #[arg(long)]
        invoice_number: i64,
    },
    /// Simulate a debtor's payment by reference number.
    Pay {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        reference: String,
        #[arg(long)]
        amount: String,
    },
    /// Run a settlement now.
    Settle(Target),
    /// Give a client's token an expiry (omit --at to remove it).
    ExpireToken {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        client_id: i64,
        /// RFC 3339 time, e.g. 2026-03-05T00:00:00Z.
        #[arg(long)]
        at: Option<DateTime<Utc>>,
    },
    /// Reset the sandbox to its seeded state.
    Reset(Target),
}

#[derive(clap::Args)]
struct ProxyArgs {
    /// Where exchanges go: staging, production, or a base URL (https://... or http://...).
    #[arg(long, env = "CONFIRMA_PROXY_UPSTREAM")]
    upstream: confirma_sandbox::proxy::Upstream,
    /// Address to listen on; port 0 picks a free port (the bound address is printed).
    #[arg(long, env = "CONFIRMA_PROXY_LISTEN", default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// A PEM file of the certificate authorities to trust for the upstream instead of the
    /// system's (a private CA).
    #[arg(long, env = "CONFIRMA_PROXY_UPSTREAM_CA")]
    upstream_ca: Option<PathBuf>,
    /// Seconds the upstream may take to start answering, and between two parts of an answer;
    /// past it the proxy answers 504.
    #[arg(long, env = "CONFIRMA_PROXY_UPSTREAM_TIMEOUT", default_value_t = 30.0,
          value_parser = positive_seconds)]
    upstream_timeout: f64,
    /// Answer a request that breaks the spec with the spec's 400 here, never sending it upstream.
    #[arg(long, env = "CONFIRMA_PROXY_REFUSE_INVALID_REQUESTS")]
    refuse_invalid_requests: bool,
    /// Save every exchange as one JSON file (credentials redacted) in this directory.
    #[arg(long, env = "CONFIRMA_PROXY_RECORD")]
    record: Option<PathBuf>,
    /// Write the drift report as Markdown to this file when the proxy stops.
    #[arg(long, env = "CONFIRMA_PROXY_REPORT")]
    report: Option<PathBuf>,
}

#[derive(clap::Args)]
struct Target {
    #[command(flatten)]
    sandbox: cli::SandboxUrl,
    #[arg(long, env = "CONFIRMA_SANDBOX_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Proxy(args)) => proxy(args).await,
        Some(Command::Space(command)) => cli::space::run(command).await,
        Some(Command::Control(control)) => drive(control).await,
    }
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM, the signals a terminal, a container runtime or a CI
/// script stops a server with.
async fn stopped() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminated = async {
        match term.as_mut() {
            Some(term) => {
                term.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminated => {}
    }
    tracing::info!("shutting down after in-flight requests");
}

/// One line per event on stderr; `RUST_LOG` chooses which (default `info`).
fn log_to_stderr() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .compact()
        .init();
}

async fn proxy(args: ProxyArgs) -> anyhow::Result<()> {
    use confirma_sandbox::proxy::{Proxy, ProxyConfig};
    log_to_stderr();
    let upstream_ca = match &args.upstream_ca {
        Some(file) => {
            Some(std::fs::read(file).with_context(|| format!("reading {}", file.display()))?)
        }
        None => None,
    };
    let proxy = Proxy::new(ProxyConfig {
        upstream_ca,
        upstream_timeout: std::time::Duration::from_secs_f64(args.upstream_timeout),
        refuse_invalid_requests: args.refuse_invalid_requests,
        record: args.record.clone(),
        ..ProxyConfig::new(args.upstream.clone())
    })?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("Confirma validating proxy listening on http://{addr}");
    println!("  upstream:                   {}", args.upstream);
    println!("  drift report:               http://{addr}/proxy/report?format=markdown");
    println!("  recent exchanges:           http://{addr}/proxy/requests");
    use std::io::Write;
    std::io::stdout().flush()?;
    confirma_sandbox::serve(
        listener,
        confirma_sandbox::proxy::router(proxy.clone()),
        stopped(),
    )
    .await?;
    if let Some(file) = &args.report {
        std::fs::write(file, proxy.report.markdown())
            .with_context(|| format!("writing the report to {}", file.display()))?;
        println!("drift report written to {}", file.display());
    }
    Ok(())
}

async fn serve(args: Serve) -> anyhow::Result<()> {
    log_to_stderr();
    let config = Config {
        listen: args.listen,
        storage: storage(args.database_url, args.in_memory, args.db)?,
        seed: args.seed,
        start: args.start,
        provisioning_token: args.provisioning_token,
        admin_token: args.admin_token,
        store_limits: confirma_sandbox::StoreLimits {
            timeout: std::time::Duration::from_secs_f64(args.storage_timeout),
            max_database_mib: args.max_database_mib,
        },
        spaces_token: args.spaces_token,
        max_spaces: args.max_spaces,
        space_max_idle: std::time::Duration::from_secs_f64(args.space_max_idle),
    };
    let sandbox = Sandbox::open(config.clone())
        .await
        .context("opening the sandbox")?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    let demo = sandbox
        .demo()
        .await
        .map_err(|e| anyhow::anyhow!("reading the demo client: {}", e.body.message))?;
    println!("Confirma Partner API sandbox listening on http://{addr}");
    println!("  API docs:                   http://{addr}/docs");
    println!(
        "  storage:                    {}",
        config.storage.describe()
    );
    println!(
        "  partner provisioning token: {}",
        sandbox.secrets.provisioning_token
    );
    println!(
        "  admin token (/sandbox):     {}",
        sandbox.secrets.admin_token
    );
    println!(
        "  spaces:                     http://{addr}/sandbox/spaces (POST with the admin token{})",
        if sandbox.secrets.spaces_token.is_some() {
            " or the spaces token"
        } else {
            ""
        }
    );
    // The demo client's token comes last: scripts read the banner up to it.
    if let Some((id, token)) = demo {
        println!("  demo client {id} token:    {token}");
    }
    use std::io::Write;
    std::io::stdout().flush()?;
    let writer = sandbox.writer_stopped();
    confirma_sandbox::serve(listener, confirma_sandbox::router(sandbox), stopped()).await?;
    if let Some(writer) = writer {
        writer.wait().await;
    }
    Ok(())
}

/// Where the state goes: PostgreSQL when a URL is given, memory when asked, else the file.
fn storage(
    database_url: Option<String>,
    in_memory: bool,
    db: PathBuf,
) -> anyhow::Result<confirma_sandbox::Location> {
    use confirma_sandbox::Location;
    Ok(match database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Location::Postgres(url)
        }
        Some(url) => anyhow::bail!(
            "--database-url takes a PostgreSQL URL (postgres://user:password@host:port/database); for an SQLite file use --db, not {}",
            url.split("://").next().unwrap_or("this URL")
        ),
        None if in_memory => Location::Memory,
        None => Location::File(db),
    })
}

async fn drive(control: Control) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let (target, method, path, body) = match control {
        Control::Clock(t) => (t, reqwest::Method::GET, "/sandbox/clock", None),
        Control::Advance {
            target,
            days,
            hours,
            minutes,
        } => (
            target,
            reqwest::Method::POST,
            "/sandbox/clock/advance",
            Some(serde_json::json!({"days": days, "hours": hours, "minutes": minutes})),
        ),
        Control::FailDistribution {
            target,
            client_id,
            invoice_number,
        } => (
            target,
            reqwest::Method::POST,
            "/sandbox/distribution/fail-next",
            Some(serde_json::json!({"clientId": client_id, "invoiceNumber": invoice_number})),
        ),
        Control::Pay {
            target,
            reference,
            amount,
        } => {
            let amount: serde_json::Number = amount
                .parse()
                .context("--amount must be a number such as 250.75")?;
            (
                target,
                reqwest::Method::POST,
                "/sandbox/payments",
                Some(serde_json::json!({"reference": reference, "amount": amount})),
            )
        }
        Control::Settle(t) => (t, reqwest::Method::POST, "/sandbox/settlements/run", None),
        Control::ExpireToken {
            target,
            client_id,
            at,
        } => (
            target,
            reqwest::Method::POST,
            "/sandbox/token/expiry",
            Some(serde_json::json!({"clientId": client_id, "expiresAt": at})),
        ),
        Control::Reset(t) => (t, reqwest::Method::POST, "/sandbox/reset", None),
    };
    let mut request = http
        .request(
            method,
            format!("{}{path}", target.sandbox.url.trim_end_matches('/')),
        )
        .header("x-admin-token", target.admin_token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.context("reaching the sandbox")?;
    let status = response.status();
    let text = response.text().await?;
    println!("{text}");
    if !status.is_success() {
        anyhow::bail!("the sandbox answered {status}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use confirma_sandbox::Location;

    #[test]
    fn the_storage_is_postgres_for_a_url_memory_when_asked_else_the_file() {
        let file = || PathBuf::from("s.db");
        let url = "postgres://u:p@127.0.0.1:5432/cfis".to_string();
        assert_eq!(
            storage(Some(url.clone()), false, file()).unwrap(),
            Location::Postgres(url)
        );
        assert_eq!(storage(None, true, file()).unwrap(), Location::Memory);
        assert_eq!(
            storage(None, false, file()).unwrap(),
            Location::File(file())
        );
        let refused = storage(Some("sqlite://s.db".into()), false, file()).unwrap_err();
        assert!(refused.to_string().contains("use --db"), "{refused}");
    }
}
