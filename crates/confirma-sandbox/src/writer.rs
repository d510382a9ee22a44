//! The one path every change takes: changes queue for the writer task, which applies them in
//! groups, each group one transaction and each change a savepoint within it. A refused (or
//! panicking) change is rolled back alone; the others commit together, and every caller is
//! answered only once the transaction holding its change has committed. So every acknowledged
//! write survives a crash, a refused request changes nothing, and concurrent writers share the
//! cost of the disk's sync. A group may hold changes of several spaces: each change applies to
//! its own space's world, and on PostgreSQL the group first takes the write lock of each of its
//! spaces (in order), so that replicas writing to different spaces never wait for each other.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use std::collections::BTreeMap;

use crate::credentials::Credentials;
use crate::health::Health;
use crate::spaces::Spaces;
use crate::store::Db;
use crate::world::{
    Change, Failure, Genesis, Remembered, SpaceId, State, StorageFault, StorageKind, World,
    unknown_token,
};

/// The most changes one transaction holds.
const MAX_GROUP: usize = 256;

/// A change waiting for the writer, with where its answer goes. It stays with the writer while
/// it runs, so that its caller is answered whatever becomes of the group (a failed commit, a
/// group given up after the storage timeout).
pub trait Job: Send {
    /// The space the change applies to.
    fn space(&self) -> SpaceId;
    /// See [`Change::without_space`].
    fn without_space(&self) -> Option<Genesis>;
    /// Applies the change and keeps its result.
    fn run<'a>(&'a mut self, world: &'a mut World<'_>) -> BoxFuture<'a, Ran>;
    /// Keeps a refusal made without running the change.
    fn refuse(&mut self, failure: Failure);
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
    space: SpaceId,
    change: C,
    reply: oneshot::Sender<Result<C::Output, Failure>>,
    result: Option<Result<C::Output, Failure>>,
}

impl<C: Change> Job for Submitted<C> {
    fn space(&self) -> SpaceId {
        self.space
    }

    fn without_space(&self) -> Option<Genesis> {
        self.change.without_space()
    }

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

    fn refuse(&mut self, failure: Failure) {
        self.result = Some(Err(failure));
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
    /// commit it tells `credentials` what changed in each space (and, on PostgreSQL, the other
    /// replicas, by a notification sent with the commit), and `health` how every group went.
    pub fn start(
        db: Arc<Db>,
        spaces: Arc<Spaces>,
        credentials: Arc<Credentials>,
        health: Arc<Health>,
    ) -> Self {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(run(db, spaces, credentials, health, jobs));
        Self(queue)
    }

    /// Applies `change` to `space`; answers once it is durable (or refused, changing nothing).
    pub async fn execute<C: Change>(
        &self,
        space: SpaceId,
        change: C,
    ) -> Result<C::Output, Failure> {
        let (reply, answer) = oneshot::channel();
        self.0
            .send(Box::new(Submitted {
                space,
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
    spaces: Arc<Spaces>,
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
            apply_group(&db, &spaces, &mut connection, &mut group),
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
                for space in done.spaces {
                    if space.gone {
                        spaces.forget(space.space);
                        credentials.gone(space.space);
                    } else {
                        credentials.committed(space.space, space.now, space.tokens_changed);
                    }
                }
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

/// What a committed group left in one space.
struct Left {
    space: SpaceId,
    now: chrono::DateTime<chrono::Utc>,
    tokens_changed: bool,
    /// The space was deleted.
    gone: bool,
}

/// What a committed group left.
struct Committed {
    spaces: Vec<Left>,
    /// A change of the group that the storage failed under (rolled back alone).
    storage_failed: Option<StorageFault>,
}

/// One space as the group's transaction sees it.
#[derive(Default)]
struct InSpace {
    genesis: Option<Genesis>,
    /// Its own row when the group began (`None`: it has none).
    before: Option<State>,
    state: Option<State>,
    remembered: Remembered,
    tokens_changed: bool,
    gone: bool,
}

/// One transaction: the write lock of each of the group's spaces, every change of the group in
/// a savepoint of its own, then each space's own row, then the commit.
async fn apply_group(
    db: &Db,
    spaces: &Spaces,
    conn: &mut sqlx::AnyConnection,
    group: &mut [Box<dyn Job>],
) -> Result<Committed, Failure> {
    let mut tx = db.begin_write(conn).await?;
    let mut touched: BTreeMap<SpaceId, InSpace> = BTreeMap::new();
    for job in group.iter() {
        touched.entry(job.space()).or_default();
    }
    db.lock_spaces(&mut tx, touched.keys().map(|s| s.0)).await?;
    for (space, entry) in touched.iter_mut() {
        entry.before = State::stored(&mut tx, *space).await?;
        if entry.before.is_some() || space.is_default() {
            entry.genesis = spaces.genesis(&mut tx, *space).await?;
        }
        entry.state = match (&entry.before, &entry.genesis) {
            (Some(state), _) => Some(state.clone()),
            // The default space before its seed: fresh.
            (None, Some(genesis)) => Some(State::fresh(genesis)),
            (None, None) => None,
        };
    }
    let mut storage_failed = None;
    for job in group.iter_mut() {
        let space = job.space();
        let entry = touched.get_mut(&space).expect("every space of the group");
        let (genesis, state) = match (&entry.genesis, &entry.state, job.without_space()) {
            (Some(genesis), Some(state), _) if !entry.gone => (genesis.clone(), state.clone()),
            (_, _, Some(genesis)) => {
                let fresh = State::fresh(&genesis);
                (genesis, fresh)
            }
            _ => {
                // The space was deleted (or never was): its credential is no longer good.
                job.refuse(unknown_token().into());
                continue;
            }
        };
        // A savepoint per change, rolled back to if the change fails. One that applied is left
        // in place (not released): the commit releases them all, a statement fewer per change.
        sqlx::query("SAVEPOINT change").execute(&mut *tx).await?;
        let mut world = World::new(&mut tx, space, genesis.clone(), state)
            .remembering(std::mem::take(&mut entry.remembered));
        let ran = job.run(&mut world).await;
        let after = world.state();
        let touched_tokens = world.tokens_changed();
        let gone = world.is_gone();
        let learnt = world.take_remembered();
        if let Ran::Applied = ran {
            if entry.state.is_none() && !gone {
                // A new space, which stored its own row.
                entry.before = Some(after.clone());
                entry.genesis = Some(genesis);
            }
            entry.state = Some(after);
            entry.tokens_changed |= touched_tokens;
            entry.gone |= gone;
            entry.remembered = learnt;
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
    let postgres = tx.backend_name() == "PostgreSQL";
    let mut left = Vec::new();
    for (space, entry) in touched {
        let Some(state) = entry.state else { continue };
        if entry.gone {
            left.push(Left {
                space,
                now: state.now,
                tokens_changed: true,
                gone: true,
            });
        } else {
            if entry.before.as_ref() != Some(&state) {
                state.store(&mut tx, space).await?;
            }
            left.push(Left {
                space,
                now: state.now,
                tokens_changed: entry.tokens_changed,
                gone: false,
            });
        }
        // Replicas on PostgreSQL hear of a moved clock, a changed token or a deleted space from
        // this commit (the notification is sent when, and only if, the transaction commits).
        let moved = entry.before.as_ref().map(|b| b.now) != Some(state.now);
        if postgres && (moved || entry.tokens_changed || entry.gone) {
            let notice =
                crate::credentials::notice(space, state.now, entry.tokens_changed || entry.gone);
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::credentials::CHANNEL)
                .bind(notice)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(Committed {
        spaces: left,
        storage_failed,
    })
}
