//! The database: where it is ([`Location`]), its schema (versioned migrations in `migrations/`,
//! recorded by sqlx; a database made by a newer sandbox is refused), its few settings, and the
//! transactions the sandbox reads and writes in.
//!
//! One code path serves both backends through sqlx's `Any` driver: an embedded SQLite file (WAL,
//! `synchronous=FULL`) by default, or a PostgreSQL database (`--database-url`) that several
//! sandbox processes share. One process owns an SQLite file (a lock file beside it); on
//! PostgreSQL every write transaction takes one advisory lock first, so that writes from all
//! processes apply one at a time, each seeing everything committed before it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sqlx::any::AnyConnectOptions;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Any, AnyConnection, Connection, Row, Transaction};

pub mod batch;
mod checkpoints;
pub mod documents;
mod pool;
pub mod spread;

pub use pool::{Conn, connection_lost};

/// Where the sandbox keeps its state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A private in-memory database, gone when the process ends.
    Memory,
    /// An SQLite file, created if missing.
    File(PathBuf),
    /// A PostgreSQL database, `postgres://user:password@host:port/database`.
    Postgres(String),
}

impl Location {
    /// The location as the start-up banner and error messages show it: a PostgreSQL URL with
    /// its password hidden.
    pub fn describe(&self) -> String {
        match self {
            Self::Memory => "in memory (gone when the process ends)".into(),
            Self::File(path) => path.display().to_string(),
            Self::Postgres(url) => hide_password(url),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn hide_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split_once(':').map_or(credentials, |(u, _)| u);
            let hidden = if credentials.contains(':') {
                ":***"
            } else {
                ""
            };
            format!("{scheme}://{user}{hidden}@{host}{path}")
        }
        None => url.to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error(
        "{0} was made by a newer confirma-sandbox (its schema has migrations this one does not know): run that version, or use another database"
    )]
    Newer(String),
    #[error("cannot set up the schema of {0}: {1}")]
    Migrate(String, sqlx::migrate::MigrateError),
    #[error(
        "{0} is in use by another confirma-sandbox process: stop that one, or give this one another database"
    )]
    InUse(String),
    /// The lock file or the scratch directory could not be set up.
    #[error("cannot set up the storage: {0}")]
    Io(#[from] std::io::Error),
}

/// PostgreSQL's planner settings for reads, each written for an index path: sequential and
/// bitmap scans and sorts priced out (see `Db::open`), and each prepared statement planned once,
/// for any values (its generic plan, which the plan tests hold). Left to choose, PostgreSQL
/// plans a statement again on every run while its generic plan looks dearer than the plans for
/// the values it was given: so it did for a page on connections that first ran it before
/// autovacuum had analyzed a million invoices just stored. Those connections spent 253 µs of
/// PostgreSQL's time a page against 116 on connections made after (5,316 against 9,576 pages a
/// second, the same plan).
pub(crate) const INDEX_PATHS_ONLY: &str = "SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off; SET enable_incremental_sort = off; SET plan_cache_mode = force_generic_plan";

/// No parallel workers, for reads and writes alike: every statement of the sandbox reads a
/// bounded number of rows off an index, and starting workers costs more than any of them. A
/// generic plan, not knowing a page's `LIMIT`, could price a walk of a big client's invoices in
/// parallel below a walk alone, and start workers for every page; and in write transactions
/// (which have every plan back) the clash checks of a group of creates, 128 probes by unique
/// indexes joined by `UNION ALL`, were planned as a parallel append once the million invoices
/// were analyzed: in the bench's run of 2026-12-07 22:33 the writer's session spent 0.7 of its
/// time in that statement (0.23 waiting for its workers, 0.1 for them to shut down), and the
/// creates ran 2,989 a second, PostgreSQL taking 172 µs of CPU a create.
pub(crate) const NO_PARALLEL_WORKERS: &str = "SET max_parallel_workers_per_gather = 0";

/// Pages a connection's process writes out of PostgreSQL's shared buffers (to make room for
/// others) are handed to the disk as it goes, 256 kB at a time, instead of being left in the
/// operating system's cache for the next checkpoint to force out all at once. An advance dirties
/// pages faster than PostgreSQL's background writer cleans them (at its default pace), so the
/// writer's own process writes most of them out: 873,443 pages, 6.7 GiB, over an advance of 18
/// days over a million invoices. Left off (PostgreSQL's default, `0`), the checkpoints' flush
/// of those files held up every commit behind it: there, with a create every 100 ms and 64
/// connections of validate, the slowest create took 464 and 424 ms; with the setting 193 and
/// 152 ms (two runs each, the advance no slower).
pub(crate) const WRITE_BACK: &str = "SET backend_flush_after = '256kB'";

/// PostgreSQL's planner with every plan, for writes and migrations, each run planned for its
/// values where that is cheaper (PostgreSQL's own choice).
pub(crate) const EVERY_PLAN: &str = "SET enable_seqscan = on; SET enable_bitmapscan = on; SET enable_sort = on; SET enable_incremental_sort = on; SET plan_cache_mode = auto";

/// The schema, one migration per version. Never edit a released one: add the next.
const MIGRATIONS: &[(i64, &str, Sql)] = &[
    (
        1,
        "command log and settings",
        Sql::Both(include_str!("../../migrations/0001_command_log.sql")),
    ),
    (
        2,
        "state in tables",
        Sql::Both(include_str!("../../migrations/0002_state.sql")),
    ),
    (
        3,
        "distribution pages and counts",
        Sql::Both(include_str!(
            "../../migrations/0003_distribution_counts.sql"
        )),
    ),
    (
        4,
        "due-time indexes in query order",
        Sql::Both(include_str!(
            "../../migrations/0004_due_indexes_in_order.sql"
        )),
    ),
    (
        5,
        "spaces",
        Sql::Both(include_str!("../../migrations/0005_spaces.sql")),
    ),
    (
        6,
        "distribution records as answered",
        Sql::Both(include_str!("../../migrations/0006_distribution_wire.sql")),
    ),
    (
        7,
        "packed documents",
        Sql::Each {
            sqlite: include_str!("../../migrations/0007_packed_documents.sqlite.sql"),
            postgres: include_str!("../../migrations/0007_packed_documents.postgres.sql"),
        },
    ),
    (
        8,
        "documents format 2",
        Sql::Both(include_str!("../../migrations/0008_documents_format_2.sql")),
    ),
    (
        9,
        "invoice status column",
        Sql::Both(include_str!("../../migrations/0009_invoice_status.sql")),
    ),
    (
        10,
        "case escalations as rows, documents format 3",
        Sql::Both(include_str!("../../migrations/0010_case_escalations.sql")),
    ),
    (
        11,
        "vacuum the advanced tables sooner",
        Sql::Each {
            sqlite: include_str!("../../migrations/0011_vacuum_sooner.sqlite.sql"),
            postgres: include_str!("../../migrations/0011_vacuum_sooner.postgres.sql"),
        },
    ),
    (
        12,
        "room on invoices pages for their updates",
        Sql::Each {
            sqlite: include_str!("../../migrations/0012_room_to_update.sqlite.sql"),
            postgres: include_str!("../../migrations/0012_room_to_update.postgres.sql"),
        },
    ),
    (
        13,
        "no index of invoices by date",
        Sql::Both(include_str!(
            "../../migrations/0013_no_invoices_by_date.sql"
        )),
    ),
    (
        14,
        "what falls due in tables of its own",
        Sql::Each {
            sqlite: include_str!("../../migrations/0014_due_queues.sqlite.sql"),
            postgres: include_str!("../../migrations/0014_due_queues.postgres.sql"),
        },
    ),
    (
        15,
        "where each walk of what falls due takes up",
        Sql::Each {
            sqlite: include_str!("../../migrations/0015_due_cursors.sqlite.sql"),
            postgres: include_str!("../../migrations/0015_due_cursors.postgres.sql"),
        },
    ),
    (
        16,
        "room on cases pages for their updates",
        Sql::Each {
            sqlite: include_str!("../../migrations/0016_room_for_cases.sqlite.sql"),
            postgres: include_str!("../../migrations/0016_room_for_cases.postgres.sql"),
        },
    ),
];

/// A migration's statements: the same on both backends, or one text for each (a database only
/// ever meets its own backend's, so each records one checksum).
enum Sql {
    Both(&'static str),
    Each {
        sqlite: &'static str,
        postgres: &'static str,
    },
}

fn migrator(postgres: bool) -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|(version, description, sql)| {
                let sql = match *sql {
                    Sql::Both(sql) => sql,
                    Sql::Each { postgres: sql, .. } if postgres => sql,
                    Sql::Each { sqlite: sql, .. } => sql,
                };
                Migration::new(
                    *version,
                    (*description).into(),
                    MigrationType::Simple,
                    sqlx::SqlStr::from_static(sql),
                    false,
                )
            })
            .collect(),
    )
}

/// Locks `<path>.lock` for this process, or says which file is in use.
fn lock(path: &Path) -> Result<std::fs::File, StoreError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(PathBuf::from(name))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(StoreError::InUse(path.display().to_string()))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Io(e)),
    }
}

/// The first key of the advisory locks write transactions on PostgreSQL take ("CFIS" in ASCII);
/// the second is the space's ([`space_lock_key`]), or [`SETTINGS_LOCK`] for the settings.
const POSTGRES_WRITE_LOCK: i32 = 0x4346_4953;

/// The second key of the lock a write to the settings takes: no space's key (those fold 64 bits
/// into 32, and may share a lock, which only makes them wait for each other).
const SETTINGS_LOCK: i32 = i32::MIN;

/// A space's lock key: its 64 bits folded into 31 (never [`SETTINGS_LOCK`]).
fn space_lock_key(space: i64) -> i32 {
    let bits = space as u64;
    ((bits ^ (bits >> 32)) & 0x7fff_ffff) as i32
}

/// How long the sandbox waits for its database, and how large an SQLite file may grow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreLimits {
    /// The longest a statement, a lock or a group of changes may take before it is given up
    /// (and answered 503): SQLite's busy timeout, PostgreSQL's `statement_timeout`, and the
    /// writer's deadline for a group, which also covers a connection that stopped answering.
    pub timeout: Duration,
    /// The most an SQLite database may hold, in MiB (`PRAGMA max_page_count`); beyond it writes
    /// fail as on a full disk while reads go on. `None`: as much as the disk holds.
    pub max_database_mib: Option<u32>,
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_database_mib: None,
        }
    }
}

/// SQLite's page size, which the sandbox leaves at its default.
const PAGE_SIZE: u64 = 4096;

/// An open database with its schema up to date.
pub struct Db {
    /// The readers' connections, and every other task's but the writer's.
    pool: pool::Pool,
    /// The writer's connection ([`Db::writer_connection`]).
    writes: pool::Pool,
    location: Location,
    timeout: Duration,
    /// `PRAGMA max_page_count` for every write transaction on SQLite; 0 for none.
    max_pages: AtomicU32,
    /// On SQLite, the checkpointer beside the writer ([`checkpoints`]).
    checkpoints: Option<checkpoints::Checkpoints>,
    /// An in-memory sandbox keeps its database in a directory of its own, removed on close.
    _scratch: Option<tempfile::TempDir>,
}

/// This process's claim on an SQLite file: an exclusive lock on `<db>.lock`, held by the
/// sandbox while it runs, so that a second process on the same file is refused at start instead
/// of serving stale reads. (Several processes share a PostgreSQL database.)
pub struct Claim {
    _lock: Option<std::fs::File>,
}

impl Db {
    /// Opens (creating if needed) the database at `location` and brings its schema up to date;
    /// the claim is released when dropped.
    pub async fn open(
        location: Location,
        limits: StoreLimits,
    ) -> Result<(Self, Claim), StoreError> {
        sqlx::any::install_default_drivers();
        let (url, lock, scratch) = match &location {
            Location::Memory => {
                let dir = tempfile::tempdir()?;
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("sandbox.db").display()
                );
                (url, None, Some(dir))
            }
            Location::File(path) => (
                format!("sqlite://{}?mode=rwc", path.display()),
                Some(lock(path)?),
                None,
            ),
            Location::Postgres(url) => (url.clone(), None, None),
        };
        let options: AnyConnectOptions = url.parse()?;
        let sqlite = !location.is_postgres();
        // What survives a crash: everything acknowledged, except for a sandbox in memory.
        let synchronous = if location == Location::Memory {
            "OFF"
        } else {
            "FULL"
        };
        let timeout_ms = limits.timeout.as_millis();
        let settings = if sqlite {
            format!(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; PRAGMA busy_timeout = {timeout_ms}; PRAGMA cache_size = -16000;"
            )
        } else {
            // Every read is written for an index path, as SQLite plans it (`tables.rs`); left
            // to its statistics, PostgreSQL changes a page's plan when autovacuum first
            // analyzes a table (a sort of the window for a walk in number order). With
            // sequential and bitmap scans and sorts priced out, it takes the index path
            // whatever its statistics, and still falls back on them where a statement has no
            // other. Write transactions have them back (`begin_write`).
            // No JIT compilation either: it costs tens of milliseconds, where the sandbox's
            // statements each read a bounded number of rows. Nor parallel workers.
            format!(
                "SET statement_timeout = {timeout_ms}; SET jit = off; {WRITE_BACK}; {NO_PARALLEL_WORKERS}; {INDEX_PATHS_ONLY}"
            )
        };
        let manager = |runtime, settings: &str| pool::Manager {
            options: options.clone(),
            settings: settings.to_string(),
            postgres: !sqlite,
            timeout: limits.timeout,
            runtime,
        };
        // Eight readers, and the writer's own connection. Nine in all on PostgreSQL too: with 17
        // (its backends competing for the same cores) alternating runs measured lookups 3% and
        // pages 6% slower, and their p99 20% to twice as long.
        let pool = pool::build(
            manager(Some(tokio::runtime::Handle::current()), &settings),
            8,
            limits.timeout,
        );
        // On SQLite the writer's commits checkpoint only past the backstop: a connection of
        // its own checkpoints after them.
        let (writer_settings, checkpoints) = if sqlite {
            let conn = pool::Manager::connect(options.clone(), settings.clone()).await?;
            (
                format!(
                    "{settings} PRAGMA wal_autocheckpoint = {};",
                    checkpoints::BACKSTOP
                ),
                Some(checkpoints::Checkpoints::start(conn)),
            )
        } else {
            (settings.clone(), None)
        };
        let writes = pool::build(manager(None, &writer_settings), 1, limits.timeout);
        let db = Self {
            pool,
            writes,
            location,
            timeout: limits.timeout,
            max_pages: AtomicU32::new(0),
            checkpoints,
            _scratch: scratch,
        };
        // A migration may rebuild an index over every row: it runs without the timeout, on a
        // connection that is closed afterwards.
        let mut conn = db.connection().await?;
        if !sqlite {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "SET statement_timeout = 0; {EVERY_PLAN}"
            )))
            .execute(&mut *conn)
            .await?;
        }
        let migrated = migrator(!sqlite).run(&mut *conn).await;
        let _ = conn.close().await;
        let location = &db.location;
        migrated.map_err(|e| match e {
            sqlx::migrate::MigrateError::VersionMissing(_) => {
                StoreError::Newer(location.describe())
            }
            e => StoreError::Migrate(location.describe(), e),
        })?;
        db.limit_size(limits.max_database_mib);
        Ok((db, Claim { _lock: lock }))
    }

    /// The longest the sandbox waits for the database ([`StoreLimits::timeout`]).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Caps an SQLite database at `mib` MiB from the next write on (`None`: no cap); an
    /// operator raises a cap that filled up this way, without a restart. PostgreSQL ignores it.
    pub fn limit_size(&self, mib: Option<u32>) {
        let pages = mib.map_or(0, |mib| {
            u32::try_from(u64::from(mib) * 1024 * 1024 / PAGE_SIZE).unwrap_or(u32::MAX)
        });
        self.max_pages.store(pages, Ordering::Relaxed);
    }

    /// Begins a write transaction on `conn`: on SQLite it takes the file's write lock at once;
    /// on PostgreSQL it takes none (see [`Db::lock_spaces`]), and gives the planner back every
    /// plan for the transaction: a change may move whole spaces (a fork, an advance), for which
    /// scans and sorts are the right plans.
    pub async fn begin_write<'c>(
        &self,
        conn: &'c mut AnyConnection,
    ) -> Result<Transaction<'c, Any>, sqlx::Error> {
        if self.location.is_postgres() {
            // One message, one round trip: the settings end with the transaction.
            conn.begin_with(sqlx::AssertSqlSafe(format!(
                "BEGIN; {}",
                EVERY_PLAN.replace("SET ", "SET LOCAL ")
            )))
            .await
        } else {
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
            let max_pages = self.max_pages.load(Ordering::Relaxed);
            if max_pages != 0 {
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "PRAGMA max_page_count = {max_pages}"
                )))
                .execute(&mut *tx)
                .await?;
            }
            Ok(tx)
        }
    }

    /// On PostgreSQL, waits for the write lock of each space (in ascending order, so that two
    /// transactions never wait for each other's): the writes of every sandbox process on the
    /// database to one space apply one at a time, each seeing everything committed before it,
    /// while writes to different spaces go on in parallel. SQLite's write lock is the file's.
    pub async fn lock_spaces(
        &self,
        tx: &mut Transaction<'_, Any>,
        spaces: impl Iterator<Item = i64>,
    ) -> Result<(), sqlx::Error> {
        if !self.location.is_postgres() {
            return Ok(());
        }
        let mut keys: Vec<i32> = spaces.map(space_lock_key).collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
                .bind(POSTGRES_WRITE_LOCK)
                .bind(key)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// A connection of the pool: waiting for a free one, making one and testing one each take at
    /// most the storage timeout.
    pub async fn connection(&self) -> Result<Conn, sqlx::Error> {
        pool::get(&self.pool).await
    }

    /// The writer's connection, made on the writer's runtime (on the terms of
    /// [`Db::connection`]).
    pub async fn writer_connection(&self) -> Result<Conn, sqlx::Error> {
        pool::get(&self.writes).await
    }

    /// The writer committed: on SQLite a checkpoint follows, beside it ([`checkpoints`]).
    pub fn committed(&self) {
        if let Some(checkpoints) = &self.checkpoints {
            checkpoints.committed();
        }
    }

    #[cfg(test)]
    /// Closes every connection of the pool: those idle now gracefully, those in use as they
    /// come back. No connection is handed out afterwards.
    pub async fn close(&self) {
        for pool in [&self.pool, &self.writes] {
            let idle = pool.retain(|_, _| false).removed;
            pool.close();
            for conn in idle {
                let _ = conn.close().await;
            }
        }
    }

    /// Begins a read transaction on `conn`: one consistent snapshot for every statement of a
    /// request.
    pub async fn begin_read<'c>(
        &self,
        conn: &'c mut AnyConnection,
    ) -> Result<Transaction<'c, Any>, sqlx::Error> {
        if self.location.is_postgres() {
            conn.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await
        } else {
            conn.begin().await
        }
    }

    /// The value kept under `key`, or `init` stored under it durably first if there is none.
    pub async fn setting(&self, key: &str, init: String) -> Result<String, StoreError> {
        let mut conn = self.connection().await?;
        let mut tx = self.begin_write(&mut conn).await?;
        if self.location.is_postgres() {
            sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
                .bind(POSTGRES_WRITE_LOCK)
                .bind(SETTINGS_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        let existing = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
        let value = match existing {
            Some(row) => row.try_get(0)?,
            None => {
                sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2)")
                    .bind(key)
                    .bind(&init)
                    .execute(&mut *tx)
                    .await?;
                init
            }
        };
        tx.commit().await?;
        Ok(value)
    }

    /// The command log an earlier version kept, in order (empty once brought into tables).
    pub async fn logged_commands(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let rows = sqlx::query("SELECT seq, json FROM commands ORDER BY seq")
            .fetch_all(&mut *self.connection().await?)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }
}

/// A database of its own on the test PostgreSQL server (`CONFIRMA_SANDBOX_TEST_DATABASE_URL`),
/// for this crate's tests that need PostgreSQL.
#[cfg(test)]
pub(crate) struct ScratchPostgres {
    pub url: String,
    name: String,
    admin: AnyConnection,
}

#[cfg(test)]
impl ScratchPostgres {
    /// A new database named after `prefix` and this process.
    pub async fn new(prefix: &str) -> Self {
        let server = std::env::var("CONFIRMA_SANDBOX_TEST_DATABASE_URL").expect(
            "this test needs PostgreSQL: set CONFIRMA_SANDBOX_TEST_DATABASE_URL (CI's PostgreSQL run does)",
        );
        sqlx::any::install_default_drivers();
        let name = format!("{prefix}_{}", std::process::id());
        let mut admin = <AnyConnection as Connection>::connect(&server)
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
        Self {
            url: format!("{base}/{name}"),
            name,
            admin,
        }
    }

    /// The sandbox's database on it, migrated.
    pub async fn open(&self) -> (Db, Claim) {
        Db::open(Location::Postgres(self.url.clone()), Default::default())
            .await
            .unwrap()
    }

    /// Drops the database (once every connection to it is closed).
    pub async fn remove(mut self) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {}", self.name)))
            .execute(&mut self.admin)
            .await
            .unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_password_never_shows() {
        let cases = [
            (
                "postgres://sandbox:s3cret@db.local:5432/cfis",
                "postgres://sandbox:***@db.local:5432/cfis",
            ),
            ("postgres://sandbox@db/cfis", "postgres://sandbox@db/cfis"),
            ("postgres://db/cfis", "postgres://db/cfis"),
            ("postgres://u:p:q@h/d", "postgres://u:***@h/d"),
        ];
        for (url, shown) in cases {
            assert_eq!(Location::Postgres(url.into()).describe(), shown);
        }
    }

    #[tokio::test]
    async fn a_setting_is_generated_once_and_kept_by_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let first = Db::open(Location::File(path.clone()), StoreLimits::default())
            .await
            .unwrap();
        let one = first.0.setting("admin", "one".into()).await.unwrap();
        drop(first);
        let again = Db::open(Location::File(path), StoreLimits::default())
            .await
            .unwrap()
            .0;
        let two = again.setting("admin", "two".into()).await.unwrap();
        assert_eq!((one.as_str(), two.as_str()), ("one", "one"));
        let memory = Db::open(Location::Memory, StoreLimits::default())
            .await
            .unwrap()
            .0;
        assert_eq!(memory.setting("admin", "x".into()).await.unwrap(), "x");
        assert_eq!(memory.setting("admin", "y".into()).await.unwrap(), "x");
    }

    #[tokio::test]
    async fn a_second_process_on_the_same_file_is_refused_until_the_first_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let first = Db::open(Location::File(path.clone()), StoreLimits::default())
            .await
            .unwrap();
        let refused = Db::open(Location::File(path.clone()), StoreLimits::default())
            .await
            .err()
            .expect("refused");
        assert!(matches!(refused, StoreError::InUse(_)), "{refused}");
        assert!(
            refused.to_string().contains("another database"),
            "{refused}"
        );
        drop(first);
        Db::open(Location::File(path), StoreLimits::default())
            .await
            .expect("free again");
    }

    #[tokio::test]
    async fn a_database_from_a_newer_sandbox_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let (db, claim) = Db::open(Location::File(path.clone()), StoreLimits::default())
            .await
            .unwrap();
        // A later version's migration, recorded as sqlx records it.
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99, 'future', TRUE, x'00', 0)",
        )
        .execute(&mut *db.connection().await.unwrap())
        .await
        .unwrap();
        db.close().await;
        drop((db, claim));
        let refused = Db::open(Location::File(path), StoreLimits::default())
            .await
            .err()
            .expect("refused");
        assert!(matches!(refused, StoreError::Newer(_)), "{refused}");
    }

    /// A read dropped at any moment of its `BEGIN` (as a request is when its client goes away)
    /// leaves no connection of the pool inside a transaction. sqlx 0.9.0 returned some to the
    /// pool inside a read-only snapshot it did not know of, where the next borrower's statements
    /// ran (transact-rs/sqlx#4393, fixed in 0.9.1): a fork answered 401 for the space it had just
    /// made, and a write would have failed as read-only.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs PostgreSQL (CONFIRMA_SANDBOX_TEST_DATABASE_URL): CI's PostgreSQL run includes it"]
    async fn on_postgres_a_read_dropped_while_it_begins_leaves_no_transaction_behind() {
        let scratch = ScratchPostgres::new("dropped_begin").await;
        let url = scratch.url.clone();
        let (db, _claim) = Db::open(Location::Postgres(url.clone()), Default::default())
            .await
            .unwrap();
        // Each dropped after 0 to 19 polls: some before the connection is theirs, some while
        // the `BEGIN` is on the wire, some after.
        for i in 0..400 {
            let mut begin = std::pin::pin!(async {
                let mut conn = db.connection().await?;
                db.begin_read(&mut conn).await.map(drop)
            });
            for _ in 0..i % 20 {
                if futures::poll!(begin.as_mut()).is_ready() {
                    break;
                }
                tokio::task::yield_now().await;
            }
        }
        // And one read that ends as every read does: its transaction dropped unfinished.
        let mut conn = db.connection().await.unwrap();
        drop(db.begin_read(&mut conn).await.unwrap());
        drop(conn);
        let mut watcher = <AnyConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        let in_transaction = async |c: &mut AnyConnection| -> i64 {
            sqlx::query(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()
                   AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()",
            )
            .fetch_one(c)
            .await
            .unwrap()
            .get(0)
        };
        // Every dropped transaction is rolled back as its connection returns to the pool.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(in_transaction(&mut watcher).await, 0);
        db.close().await;
        drop(watcher);
        scratch.remove().await;
    }

    /// On PostgreSQL a read plans each prepared statement once, for any values, whatever the
    /// statistics say of its plans for the values it is given; a write transaction lets
    /// PostgreSQL plan each run for its values where that is cheaper ([`INDEX_PATHS_ONLY`],
    /// [`EVERY_PLAN`]). Counted by PostgreSQL itself (`pg_prepared_statements`). A read starts
    /// no parallel workers.
    #[tokio::test]
    #[ignore = "needs PostgreSQL (CONFIRMA_SANDBOX_TEST_DATABASE_URL): CI's PostgreSQL run includes it"]
    async fn on_postgres_a_read_plans_its_statement_once_and_a_write_for_its_values() {
        let scratch = ScratchPostgres::new("plan_once").await;
        let (db, _claim) = scratch.open().await;
        let mut conn = db.connection().await.unwrap();
        sqlx::raw_sql(
            "INSERT INTO invoices (space, client_id, number, invoice_day, payment_reference, body)
             SELECT 0, 7, i, 739000 + i % 30, 'r' || i, '{}' FROM generate_series(1, 2000) AS i;
             ANALYZE invoices",
        )
        .execute(&mut *conn)
        .await
        .unwrap();
        // Each statement run 8 times, past the five runs PostgreSQL plans for their values
        // before it weighs its generic plan; `tag` tells the two statements apart.
        let run = async |c: &mut AnyConnection, tag: &str| {
            for n in 0..8_i64 {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT number AS {tag} FROM invoices WHERE space = $1 AND client_id = $2 AND invoice_day <= $3 ORDER BY number LIMIT 5"
                )))
                .bind(0_i64)
                .bind(7_i64)
                .bind(739_000 + n)
                .fetch_all(&mut *c)
                .await
                .unwrap();
            }
        };
        let plans = async |c: &mut AnyConnection, tag: &str| -> (i64, i64) {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements
                 WHERE statement LIKE 'SELECT number AS {tag} FROM%'"
            )))
            .fetch_one(&mut *c)
            .await
            .unwrap();
            (row.get(0), row.get(1))
        };
        // And neither a read nor a write starts parallel workers ([`NO_PARALLEL_WORKERS`]).
        let workers = async |c: &mut AnyConnection| -> String {
            sqlx::query("SELECT current_setting('max_parallel_workers_per_gather')")
                .fetch_one(&mut *c)
                .await
                .unwrap()
                .get(0)
        };
        run(&mut conn, "read").await;
        assert_eq!(plans(&mut conn, "read").await, (8, 0));
        assert_eq!(workers(&mut conn).await, "0");
        let mut tx = db.begin_write(&mut conn).await.unwrap();
        run(&mut tx, "write").await;
        let (_, custom) = plans(&mut tx, "write").await;
        assert!(custom >= 5, "{custom} runs planned for their values");
        assert_eq!(workers(&mut tx).await, "0");
        tx.rollback().await.unwrap();
        // The transaction's settings end with it.
        run(&mut conn, "read").await;
        assert_eq!(plans(&mut conn, "read").await, (16, 0));
        drop(conn);
        db.close().await;
        scratch.remove().await;
    }

    /// On PostgreSQL every connection's process hands the pages it writes out to the disk as it
    /// goes ([`WRITE_BACK`]): readers, the writer, and the writer within a write transaction.
    #[tokio::test]
    #[ignore = "needs PostgreSQL (CONFIRMA_SANDBOX_TEST_DATABASE_URL): CI's PostgreSQL run includes it"]
    async fn on_postgres_every_connection_writes_its_pages_back_as_it_goes() {
        let scratch = ScratchPostgres::new("write_back").await;
        let (db, _claim) = scratch.open().await;
        let setting = async |c: &mut AnyConnection| -> String {
            sqlx::query("SELECT current_setting('backend_flush_after')")
                .fetch_one(&mut *c)
                .await
                .unwrap()
                .get(0)
        };
        let mut reader = db.connection().await.unwrap();
        assert_eq!(setting(&mut reader).await, "256kB");
        let mut writer = db.writer_connection().await.unwrap();
        assert_eq!(setting(&mut writer).await, "256kB");
        let mut tx = db.begin_write(&mut writer).await.unwrap();
        assert_eq!(setting(&mut tx).await, "256kB");
        tx.rollback().await.unwrap();
        drop((reader, writer));
        db.close().await;
        scratch.remove().await;
    }

    /// Connections the server closed (here terminated, as a restart would) are replaced: the
    /// first request to meet one fails, says so, and every later one gets a connection that
    /// answers, although the pool's connections were all in use a moment ago (within the window
    /// in which they are not tested before use).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs PostgreSQL (CONFIRMA_SANDBOX_TEST_DATABASE_URL): CI's PostgreSQL run includes it"]
    async fn on_postgres_connections_the_server_closed_are_replaced_after_one_failure() {
        let scratch = ScratchPostgres::new("closed_connections").await;
        let (db, _claim) = scratch.open().await;
        let select = async |conn: &mut AnyConnection| sqlx::query("SELECT 1").execute(conn).await;
        // Four connections in the pool, each just used.
        let mut held = Vec::new();
        for _ in 0..4 {
            let mut conn = db.connection().await.unwrap();
            select(&mut conn).await.unwrap();
            held.push(conn);
        }
        drop(held);
        let mut admin = <AnyConnection as Connection>::connect(&scratch.url)
            .await
            .unwrap();
        let terminated: i64 = sqlx::query(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
              WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_one(&mut admin)
        .await
        .unwrap()
        .get(0);
        assert_eq!(terminated, 4);
        let mut failures = Vec::new();
        for attempt in 0..12 {
            let answered = match db.connection().await {
                Ok(mut conn) => select(&mut conn).await.map(drop),
                Err(e) => Err(e),
            };
            if let Err(e) = answered {
                // As the sandbox does with every storage error.
                let fault = crate::world::StorageFault::from(e);
                failures.push((attempt, fault));
            }
        }
        assert!(failures.len() <= 1, "{failures:?}");
        if let Some((_, fault)) = failures.first() {
            assert_eq!(
                fault.kind,
                crate::world::StorageKind::ConnectionLost,
                "{fault}"
            );
        }
        db.close().await;
        drop(admin);
        scratch.remove().await;
    }
}
