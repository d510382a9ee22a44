//! The one path every change takes: changes queue for the writer task, which applies them in
//! groups, each group one transaction and each change a savepoint within it. A refused (or
//! panicking) change is rolled back alone; the others commit together, and every caller is
//! answered only once the transaction holding its change has committed. So every acknowledged
//! write survives a crash, a refused request changes nothing, and concurrent writers share the
//! cost of the disk's sync.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::credentials::Credentials;
use crate::health::Health;
use crate::store::Db;
use crate::world::{Change, Failure, Genesis, Remembered, State, StorageFault, StorageKind, World};

/// The most changes one transaction holds.
const MAX_GROUP: usize = 256;

/// A change waiting for the writer, with where its answer goes. It stays with the writer while
/// it runs, so that its caller is answered whatever becomes of the group (a failed commit, a
/// group given up after the storage timeout).
pub trait Job: Send {
    /// Applies the change and keeps its result.
    fn run<'a>(&'a mut self, world: &'a mut World<'_>) -> BoxFuture<'a, Ran>;
    /// Answers the caller: the change's result once its group committed, else `failed`.
    fn answer(self: Box<Self>, failed: Option<Failure>);
}

/// What became of one change.
pub enum Ran {
    Applied,
    /// Refused (or panicked): rolled back alone.
    Refused,
    /// The storage failed under it: rolled back alone, and the writer's health told.
    StorageFailed(StorageFault),
}

struct Submitted<C: Change> {
    change: C,
    reply: oneshot::Sender<Result<C::Output, Failure>>,
    result: Option<Result<C::Output, Failure>>,
}

impl<C: Change> Job for Submitted<C> {
    fn run<'a>(&'a mut self, world: &'a mut World<'_>) -> BoxFuture<'a, Ran> {
        Box::pin(async move {
            let result = AssertUnwindSafe(self.change.apply(world))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    tracing::error!("a change panicked; it was rolled back");
                    Err(Failure::Internal)
                });
            let ran = match &result {
                Ok(_) => Ran::Applied,
                Err(Failure::Storage(fault)) => Ran::StorageFailed(fault.clone()),
                Err(_) => Ran::Refused,
            };
            self.result = Some(result);
            ran
        })
    }

    fn answer(self: Box<Self>, failed: Option<Failure>) {
        let result = match (failed, self.result) {
            (Some(failure), _) => Err(failure),
            (None, Some(result)) => result,
            (None, None) => Err(Failure::Internal),
        };
        let _ = self.reply.send(result);
    }
}

/// The queue to the writer.
#[derive(Clone)]
pub struct Writer(mpsc::UnboundedSender<Box<dyn Job>>);

impl Writer {
    /// Starts the writer task on `db`; it ends once every [`Writer`] is dropped. After each
    /// commit it tells `credentials` what changed (and, on PostgreSQL, the other replicas, by a
    /// notification sent with the commit), and `health` how every group went.
    pub fn start(
        db: Arc<Db>,
        genesis: Genesis,
        credentials: Arc<Credentials>,
        health: Arc<Health>,
    ) -> Self {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(run(db, genesis, credentials, health, jobs));
        Self(queue)
    }

    /// Applies `change`; answers once it is durable (or refused, changing nothing).
    pub async fn execute<C: Change>(&self, change: C) -> Result<C::Output, Failure> {
        let (reply, answer) = oneshot::channel();
        self.0
            .send(Box::new(Submitted {
                change,
                reply,
                result: None,
            }))
            .map_err(|_| Failure::Storage(StorageFault::other("the writer has stopped")))?;
        answer.await.unwrap_or_else(|_| {
            Err(Failure::Storage(StorageFault::other(
                "the writer has stopped",
            )))
        })
    }
}

async fn run(
    db: Arc<Db>,
    genesis: Genesis,
    credentials: Arc<Credentials>,
    health: Arc<Health>,
    mut jobs: mpsc::UnboundedReceiver<Box<dyn Job>>,
) {
    let mut conn = None;
    // The group's deadline: past the storage's own timeouts (which say more precisely what is
    // wrong), for a connection that stopped answering altogether.
    let deadline = db.timeout() + db.timeout() / 2;
    while let Some(first) = jobs.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let connection = match conn.take() {
            Some(c) => Ok(c),
            None => db.pool.acquire().await,
        };
        let mut connection = match connection {
            Ok(c) => c,
            Err(e) => {
                let fault = StorageFault::from(e);
                health.failed(&fault);
                for job in group {
                    job.answer(Some(Failure::Storage(fault.clone())));
                }
                continue;
            }
        };
        let applied = tokio::time::timeout(
            deadline,
            apply_group(&db, &mut connection, &genesis, &mut group),
        )
        .await
        .unwrap_or_else(|_| {
            Err(Failure::Storage(StorageFault::new(
                StorageKind::Timeout,
                format!(
                    "a group of {} changes was given up after {:.1} s",
                    group.len(),
                    deadline.as_secs_f64()
                ),
            )))
        });
        let failed = match applied {
            Ok(done) => {
                conn = Some(connection);
                match done.storage_failed {
                    Some(fault) => health.failed(&fault),
                    None => health.committed(),
                }
                credentials.committed(done.now, done.tokens_changed);
                None
            }
            Err(failure) => {
                if let Failure::Storage(fault) = &failure {
                    health.failed(fault);
                } else {
                    tracing::error!(error = %failure, "a group of changes could not be committed");
                }
                // The connection may be broken, or left inside a transaction its database has
                // already ended (SQLite ends one itself when the disk is full, and then refuses
                // the rollback): it is closed, never reused, and the next group takes another.
                connection.close_on_drop();
                drop(connection);
                Some(failure)
            }
        };
        for job in group {
            job.answer(failed.clone());
        }
    }
}

/// What a committed group left.
struct Committed {
    now: chrono::DateTime<chrono::Utc>,
    tokens_changed: bool,
    /// A change of the group that the storage failed under (rolled back alone).
    storage_failed: Option<StorageFault>,
}

/// One transaction: every change of the group in a savepoint of its own, then the world's row,
/// then the commit.
async fn apply_group(
    db: &Db,
    conn: &mut sqlx::AnyConnection,
    genesis: &Genesis,
    group: &mut [Box<dyn Job>],
) -> Result<Committed, Failure> {
    let mut tx = db.begin_write(conn).await?;
    let before = State::load(&mut tx, genesis).await?;
    let mut state = before.clone();
    let mut tokens_changed = false;
    let mut storage_failed = None;
    let mut remembered = Remembered::default();
    for job in group.iter_mut() {
        // A savepoint per change, rolled back to if the change fails. One that applied is left
        // in place (not released): the commit releases them all, a statement fewer per change.
        sqlx::query("SAVEPOINT change").execute(&mut *tx).await?;
        let mut world = World::new(&mut tx, genesis.clone(), state.clone())
            .remembering(std::mem::take(&mut remembered));
        let ran = job.run(&mut world).await;
        let after = world.state();
        let touched = world.tokens_changed();
        let learnt = world.take_remembered();
        if let Ran::Applied = ran {
            state = after;
            tokens_changed |= touched;
            remembered = learnt;
        } else {
            if let Ran::StorageFailed(fault) = ran {
                storage_failed = Some(fault);
            }
            // What it learnt may include its own writes, now undone. The most recent savepoint
            // of a name is the one rolled back to. It is gone when the database ended the whole
            // transaction itself (SQLite does on a full disk): the whole group fails, for the
            // reason the change failed.
            if let Err(e) = sqlx::query("ROLLBACK TO SAVEPOINT change")
                .execute(&mut *tx)
                .await
            {
                return Err(Failure::Storage(storage_failed.unwrap_or_else(|| e.into())));
            }
        }
    }
    if state != before {
        state.store(&mut tx).await?;
    }
    // Replicas on PostgreSQL hear of a moved clock or a changed token from this commit (the
    // notification is sent when, and only if, the transaction commits).
    if (state.now != before.now || tokens_changed) && tx.backend_name() == "PostgreSQL" {
        let notice = crate::credentials::notice(state.now, tokens_changed);
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(crate::credentials::CHANNEL)
            .bind(notice)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Committed {
        now: state.now,
        tokens_changed,
        storage_failed,
    })
}
