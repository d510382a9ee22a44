//! `confirma-sandbox space create|list|get|fork|delete`: spaces of a running sandbox, printed as
//! the sandbox's banner prints its own tokens (or as JSON with `--json`).

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Subcommand;
use confirma_sandbox::remote::{CreateSpace, ForkSpace, Remote, Space, SpaceCreated};

/// Manage the spaces of a running sandbox: isolated sandboxes inside it, each with its own
/// clock, data, faults, journal and tokens.
#[derive(Subcommand)]
pub enum SpaceCommand {
    /// Make a space; prints its id, tokens and demo client.
    Create {
        #[command(flatten)]
        target: Target,
        /// A name to recognise it by (default: its id).
        #[arg(long)]
        name: Option<String>,
        /// Its clock's start, RFC 3339 (default: the sandbox's --start).
        #[arg(long)]
        start: Option<DateTime<Utc>>,
        /// The seed behind its ids (default: the sandbox's --seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Start without the demo client and its invoices.
        #[arg(long)]
        no_demo: bool,
        /// Seconds it may go unused before it is deleted (default and at most: the sandbox's
        /// --space-max-idle).
        #[arg(long)]
        idle_expiry_seconds: Option<i64>,
        /// Print the sandbox's JSON answer instead.
        #[arg(long)]
        json: bool,
    },
    /// List the spaces the token sees (all for the sandbox admin token, its own for a space's).
    List {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        json: bool,
    },
    /// Make a new space holding a copy of SPACE_ID as it is now, with new tokens.
    Fork {
        #[command(flatten)]
        target: Target,
        /// `sp_` and 16 hex digits, or `default`.
        space_id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        idle_expiry_seconds: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Delete SPACE_ID and everything in it.
    Delete {
        #[command(flatten)]
        target: Target,
        space_id: String,
    },
}

/// The sandbox and the token to call it with.
#[derive(clap::Args)]
pub struct Target {
    #[command(flatten)]
    sandbox: super::SandboxUrl,
    /// The sandbox admin token, or a space's admin token.
    #[arg(long, env = "CONFIRMA_SANDBOX_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// The spaces token (it only makes spaces: `create` uses it before the admin token).
    #[arg(long, env = "CONFIRMA_SANDBOX_SPACES_TOKEN", hide_env_values = true)]
    spaces_token: Option<String>,
}

impl Target {
    fn admin(&self) -> anyhow::Result<Remote> {
        let token = self.admin_token.as_deref().context(
            "give --admin-token (or CONFIRMA_SANDBOX_ADMIN_TOKEN): the sandbox's, or the space's",
        )?;
        Ok(Remote::new(&self.sandbox.url, token))
    }

    fn creator(&self) -> anyhow::Result<Remote> {
        match &self.spaces_token {
            Some(token) => Ok(Remote::new(&self.sandbox.url, token)),
            None => self.admin(),
        }
    }
}

pub async fn run(command: SpaceCommand) -> anyhow::Result<()> {
    match command {
        SpaceCommand::Create {
            target,
            name,
            start,
            seed,
            no_demo,
            idle_expiry_seconds,
            json,
        } => {
            let made = target
                .creator()?
                .create_space(&CreateSpace {
                    name,
                    start,
                    seed,
                    demo: Some(!no_demo),
                    idle_expiry_seconds,
                })
                .await?;
            print_made(&made, target.sandbox.url.trim_end_matches('/'), json)
        }
        SpaceCommand::List { target, json } => {
            let spaces = target.admin()?.spaces().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&spaces)?);
            } else {
                print_list(&spaces);
            }
            Ok(())
        }
        SpaceCommand::Fork {
            target,
            space_id,
            name,
            idle_expiry_seconds,
            json,
        } => {
            let made = target
                .admin()?
                .fork_space(
                    &space_id,
                    &ForkSpace {
                        name,
                        idle_expiry_seconds,
                    },
                )
                .await?;
            print_made(&made, target.sandbox.url.trim_end_matches('/'), json)
        }
        SpaceCommand::Delete { target, space_id } => {
            target.admin()?.delete_space(&space_id).await?;
            println!("Space {space_id} deleted");
            Ok(())
        }
    }
}

/// A space just made, as the banner shows a sandbox: the demo client's token last (scripts read
/// up to it).
fn print_made(made: &SpaceCreated, url: &str, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(made)?);
        return Ok(());
    }
    println!("Space {} ({}) on {url}", made.space_id, made.name);
    println!("  sandbox time:               {}", made.now.to_rfc3339());
    println!("  partner provisioning token: {}", made.provisioning_token);
    println!("  admin token (/sandbox):     {}", made.admin_token);
    println!(
        "  deleted if unused until:    {} (idle expiry {} s)",
        made.expires_at.to_rfc3339(),
        made.idle_expiry_seconds
    );
    let demo = made.demo_client.as_ref().map(|d| d.client_id);
    for client in made.clients.iter().flatten() {
        if Some(client.client_id) != demo {
            println!(
                "  client {} token:         {}",
                client.client_id, client.access_token
            );
        }
    }
    if let Some(demo) = &made.demo_client {
        println!(
            "  demo client {} token:    {}",
            demo.client_id, demo.access_token
        );
    }
    Ok(())
}

fn print_list(spaces: &[Space]) {
    if spaces.is_empty() {
        println!("No spaces.");
        return;
    }
    println!(
        "{:<20}  {:<25}  {:<20}  name",
        "space", "deleted if unused until", "start"
    );
    for space in spaces {
        println!(
            "{:<20}  {:<25}  {:<20}  {}",
            space.space_id,
            space
                .expires_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            space
                .start
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            space.name
        );
    }
}
