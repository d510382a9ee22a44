//! Durable storage behind one narrow interface: an append-only log of commands.
//!
//! The sandbox keeps its world in memory and persists every accepted command before it answers.
//! On start it replays the log, which rebuilds exactly the same world (commands are applied
//! deterministically). So a backend only needs two operations, [`Store::load`] and
//! [`Store::append`]: the embedded SQLite store here, and later PostgreSQL.
//!
//! Appends are committed in groups: one writer thread takes every command queued while the
//! previous transaction was committing, writes them in one transaction and syncs once. A caller is
//! answered only after the transaction holding its command has committed, so every acknowledged
//! write survives a crash, and concurrent writers share the cost of the sync.

use std::path::Path;
use std::sync::mpsc;

use rusqlite::OptionalExtension;
use tokio::sync::oneshot;

/// One persisted command: its position in the log and its JSON form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub seq: u64,
    pub json: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the storage writer has stopped")]
    WriterGone,
    #[error(
        "{} is in use by another confirma-sandbox process: stop that one, or give this one another --db",
        .0.display()
    )]
    InUse(std::path::PathBuf),
    #[error("cannot lock the database: {0}")]
    Lock(#[from] std::io::Error),
}

/// The storage interface: load the whole log, append to it durably, and keep the few settings
/// that belong to the database rather than to the run (its generated secrets).
pub trait Store: Send + Sync + 'static {
    /// Every record, in log order.
    fn load(&self) -> Result<Vec<Record>, StoreError>;
    /// The value kept under `key`, or `init()` stored under it durably first if there is none.
    fn setting(&self, key: &str, init: &dyn Fn() -> String) -> Result<String, StoreError>;
    /// Queues `record` for the next group commit. The returned receiver resolves once the record
    /// is durable (or the commit failed). Records are committed in the order they are queued.
    fn append(&self, record: Record) -> oneshot::Receiver<Result<(), String>>;
}

type Job = (Record, oneshot::Sender<Result<(), String>>);

/// The embedded default: SQLite in WAL mode with `synchronous=FULL`, one writer thread.
pub struct SqliteStore {
    path: Option<std::path::PathBuf>,
    queue: mpsc::Sender<Job>,
    /// The settings of an in-memory store (a file keeps them in its `settings` table).
    memory_settings: std::sync::Mutex<std::collections::BTreeMap<String, String>>,
    /// An exclusive lock on `<db>.lock`, held while the store is open, so that a second
    /// process on the same file is refused at start instead of serving stale reads.
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
        .open(std::path::PathBuf::from(name))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::InUse(path.to_path_buf())),
        Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Lock(e)),
    }
}

const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS commands (seq INTEGER PRIMARY KEY, json TEXT NOT NULL);
     CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);";

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, or a private in-memory database.
    pub fn open(path: Option<&Path>) -> Result<Self, StoreError> {
        let lock = path.map(lock).transpose()?;
        let conn = match path {
            Some(p) => rusqlite::Connection::open(p)?,
            None => rusqlite::Connection::open_in_memory()?,
        };
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        let (queue, jobs) = mpsc::channel::<Job>();
        // The writer owns this connection; loads open their own (an in-memory database is new
        // and so has nothing to load).
        std::thread::Builder::new()
            .name("sandbox-store-writer".into())
            .spawn(move || writer_loop(conn, jobs))
            .expect("spawn the storage writer");
        Ok(Self {
            path: path.map(Path::to_path_buf),
            queue,
            memory_settings: Default::default(),
            _lock: lock,
        })
    }
}

fn writer_loop(mut conn: rusqlite::Connection, jobs: mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        // Everything queued meanwhile joins this commit.
        while let Ok(job) = jobs.try_recv() {
            batch.push(job);
            if batch.len() >= 4096 {
                break;
            }
        }
        let result = commit(&mut conn, &batch).map_err(|e| e.to_string());
        for (_, done) in batch {
            let _ = done.send(result.clone());
        }
    }
}

fn commit(conn: &mut rusqlite::Connection, batch: &[Job]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare_cached("INSERT INTO commands (seq, json) VALUES (?1, ?2)")?;
        for (record, _) in batch {
            insert.execute(rusqlite::params![record.seq as i64, record.json])?;
        }
    }
    tx.commit()
}

impl Store for SqliteStore {
    fn load(&self) -> Result<Vec<Record>, StoreError> {
        let Some(path) = &self.path else {
            return Ok(Vec::new());
        };
        let conn = rusqlite::Connection::open(path)?;
        let mut stmt = conn.prepare("SELECT seq, json FROM commands ORDER BY seq")?;
        let rows = stmt.query_map([], |row| {
            Ok(Record {
                seq: row.get::<_, i64>(0)? as u64,
                json: row.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn setting(&self, key: &str, init: &dyn Fn() -> String) -> Result<String, StoreError> {
        let Some(path) = &self.path else {
            let mut settings = self
                .memory_settings
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            return Ok(settings.entry(key.to_string()).or_insert_with(init).clone());
        };
        let mut conn = rusqlite::Connection::open(path)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let existing: Option<String> = tx
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()?;
        let value = match existing {
            Some(value) => value,
            None => {
                let value = init();
                tx.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2)",
                    [key, value.as_str()],
                )?;
                value
            }
        };
        tx.commit()?;
        Ok(value)
    }

    fn append(&self, record: Record) -> oneshot::Receiver<Result<(), String>> {
        let (done, wait) = oneshot::channel();
        if let Err(mpsc::SendError((_, done))) = self.queue.send((record, done)) {
            let _ = done.send(Err(StoreError::WriterGone.to_string()));
        }
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn appended_records_survive_reopening_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let store = SqliteStore::open(Some(&path)).unwrap();
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
        let store = SqliteStore::open(Some(&path)).unwrap();
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
    fn a_setting_is_generated_once_and_kept_by_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let first = SqliteStore::open(Some(&path))
            .unwrap()
            .setting("admin", &|| "one".into())
            .unwrap();
        let again = SqliteStore::open(Some(&path))
            .unwrap()
            .setting("admin", &|| "two".into())
            .unwrap();
        assert_eq!((first.as_str(), again.as_str()), ("one", "one"));
        let memory = SqliteStore::open(None).unwrap();
        assert_eq!(memory.setting("admin", &|| "x".into()).unwrap(), "x");
        assert_eq!(memory.setting("admin", &|| "y".into()).unwrap(), "x");
    }

    #[test]
    fn a_second_store_on_the_same_file_is_refused_until_the_first_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let first = SqliteStore::open(Some(&path)).unwrap();
        let refused = SqliteStore::open(Some(&path)).err().expect("refused");
        assert!(matches!(refused, StoreError::InUse(_)), "{refused}");
        assert!(refused.to_string().contains("another --db"), "{refused}");
        drop(first);
        SqliteStore::open(Some(&path)).expect("free again");
    }

    #[tokio::test]
    async fn a_duplicate_sequence_number_fails_its_whole_group_visibly() {
        let store = SqliteStore::open(None).unwrap();
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
