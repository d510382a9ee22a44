//! A space of the sandbox for one test of a partner's own suite (feature `testing`).
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use confirma_sandbox::testing::Space;
//!
//! // In-process on a free loopback port, in memory; or, with CONFIRMA_SANDBOX_URL and
//! // CONFIRMA_SANDBOX_SPACES_TOKEN set, a new space on that shared sandbox.
//! let space = Space::new().await?;
//! let client = space.client(); // the demo client's confirma_client::Client
//! let accepted = client.validate_token().send().await?;
//! space.advance_days(20).await?; // this space's clock only
//! # Ok(()) }
//! ```
//!
//! Each `Space` is a whole sandbox of its own: its clock, data, faults and journal reach no other
//! test. Dropping it deletes the space (and stops an in-process sandbox); a space left behind by
//! a killed test run expires on its own after an hour unused.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use confirma_client::{ApiKey, Client, Environment};

use crate::remote::{
    Advance, Advanced, CreateSpace, ForkSpace, IncomingPayment, PaymentCredited, Remote,
    SpaceCreated,
};
pub use crate::remote::{Fault, RemoteError};
use crate::{Config, Location, Sandbox};

/// The shared sandbox to make spaces on (unset: each `Space` starts one in-process).
pub const URL_VARIABLE: &str = "CONFIRMA_SANDBOX_URL";
/// The token that makes spaces there: the spaces token (or its admin token).
pub const TOKEN_VARIABLE: &str = "CONFIRMA_SANDBOX_SPACES_TOKEN";

/// How long a space of a test may stay unused before the sandbox deletes it, should its test
/// never get to.
const IDLE_EXPIRY_SECONDS: i64 = 3600;

/// One test's space: its clients, and the control calls of its own clock and faults.
pub struct Space {
    made: SpaceCreated,
    /// The control API, with the space's admin token.
    control: Remote,
    /// The sandbox started in this process for this space (and its forks), if it was.
    own: Option<Arc<InProcess>>,
    deleted: bool,
}

/// A sandbox in this process, served until dropped.
struct InProcess {
    sandbox: Arc<Sandbox>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Space {
    /// A space on the sandbox that `CONFIRMA_SANDBOX_URL` names (made with
    /// `CONFIRMA_SANDBOX_SPACES_TOKEN`), or else on a sandbox started in this process.
    pub async fn new() -> anyhow::Result<Self> {
        match std::env::var(URL_VARIABLE) {
            Ok(url) if !url.is_empty() => {
                let token = std::env::var(TOKEN_VARIABLE).map_err(|_| {
                    anyhow::anyhow!("{URL_VARIABLE} is set: set {TOKEN_VARIABLE} too (the sandbox's --spaces-token)")
                })?;
                Self::shared(&url, &token).await
            }
            _ => Self::in_process().await,
        }
    }

    /// A space on a sandbox started in this process, on a free loopback port, in memory.
    pub async fn in_process() -> anyhow::Result<Self> {
        let sandbox = Sandbox::open(Config {
            storage: Location::Memory,
            provisioning_token: None,
            admin_token: None,
            spaces_token: None,
            ..Config::for_tests()
        })
        .await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = crate::router(sandbox.clone());
        let server = tokio::spawn(async move {
            let _ = crate::serve(listener, app, std::future::pending()).await;
        });
        let own = InProcess {
            sandbox: sandbox.clone(),
            server,
        };
        let mut space = Self::shared(&url, &sandbox.secrets.admin_token).await?;
        space.own = Some(Arc::new(own));
        Ok(space)
    }

    /// A new space on the running sandbox at `url`, made with `token` (its spaces token or
    /// admin token).
    pub async fn shared(url: &str, token: &str) -> anyhow::Result<Self> {
        let remote = Remote::new(url, token);
        let made = remote
            .create_space(&CreateSpace {
                idle_expiry_seconds: Some(IDLE_EXPIRY_SECONDS),
                ..CreateSpace::default()
            })
            .await?;
        Ok(Self::of(remote, made))
    }

    fn of(remote: Remote, made: SpaceCreated) -> Self {
        Self {
            control: remote.with_token(&made.admin_token),
            made,
            own: None,
            deleted: false,
        }
    }

    /// `sp_` and 16 hex digits.
    pub fn id(&self) -> &str {
        &self.made.space_id
    }

    /// The sandbox's base URL.
    pub fn url(&self) -> &str {
        self.control.url()
    }

    /// What the sandbox answered when it made the space: its tokens, the demo client, a fork's
    /// clients.
    pub fn made(&self) -> &SpaceCreated {
        &self.made
    }

    /// A client of the space's demo client.
    pub fn client(&self) -> Client {
        let demo = self
            .made
            .demo_client
            .as_ref()
            .expect("spaces made by Space have the demo client");
        self.client_with(&demo.access_token)
    }

    /// The demo client's id.
    pub fn demo_client_id(&self) -> i64 {
        self.made.demo_client.as_ref().map_or(0, |d| d.client_id)
    }

    /// A client calling with `token` (a token of this space's clients), set up as
    /// `Client::connect` sets one up for a partner (timeouts, retries).
    pub fn client_with(&self, token: &str) -> Client {
        let url = confirma_client::reqwest::Url::parse(self.url()).expect("the sandbox's URL");
        Client::connect(Environment::Custom(url), ApiKey::new(token))
            .expect("a client for a loopback URL")
    }

    /// A client with the space's partner provisioning token (onboarding only).
    pub fn provisioning_client(&self) -> Client {
        self.client_with(&self.made.provisioning_token)
    }

    /// The space's control API (its admin token), for calls this type does not wrap.
    pub fn control(&self) -> &Remote {
        &self.control
    }

    /// The space's clock.
    pub async fn now(&self) -> Result<DateTime<Utc>, RemoteError> {
        self.control.now().await
    }

    /// Moves the space's clock on by `days`; everything due on the way happens.
    pub async fn advance_days(&self, days: i64) -> Result<Advanced, RemoteError> {
        self.control
            .advance(&Advance {
                days,
                ..Advance::default()
            })
            .await
    }

    /// A debtor's payment of `amount` by `reference`.
    pub async fn pay(
        &self,
        reference: &str,
        amount: rust_decimal::Decimal,
    ) -> Result<PaymentCredited, RemoteError> {
        self.control
            .pay(&IncomingPayment {
                reference: reference.to_string(),
                amount,
                date: None,
                payer: None,
            })
            .await
    }

    /// Runs a settlement now.
    pub async fn settle(&self) -> Result<DateTime<Utc>, RemoteError> {
        self.control.settle().await
    }

    /// The next distribution of the client's invoice fails.
    pub async fn fail_next_distribution(
        &self,
        client_id: i64,
        invoice_number: i64,
    ) -> Result<(), RemoteError> {
        self.control
            .fail_next_distribution(client_id, invoice_number)
            .await
    }

    /// The next `times` calls of `operation` (an operationId) answer `status`.
    pub async fn fail_next_calls(
        &self,
        operation: &str,
        status: u16,
        times: u32,
    ) -> Result<(), RemoteError> {
        self.control
            .inject(&Fault {
                operation: operation.to_string(),
                status: Some(status),
                times,
                retry_after_seconds: None,
                delay_ms: None,
            })
            .await
            .map(drop)
    }

    /// Adds any fault (a stall, a `Retry-After`).
    pub async fn inject(&self, fault: &Fault) -> Result<(), RemoteError> {
        self.control.inject(fault).await.map(drop)
    }

    pub async fn clear_faults(&self) -> Result<(), RemoteError> {
        self.control.clear_faults().await
    }

    /// A new space holding a copy of this one as it is now (deleted when dropped, like this one).
    pub async fn fork(&self) -> Result<Space, RemoteError> {
        let made = self
            .control
            .fork_space(self.id(), &ForkSpace::default())
            .await?;
        let mut fork = Self::of(self.control.clone(), made);
        fork.own = self.own.clone();
        Ok(fork)
    }

    /// Deletes the space now (dropping it does the same, without saying how it went).
    pub async fn delete(mut self) -> Result<(), RemoteError> {
        self.deleted = true;
        self.control.delete_space(self.id()).await
    }
}

impl Drop for Space {
    /// Deletes the space: on a sandbox of this process, by a task of the test's runtime (the
    /// sandbox stops with its last space anyway); on a shared one, on a thread of its own (a
    /// test's runtime may be shutting down, or have one thread only), waiting for the answer.
    fn drop(&mut self) {
        if self.deleted {
            return;
        }
        if let Some(own) = &self.own {
            if let (Ok(runtime), Ok(space)) = (
                tokio::runtime::Handle::try_current(),
                self.made.space_id.parse(),
            ) {
                let sandbox = own.sandbox.clone();
                runtime.spawn(async move {
                    let _ = sandbox.delete_space(space).await;
                });
            }
            return;
        }
        // A client of its own: the test's pooled connections are driven by the test's runtime,
        // which waits here.
        let control = Remote::new(self.control.url(), &self.made.admin_token);
        let id = self.made.space_id.clone();
        let deleted = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(control.delete_space(&id)).ok()
        })
        .join();
        if !matches!(deleted, Ok(Some(()))) {
            tracing::warn!(space = %self.made.space_id, "could not delete the space; it expires when unused");
        }
    }
}
