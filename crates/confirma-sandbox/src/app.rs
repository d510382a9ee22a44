//! The running sandbox: the database, the writer every change goes through, read transactions
//! for everything else, and the secrets of the run.

use std::sync::Arc;

use confirma_server::{ApiError, ApiKey};
use sqlx::{Any, Transaction};

use crate::config::Config;
use crate::credentials::Credentials;
use crate::health::Health;
use crate::spaces::Spaces;
use crate::store::batch::Batcher;
use crate::store::{Claim, Conn, Db};
use crate::world::queries::{self, DistributionFilter, Lookup, Page, PageAt};
use crate::world::{
    Caller, Change, Command, Failure, Genesis, SpaceId, State, StorageFault, StorageKind, World,
    commands, spaces::registry, unknown_token,
};
use crate::writer::{Stopped, Writer};

/// The tokens that are not client tokens: fixed by the operator, or random per database.
#[derive(Clone)]
pub struct Secrets {
    /// The partner provisioning token (onboarding only).
    pub provisioning_token: String,
    /// The token of the `/sandbox/...` control API.
    pub admin_token: String,
    /// The token that may create spaces and nothing else, if the operator set one.
    pub spaces_token: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

/// The queue of lookups ([`Sandbox::stored_distribution_page_at`]): each statement on a reader's
/// connection of its own.
///
/// How many statements run at once: on PostgreSQL one, on SQLite two. On PostgreSQL a second
/// made the statements smaller and more of them (64 connections of lookups of a client's
/// 500,000 of a million invoices, alternating: one at a time 43,964 and 42,570 lookups a
/// second, 30 µs of CPU each in the sandbox and PostgreSQL; two at a time 31,778 and 33,061,
/// 46 µs); on SQLite, whose statements run on the connection's own thread, two let the next
/// statement's lookups gather while one runs (45,713 and 45,548 against 48,611 and 50,177).
fn lookups(
    db: Arc<Db>,
    health: Arc<Health>,
    postgres: bool,
    wait: std::time::Duration,
) -> Batcher<Lookup, Option<Page<String>>, Failure> {
    let parallel = if postgres { 1 } else { 2 };
    Batcher::start(
        queries::MAX_LOOKUPS,
        parallel,
        wait,
        late(),
        move |lookups: Vec<Lookup>| {
            let (db, health) = (db.clone(), health.clone());
            async move {
                let mut conn = reader(&db, &health).await?;
                queries::stored_lookups(&mut conn, &lookups).await
            }
        },
    )
}

/// The queue of pages of a window on PostgreSQL ([`Sandbox::stored_distribution_page_at`]), two
/// statements at a time (unlike the lookups: a page's statement costs PostgreSQL several times
/// a lookup's, and one at a time left a fifth of the two cores idle while one backend walked).
/// At 200,000 invoices, 64 connections, six alternating pairs of runs: one at a time 7,630 to
/// 11,718 pages a second (mean 9,617), two at a time 9,496 to 12,725 (mean 11,149), faster in
/// five of the six pairs.
fn pages(
    db: Arc<Db>,
    health: Arc<Health>,
    wait: std::time::Duration,
) -> Batcher<PageAt, Option<Page<String>>, Failure> {
    Batcher::start(
        queries::MAX_PAGES,
        2,
        wait,
        late(),
        move |pages: Vec<PageAt>| {
            let (db, health) = (db.clone(), health.clone());
            async move {
                let mut conn = reader(&db, &health).await?;
                queries::stored_pages_postgres(&mut conn, &pages).await
            }
        },
    )
}

/// The answer to a read that waited in a queue longer than the storage timeout: the storage's
/// timeout, as a statement of its own that took as long gets (503, with `Retry-After`).
fn late() -> Failure {
    Failure::Storage(StorageFault::new(
        StorageKind::Timeout,
        "a read waited longer than the storage timeout for its statement",
    ))
}

/// A reader's connection for a queue's statement, a failure to get one told to the health
/// monitor as any read's is.
async fn reader(db: &Db, health: &Health) -> Result<Conn, Failure> {
    db.connection().await.map_err(|e| {
        let fault = StorageFault::from(e);
        health.failed(&fault);
        Failure::Storage(fault)
    })
}

/// A task of the sandbox's own (keeping a PostgreSQL replica's credentials told of the others'
/// commits; deleting expired spaces): it ends with the sandbox.
pub(crate) struct Background(pub(crate) tokio::task::AbortHandle);

impl Drop for Background {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub struct Sandbox {
    pub config: Config,
    pub secrets: Secrets,
    /// Each space's genesis, and its injected faults and request journal (this process's only,
    /// never stored).
    pub spaces: Arc<Spaces>,
    pub(crate) db: Arc<Db>,
    writer: Writer,
    /// Taken by whoever waits for the writer to stop ([`Sandbox::writer_stopped`]).
    writer_stopped: std::sync::Mutex<Option<Stopped>>,
    /// What this process remembers of tokens and clock: only when it is the database's one
    /// process (SQLite).
    credentials: Arc<Credentials>,
    /// Whether the storage takes writes (the log's one line per outage, `Retry-After`).
    pub health: Arc<Health>,
    /// Lookups of an invoice's distribution by number waiting together, answered together
    /// ([`queries::stored_lookups`]).
    lookups: Batcher<Lookup, Option<Page<String>>, Failure>,
    /// On PostgreSQL, pages of a window waiting together, answered together
    /// ([`queries::stored_pages_postgres`]).
    pages: Option<Batcher<PageAt, Option<Page<String>>, Failure>>,
    _follower: Option<Background>,
    pub(crate) housekeeper: std::sync::Mutex<Option<Background>>,
    _claim: Claim,
}

impl Sandbox {
    /// Opens the database, checks it was made with this run's seed and start, and seeds it if
    /// it is new (or brings an earlier version's command log into tables).
    pub async fn open(config: Config) -> anyhow::Result<Arc<Self>> {
        let (db, claim) = Db::open(config.storage.clone(), config.store_limits).await?;
        let db = Arc::new(db);
        let genesis = Genesis {
            seed: config.seed,
            start: config.start,
            salt: None,
            demo: true,
        };
        // Ids and secrets derive from the seed, and time from the start: a database goes on
        // only with the ones it was made with.
        let made_with = format!(
            "--seed {} --start {}",
            config.seed,
            config.start.to_rfc3339()
        );
        let recorded = db.setting("genesis", made_with.clone()).await?;
        if recorded != made_with {
            anyhow::bail!(
                "{} was made with {recorded}, and its ids, secrets and clock follow from those: start with {recorded}, or use another database (--db, --database-url or --in-memory)",
                config.storage.describe()
            );
        }
        let secret = async |fixed: &Option<String>, purpose: &'static str| match fixed {
            Some(token) => Ok::<_, anyhow::Error>(token.clone()),
            None => Ok(db
                .setting(
                    &format!("{purpose}_token"),
                    crate::config::random_secret(purpose),
                )
                .await?),
        };
        let secrets = Secrets {
            provisioning_token: secret(&config.provisioning_token, "provisioning").await?,
            admin_token: secret(&config.admin_token, "admin").await?,
            spaces_token: config.spaces_token.clone(),
        };
        // On PostgreSQL, remembered only while listening for the other replicas' commits.
        let (credentials, follower) = match &config.storage {
            crate::store::Location::Postgres(url) => {
                let credentials = Arc::new(Credentials::following());
                let task =
                    tokio::spawn(crate::credentials::follow(credentials.clone(), url.clone()));
                (credentials, Some(Background(task.abort_handle())))
            }
            _ => (Arc::default(), None),
        };
        let health = Arc::new(Health::default());
        let spaces = Arc::new(Spaces::new(genesis));
        let (writer, writer_stopped) = Writer::start(
            db.clone(),
            spaces.clone(),
            credentials.clone(),
            health.clone(),
        )?;
        let postgres = config.storage.is_postgres();
        let wait = config.store_limits.timeout;
        let lookups = lookups(db.clone(), health.clone(), postgres, wait);
        let pages = postgres.then(|| pages(db.clone(), health.clone(), wait));
        let sandbox = Arc::new(Self {
            lookups,
            pages,
            secrets,
            config,
            spaces,
            db,
            writer,
            writer_stopped: std::sync::Mutex::new(Some(writer_stopped)),
            credentials,
            health,
            _follower: follower,
            housekeeper: Default::default(),
            _claim: claim,
        });
        sandbox
            .writer
            .execute(
                SpaceId::DEFAULT,
                FirstStart {
                    log: sandbox.db.logged_commands().await?,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("starting the sandbox: {e}"))?;
        sandbox.start_housekeeping();
        Ok(sandbox)
    }

    /// Starts the housekeeping of spaces ([`Sandbox::keep_house`]) once a second; it ends with
    /// the sandbox.
    fn start_housekeeping(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                let Some(sandbox) = weak.upgrade() else {
                    return;
                };
                if let Err(e) = sandbox.keep_house().await {
                    tracing::warn!(error = %e.body.message, "housekeeping of spaces failed; trying again");
                }
            }
        });
        *self.housekeeper.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Background(task.abort_handle()));
    }

    /// The writer's end, for one caller to wait for once the sandbox is dropped (the writer
    /// runs on a thread of its own and holds the database until it stops).
    pub fn writer_stopped(&self) -> Option<Stopped> {
        self.writer_stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Caps (`Some`) or uncaps an SQLite database from the next write on, as
    /// `--max-database-mib` does at start: an operator frees room without a restart.
    pub fn limit_database(&self, mib: Option<u32>) {
        self.db.limit_size(mib);
    }

    /// Whether `key` is the partner provisioning token (compared in constant time).
    pub fn is_provisioning_token(&self, key: &ApiKey) -> bool {
        constant_time_eq::constant_time_eq(
            key.expose().as_bytes(),
            self.secrets.provisioning_token.as_bytes(),
        )
    }

    /// Applies `change` to `space`; answers only once it is durable. A refused change changes
    /// nothing.
    pub async fn execute<C: Change>(
        &self,
        space: SpaceId,
        change: C,
    ) -> Result<C::Output, ApiError> {
        Ok(self.writer.execute(space, change).await?)
    }

    /// A connection to the database for a request's reads ([`Sandbox::read`]).
    pub async fn connection(&self) -> Result<Conn, ApiError> {
        Ok(self
            .db
            .connection()
            .await
            .map_err(|e| self.storage_failed(e))?)
    }

    /// A storage failure, told to the health monitor.
    fn storage_failed(&self, error: sqlx::Error) -> Failure {
        let fault = StorageFault::from(error);
        self.health.failed(&fault);
        Failure::Storage(fault)
    }

    /// A read transaction on `conn`: the space as of now, consistent for every statement made in
    /// it. A space that no longer exists answers as an unknown credential.
    pub async fn read<'c>(
        &self,
        conn: &'c mut Conn,
        space: SpaceId,
    ) -> Result<Reader<'c>, ApiError> {
        let mut tx = self
            .db
            .begin_read(conn)
            .await
            .map_err(|e| self.storage_failed(e))?;
        let genesis = self
            .spaces
            .genesis(&mut tx, space)
            .await?
            .ok_or_else(|| Failure::from(unknown_token()))?;
        let state = match State::stored(&mut tx, space).await? {
            Some(state) => state,
            None if space.is_default() => State::fresh(&genesis),
            None => return Err(Failure::from(unknown_token()).into()),
        };
        Ok(Reader {
            tx,
            space,
            genesis,
            state,
        })
    }

    /// A page of the caller's distributions in one statement outside any transaction, its
    /// window made from the clock the caller's token was checked at
    /// ([`queries::stored_distribution_page_at`]); `None` when a read transaction must answer.
    pub async fn stored_distribution_page_at(
        &self,
        caller: &Caller,
        filter: DistributionFilter,
        page: (usize, usize),
    ) -> Result<Option<Page<String>>, ApiError> {
        let at = caller.checked_at;
        if let Some(lookup) = queries::lookup(caller.space, at, caller.client_id, &filter, page) {
            return match self.lookups.ask(lookup).await {
                Some(answer) => Ok(answer?),
                None => Err(Failure::Internal.into()),
            };
        }
        if let Some(pages) = &self.pages
            && let Some(read) = queries::page_at(caller.space, at, caller.client_id, &filter, page)
        {
            return match pages.ask(read).await {
                Some(answer) => Ok(answer?),
                None => Err(Failure::Internal.into()),
            };
        }
        let mut conn = self
            .db
            .connection()
            .await
            .map_err(|e| self.storage_failed(e))?;
        Ok(queries::stored_distribution_page_at(
            &mut conn,
            caller.space,
            at,
            caller.client_id,
            filter,
            page,
        )
        .await?)
    }

    /// The default space's clock.
    pub async fn now(&self) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
        self.now_in(SpaceId::DEFAULT).await
    }

    /// The space's clock.
    pub async fn now_in(&self, space: SpaceId) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
        let mut conn = self.db.connection().await.map_err(Failure::from)?;
        let genesis = self
            .spaces
            .genesis(&mut conn, space)
            .await?
            .ok_or_else(|| Failure::from(unknown_token()))?;
        Ok(State::now(&mut conn, space, &genesis).await?)
    }

    /// Who `key` is: no key, a space's provisioning token, a client's token (perhaps expired,
    /// with its space's time when it was checked) or no token of this sandbox. Made once per
    /// Partner API request, by the `identify` middleware, whose answer the journal, the faults
    /// and the operation all read.
    pub async fn identify(&self, key: Option<&ApiKey>) -> Result<Credential, Failure> {
        let Some(key) = key else {
            return Ok(Credential::Missing);
        };
        if self.is_provisioning_token(key) {
            return Ok(Credential::Provisioning(SpaceId::DEFAULT));
        }
        let hash = crate::world::token_hash(key.expose());
        match self.look_up(&hash).await {
            Ok(caller) => return Ok(Credential::Client(caller)),
            Err(Failure::Refused(_)) => {}
            Err(e) => return Err(e),
        }
        let mut conn = self.db.connection().await.map_err(Failure::from)?;
        Ok(match registry::provisioned_by(&mut conn, &hash).await? {
            Some(space) => Credential::Provisioning(space),
            None => Credential::Unknown,
        })
    }

    /// The space whose admin token `token` is: the sandbox's own admin token administers the
    /// default space (and every space); `None` for any other text.
    pub async fn administered_by(&self, token: &str) -> Result<Option<SpaceId>, Failure> {
        if constant_time_eq::constant_time_eq(token.as_bytes(), self.secrets.admin_token.as_bytes())
        {
            return Ok(Some(SpaceId::DEFAULT));
        }
        if token.is_empty() {
            return Ok(None);
        }
        let mut conn = self.db.connection().await.map_err(Failure::from)?;
        registry::administered_by(&mut conn, &crate::world::token_hash(token)).await
    }

    /// The caller behind a token's hash: from this process's memory of its tokens when it keeps
    /// one and knows the token, else from the database (and then remembered).
    async fn look_up(&self, hash: &[u8; 32]) -> Result<Caller, Failure> {
        let miss = match self.credentials.lookup(hash) {
            Ok((token, now)) => return Ok(Caller::of(&token, now)),
            Err(miss) => miss,
        };
        let mut conn = self.db.connection().await.map_err(Failure::from)?;
        let (token, now) = crate::world::stored_token(&mut conn, hash).await?;
        self.credentials.learn(miss, &token, now);
        Ok(Caller::of(&token, now))
    }

    /// The demo client of the default space and its current token.
    pub async fn demo(&self) -> Result<Option<(i64, String)>, ApiError> {
        let mut conn = self.connection().await?;
        let state = self.read(&mut conn, SpaceId::DEFAULT).await?.state;
        Ok(state.demo_client.zip(state.demo_token))
    }
}

/// Who a request's `X-Api-Key` is.
#[derive(Clone, Debug)]
pub enum Credential {
    /// The request has none.
    Missing,
    /// A space's partner provisioning token.
    Provisioning(SpaceId),
    /// A client's token (perhaps expired), checked at its space's time (`checked_at`).
    Client(Caller),
    /// No token of this sandbox.
    Unknown,
}

impl Credential {
    /// The space the credential reaches, if it is one of the sandbox's.
    pub fn space(&self) -> Option<SpaceId> {
        match self {
            Self::Provisioning(space) => Some(*space),
            Self::Client(caller) => Some(caller.space),
            Self::Missing | Self::Unknown => None,
        }
    }
}

/// What the sandbox finds out about a Partner API request before anything else: its operation
/// (found once, by method and path) and who its credential is (or the storage fault that kept
/// it from finding out). The `identify` middleware puts it in the request's extensions.
#[derive(Clone, Debug)]
pub struct Identified {
    pub operation: &'static confirma_server::OperationInfo,
    /// The space the request reaches: its credential's, or the default space for a request
    /// without one (whose journal and faults it then meets).
    pub space: SpaceId,
    pub credential: Result<Credential, Failure>,
}

/// A read transaction and the world of one space in it.
pub struct Reader<'c> {
    tx: Transaction<'c, Any>,
    space: SpaceId,
    genesis: Genesis,
    state: State,
}

impl Reader<'_> {
    pub fn world(&mut self) -> World<'_> {
        World::new(
            &mut self.tx,
            self.space,
            self.genesis.clone(),
            self.state.clone(),
        )
    }
}

/// The first change of every start: a new database is seeded, or an earlier version's command
/// log is replayed into tables (and then emptied); a database already in tables is left as it
/// is.
struct FirstStart {
    log: Vec<(i64, String)>,
}

impl Change for FirstStart {
    type Output = ();
    async fn apply(&self, world: &mut World<'_>) -> Result<(), Failure> {
        if world.is_stored().await? {
            return Ok(());
        }
        if self.log.is_empty() {
            return commands::Seed {}.apply(world).await;
        }
        for (seq, json) in &self.log {
            let command: Command = serde_json::from_str(json).map_err(|e| {
                Failure::Storage(StorageFault::other(format!(
                    "command {seq} of the log cannot be read: {e}"
                )))
            })?;
            command.replay(world).await.map_err(|e| {
                Failure::Storage(StorageFault::other(format!(
                    "replaying command {seq} of the log failed ({e}); the log does not match this sandbox's seed and start"
                )))
            })?;
        }
        world.forget_log().await
    }
}
