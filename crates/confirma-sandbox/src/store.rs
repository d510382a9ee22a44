//! Durable storage behind one narrow interface: an append-only log of commands.
//!
//! The sandbox keeps its world in memory and persists every accepted command before it answers.
//! On start it replays the log, which rebuilds exactly the same world (commands are applied
//! deterministically). So a backend only needs [`Store::load`], [`Store::append`] and the
//! database's few settings.
//!
//! One code path serves both backends through sqlx's `Any` driver: an embedded SQLite file (WAL,
//! `synchronous=FULL`) by default, or a PostgreSQL database (`--database-url`). The schema comes
//! from versioned migrations (`migrations/`), recorded in the database by sqlx; a database made
//! by a newer sandbox is refused. One process owns a database: a lock file beside an SQLite
//! file, a session advisory lock on PostgreSQL.
//!
//! Appends are committed in groups: the store's thread takes every command queued while the
//! previous transaction was committing, writes them in one transaction and commits once. A caller
//! is answered only after the transaction holding its command has committed, so every
//! acknowledged write survives a crash, and concurrent writers share the cost of the sync.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Row};
use tokio::sync::oneshot;

/// One persisted command: its position in the log and its JSON form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub seq: u64,
    pub json: String,
}

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

    fn is_postgres(&self) -> bool {
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
    #[error("the storage thread has stopped")]
    WriterGone,
    #[error(
        "{0} is in use by another confirma-sandbox process: stop that one, or give this one another database"
    )]
    InUse(String),
    /// The lock file, or the storage thread and its runtime, could not be set up.
    #[error("cannot set up the storage: {0}")]
    Io(#[from] std::io::Error),
}

/// The storage interface: load the whole log, append to it durably, and keep the few settings
/// that belong to the database rather than to the run (its generated secrets, its seed).
pub trait Store: Send + Sync + 'static {
    /// Every record, in log order.
    fn load(&self) -> Result<Vec<Record>, StoreError>;
    /// The value kept under `key`, or `init` stored under it durably first if there is none.
    fn setting(&self, key: &str, init: String) -> Result<String, StoreError>;
    /// Queues `record` for the next group commit. The returned receiver resolves once the record
    /// is durable (or the commit failed). Records are committed in the order they are queued.
    fn append(&self, record: Record) -> oneshot::Receiver<Result<(), String>>;
}

/// The schema, one migration per version. Never edit a released one: add the next.
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "command log and settings",
    include_str!("../migrations/0001_command_log.sql"),
)];

fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    description.into(),
                    MigrationType::Simple,
                    sqlx::SqlStr::from_static(sql),
                    false,
                )
            })
            .collect(),
    )
}

/// What the storage thread is asked to do.
enum Job {
    Load(mpsc::Sender<Result<Vec<Record>, StoreError>>),
    Setting(String, String, mpsc::Sender<Result<String, StoreError>>),
    Append(Record, oneshot::Sender<Result<(), String>>),
}

/// The store: a thread of its own with a small runtime and the connection pool, so that callers
/// need no runtime of their own and appends from many requests meet in one commit.
pub struct SqlStore {
    location: Location,
    queue: mpsc::Sender<Job>,
    /// The storage thread; joined on drop, so that the database is free once the store is gone.
    thread: Option<std::thread::JoinHandle<()>>,
    /// An exclusive lock on `<db>.lock`, held while the store is open, so that a second
    /// process on the same SQLite file is refused at start instead of serving stale reads.
    _lock: Option<std::fs::File>,
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

/// The advisory-lock key a sandbox holds on its PostgreSQL database ("CFIS" in ASCII).
const POSTGRES_LOCK_KEY: i64 = 0x4346_4953;

impl SqlStore {
    /// Opens (creating if needed) the database at `location` and brings its schema up to date.
    pub fn open(location: Location) -> Result<Self, StoreError> {
        let lock = match &location {
            Location::File(path) => Some(lock(path)?),
            _ => None,
        };
        let (queue, jobs) = mpsc::channel::<Job>();
        let (ready, started) = mpsc::channel::<Result<(), StoreError>>();
        let thread_location = location.clone();
        let thread = std::thread::Builder::new()
            .name("sandbox-store".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready.send(Err(StoreError::Io(e)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match connect(&thread_location).await {
                        Ok(db) => {
                            let _ = ready.send(Ok(()));
                            serve(db, jobs).await;
                        }
                        Err(e) => {
                            let _ = ready.send(Err(e));
                        }
                    }
                });
            })?;
        started.recv().map_err(|_| StoreError::WriterGone)??;
        Ok(Self {
            location,
            queue,
            thread: Some(thread),
            _lock: lock,
        })
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    fn ask<T>(
        &self,
        job: impl FnOnce(mpsc::Sender<Result<T, StoreError>>) -> Job,
    ) -> Result<T, StoreError> {
        let (reply, answer) = mpsc::channel();
        self.queue
            .send(job(reply))
            .map_err(|_| StoreError::WriterGone)?;
        answer.recv().map_err(|_| StoreError::WriterGone)?
    }
}

impl Drop for SqlStore {
    fn drop(&mut self) {
        // Closing the queue ends the thread's loop; it then closes its connections (and so
        // releases PostgreSQL's advisory lock) before it exits.
        let (closed, _) = mpsc::channel();
        drop(std::mem::replace(&mut self.queue, closed));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The pool, the schema brought up to date, and (on PostgreSQL) the lock that makes this process
/// the database's only user.
struct Db {
    pool: AnyPool,
    /// PostgreSQL only: the connection holding the session advisory lock, for as long as the
    /// store lives.
    owner: Option<sqlx::pool::PoolConnection<sqlx::Any>>,
}

async fn connect(location: &Location) -> Result<Db, StoreError> {
    sqlx::any::install_default_drivers();
    let url = match location {
        Location::Memory => "sqlite::memory:".to_string(),
        Location::File(path) => format!("sqlite://{}?mode=rwc", path.display()),
        Location::Postgres(url) => url.clone(),
    };
    let options: AnyConnectOptions = url.parse()?;
    let sqlite = !location.is_postgres();
    let pool = AnyPoolOptions::new()
        // An in-memory SQLite database exists once per connection: keep exactly one.
        .max_connections(if sqlite { 1 } else { 4 })
        .min_connections(if sqlite { 1 } else { 0 })
        .idle_timeout(None)
        .max_lifetime(None)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if sqlite {
                    sqlx::raw_sql("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;")
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    let owner = if location.is_postgres() {
        let mut conn = pool.acquire().await?;
        let locked: bool = sqlx::query("SELECT pg_try_advisory_lock($1)")
            .bind(POSTGRES_LOCK_KEY)
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        if !locked {
            return Err(StoreError::InUse(location.describe()));
        }
        Some(conn)
    } else {
        None
    };
    let migrator = migrator();
    migrator.run(&pool).await.map_err(|e| match e {
        sqlx::migrate::MigrateError::VersionMissing(_) => StoreError::Newer(location.describe()),
        e => StoreError::Migrate(location.describe(), e),
    })?;
    Ok(Db { pool, owner })
}

/// The storage thread's loop: jobs in the order they came, appends in groups; once the store
/// is dropped, its connections are closed.
async fn serve(db: Db, jobs: mpsc::Receiver<Job>) {
    let mut next = None;
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => match jobs.recv() {
                Ok(job) => job,
                Err(_) => {
                    if let Some(owner) = db.owner {
                        let _ = owner.close().await;
                    }
                    db.pool.close().await;
                    return;
                }
            },
        };
        match job {
            Job::Load(reply) => {
                let _ = reply.send(load(&db.pool).await);
            }
            Job::Setting(key, init, reply) => {
                let _ = reply.send(setting(&db.pool, &key, init).await);
            }
            Job::Append(record, done) => {
                let mut batch = vec![(record, done)];
                // Everything queued meanwhile joins this commit.
                while batch.len() < 4096 {
                    match jobs.try_recv() {
                        Ok(Job::Append(record, done)) => batch.push((record, done)),
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let result = commit(&db.pool, &batch).await.map_err(|e| e.to_string());
                for (_, done) in batch {
                    let _ = done.send(result.clone());
                }
            }
        }
    }
}

async fn load(pool: &AnyPool) -> Result<Vec<Record>, StoreError> {
    let rows = sqlx::query("SELECT seq, json FROM commands ORDER BY seq")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Record {
                seq: row.try_get::<i64, _>(0)? as u64,
                json: row.try_get(1)?,
            })
        })
        .collect()
}

async fn setting(pool: &AnyPool, key: &str, init: String) -> Result<String, StoreError> {
    let mut tx = pool.begin().await?;
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

async fn commit(
    pool: &AnyPool,
    batch: &[(Record, oneshot::Sender<Result<(), String>>)],
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for (record, _) in batch {
        sqlx::query("INSERT INTO commands (seq, json) VALUES ($1, $2)")
            .bind(record.seq as i64)
            .bind(record.json.as_str())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

impl Store for SqlStore {
    fn load(&self) -> Result<Vec<Record>, StoreError> {
        self.ask(Job::Load)
    }

    fn setting(&self, key: &str, init: String) -> Result<String, StoreError> {
        self.ask(|reply| Job::Setting(key.to_string(), init, reply))
    }

    fn append(&self, record: Record) -> oneshot::Receiver<Result<(), String>> {
        let (done, wait) = oneshot::channel();
        if let Err(mpsc::SendError(Job::Append(_, done))) =
            self.queue.send(Job::Append(record, done))
        {
            let _ = done.send(Err(StoreError::WriterGone.to_string()));
        }
        wait
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
    async fn appended_records_survive_reopening_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let store = SqlStore::open(Location::File(path.clone())).unwrap();
            let waits: Vec<_> = (1..=50)
                .map(|seq| {
                    store.append(Record {
                        seq,
                        json: format!("{{\"n\":{seq}}}"),
                    })
                })
                .collect();
            for w in waits {
                w.await.unwrap().unwrap();
            }
        }
        let store = SqlStore::open(Location::File(path)).unwrap();
        let records = store.load().unwrap();
        assert_eq!(records.len(), 50);
        assert!(
            records
                .iter()
                .enumerate()
                .all(|(i, r)| r.seq == i as u64 + 1 && r.json == format!("{{\"n\":{}}}", i + 1))
        );
    }

    #[test]
    fn a_setting_is_generated_once_and_kept_by_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let first = SqlStore::open(Location::File(path.clone()))
            .unwrap()
            .setting("admin", "one".into())
            .unwrap();
        let again = SqlStore::open(Location::File(path))
            .unwrap()
            .setting("admin", "two".into())
            .unwrap();
        assert_eq!((first.as_str(), again.as_str()), ("one", "one"));
        let memory = SqlStore::open(Location::Memory).unwrap();
        assert_eq!(memory.setting("admin", "x".into()).unwrap(), "x");
        assert_eq!(memory.setting("admin", "y".into()).unwrap(), "x");
    }

    #[test]
    fn a_second_store_on_the_same_file_is_refused_until_the_first_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let first = SqlStore::open(Location::File(path.clone())).unwrap();
        let refused = SqlStore::open(Location::File(path.clone()))
            .err()
            .expect("refused");
        assert!(matches!(refused, StoreError::InUse(_)), "{refused}");
        assert!(
            refused.to_string().contains("another database"),
            "{refused}"
        );
        drop(first);
        SqlStore::open(Location::File(path)).expect("free again");
    }

    #[test]
    fn a_database_from_a_newer_sandbox_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(SqlStore::open(Location::File(path.clone())).unwrap());
        // A later version's migration, recorded as sqlx records it.
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            sqlx::any::install_default_drivers();
            let pool = AnyPool::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            sqlx::query(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99, 'future', TRUE, x'00', 0)",
            )
            .execute(&pool)
            .await
            .unwrap();
            pool.close().await;
        });
        let refused = SqlStore::open(Location::File(path)).err().expect("refused");
        assert!(matches!(refused, StoreError::Newer(_)), "{refused}");
    }

    #[tokio::test]
    async fn a_duplicate_sequence_number_fails_its_whole_group_visibly() {
        let store = SqlStore::open(Location::Memory).unwrap();
        store
            .append(Record {
                seq: 1,
                json: "{}".into(),
            })
            .await
            .unwrap()
            .unwrap();
        let err = store
            .append(Record {
                seq: 1,
                json: "{}".into(),
            })
            .await
            .unwrap();
        assert!(err.is_err());
    }
}
