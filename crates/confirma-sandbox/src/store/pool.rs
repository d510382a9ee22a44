//! The database's connections: a bounded pool of sqlx connections (deadpool), each handed to one
//! request or to the writer at a time.
//!
//! Not sqlx's own pool: that one pings every connection it takes back (sqlx-core 0.9.1,
//! `pool/connection.rs`, "test the connection on-release"), and on PostgreSQL, with its test
//! before use, a one-statement read cost three round trips (`docs/profiles/postgresql-lookup.svg`:
//! the pings were a quarter of the sandbox's samples). Here a connection goes back to the pool as
//! it is, and is tested only when that can tell something (see [`Manager::recycle`]), as HikariCP
//! does (its `aliveBypassWindowMs`). The pool hands out the connection used last first. A connection still owes its database something (the `ROLLBACK`
//! of a transaction dropped with its request, which sqlx queues) is flushed first, so that no
//! connection waits idle inside a transaction.

use std::ops::{Deref, DerefMut};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use deadpool::managed::{Metrics, Object, RecycleError, RecycleResult};
use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, Connection};

/// The pool: connections made by [`Manager`], handed out as [`Conn`].
pub type Pool = deadpool::managed::Pool<Manager, Conn>;

/// A pool of at most `size` connections made by `manager`, each wait for one, making one and
/// testing one bounded by `timeout`.
pub fn build(manager: Manager, size: usize, timeout: Duration) -> Pool {
    Pool::builder(manager)
        .max_size(size)
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(timeout))
        // The connection used last goes out first: under light load the same few stay in use
        // (and within the window in which they are not tested), the rest idle.
        .queue_mode(deadpool::managed::QueueMode::Lifo)
        .build()
        .expect("a runtime is given for the timeouts")
}

/// A connection of `pool`, its failures as sqlx's.
pub async fn get(pool: &Pool) -> Result<Conn, sqlx::Error> {
    use deadpool::managed::PoolError;
    pool.get().await.map_err(|e| match e {
        PoolError::Backend(e) => e,
        PoolError::Timeout(_) => sqlx::Error::PoolTimedOut,
        PoolError::Closed => sqlx::Error::PoolClosed,
        e => sqlx::Error::Protocol(e.to_string()),
    })
}

/// A PostgreSQL connection used within this long is not pinged before its next use: it answered
/// a moment ago (HikariCP's default `aliveBypassWindowMs`).
const ALIVE_BYPASS: Duration = Duration::from_millis(500);

/// Makes the pool's connections and decides whether an idle one is fit to hand out.
pub struct Manager {
    pub(super) options: AnyConnectOptions,
    /// Statements run on every new connection (its pragmas or session settings).
    pub(super) settings: String,
    pub(super) postgres: bool,
    /// The longest a connection's pending `ROLLBACK` may take when it returns.
    pub(super) timeout: Duration,
    /// Where the connections are made: on the runtime that opened the database, whichever task
    /// asks (the readers' pool), or on the asking task's own (the writer's, which runs on a
    /// runtime of its own, [`crate::writer`]). A PostgreSQL connection's socket is served by
    /// the I/O driver of the runtime it was made on: a reader's must not wait for the writer's
    /// one thread, busy for a whole step of an advance, and the writer's is best woken by that
    /// thread itself.
    pub(super) runtime: Option<tokio::runtime::Handle>,
}

impl Manager {
    pub(super) async fn connect(
        options: AnyConnectOptions,
        settings: String,
    ) -> Result<AnyConnection, sqlx::Error> {
        let mut conn = AnyConnection::connect_with(&options).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(settings))
            .execute(&mut conn)
            .await?;
        Ok(conn)
    }
}

impl deadpool::managed::Manager for Manager {
    type Type = AnyConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<AnyConnection, sqlx::Error> {
        let connecting = Self::connect(self.options.clone(), self.settings.clone());
        match &self.runtime {
            Some(runtime) => {
                // Given up with its caller (the pool's timeout, a request gone).
                let mut task = AbortOnDrop(runtime.spawn(connecting));
                match (&mut task.0).await {
                    Ok(made) => made,
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(e) => Err(sqlx::Error::Io(std::io::Error::other(e))),
                }
            }
            None => connecting.await,
        }
    }

    /// An SQLite connection lives in this process: it is always fit. A PostgreSQL one is pinged
    /// when it was last handed out longer than [`ALIVE_BYPASS`] ago (the server may have closed
    /// it meanwhile), or when a connection was lost since ([`connection_lost`]); one that fails
    /// the ping (or does not answer within the storage timeout) is dropped and another taken or
    /// made.
    async fn recycle(
        &self,
        conn: &mut AnyConnection,
        metrics: &Metrics,
    ) -> RecycleResult<sqlx::Error> {
        if !self.postgres {
            return Ok(());
        }
        let handed_out = metrics.recycled.unwrap_or(metrics.created);
        if metrics.last_used() > ALIVE_BYPASS || lost_since(handed_out) {
            conn.ping().await.map_err(RecycleError::Backend)?;
        }
        Ok(())
    }
}

/// A task aborted when its handle is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A connection of the pool; back to the pool when dropped.
pub struct Conn(Option<Object<Manager>>);

impl From<Object<Manager>> for Conn {
    fn from(object: Object<Manager>) -> Self {
        Self(Some(object))
    }
}

impl Conn {
    /// Drops the connection instead of returning it: it may be broken, or inside a transaction
    /// its database has already ended. The pool makes another when it needs one.
    pub fn discard(mut self) {
        if let Some(object) = self.0.take() {
            drop(Object::take(object));
        }
    }

    /// Closes the connection gracefully, out of the pool.
    pub async fn close(mut self) -> Result<(), sqlx::Error> {
        match self.0.take() {
            Some(object) => Object::take(object).close().await,
            None => Ok(()),
        }
    }
}

impl Deref for Conn {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        self.0.as_ref().expect("a connection until dropped")
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.0.as_mut().expect("a connection until dropped")
    }
}

impl Drop for Conn {
    /// Back to the pool; first, on PostgreSQL, whatever the connection still has to send (the
    /// `ROLLBACK` sqlx queued for a transaction dropped unfinished), on a task of its own.
    fn drop(&mut self) {
        let Some(mut object) = self.0.take() else {
            return;
        };
        if !object.should_flush() {
            return;
        }
        let timeout = Object::pool(&object).map_or(ALIVE_BYPASS, |pool| pool.manager().timeout);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    // A connection that fails or does not answer in time is not reused.
                    if !matches!(
                        tokio::time::timeout(timeout, object.flush()).await,
                        Ok(Ok(()))
                    ) {
                        drop(Object::take(object));
                    }
                });
            }
            // No runtime to flush on: the connection is not reused.
            Err(_) => drop(Object::take(object)),
        }
    }
}

/// When a connection was last found lost, in nanoseconds after [`EPOCH`] plus one (0: never).
static LOST_AT: AtomicU64 = AtomicU64::new(0);
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

/// Says that a connection to the database was found lost (the server restarted, say): every
/// pooled PostgreSQL connection handed out before now is pinged before its next use. Connections
/// in use within [`ALIVE_BYPASS`] are otherwise never tested, so without this a pool kept busy
/// would hand out the broken ones again and again.
pub fn connection_lost() {
    let at = EPOCH.elapsed().as_nanos().min(u128::from(u64::MAX - 1)) as u64 + 1;
    LOST_AT.fetch_max(at, Ordering::Relaxed);
}

fn lost_since(handed_out: Instant) -> bool {
    match LOST_AT.load(Ordering::Relaxed) {
        0 => false,
        at => *EPOCH + Duration::from_nanos(at - 1) >= handed_out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_connection_marks_every_connection_handed_out_before_it() {
        let before = Instant::now();
        std::thread::sleep(Duration::from_millis(2));
        connection_lost();
        std::thread::sleep(Duration::from_millis(2));
        let after = Instant::now();
        assert!(lost_since(before));
        assert!(!lost_since(after));
    }
}
