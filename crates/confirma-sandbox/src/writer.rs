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
use crate::store::Db;
use crate::world::{Change, Failure, Genesis, Remembered, State, World, tables};

/// The most changes one transaction holds.
const MAX_GROUP: usize = 256;

/// A change waiting for the writer, with where its answer goes.
pub trait Job: Send {
    /// Applies the change; says whether it applied, and how to answer once the group is done.
    fn run<'a>(self: Box<Self>, world: &'a mut World<'_>) -> BoxFuture<'a, Outcome>;
}

pub struct Outcome {
    applied: bool,
    /// Answers the caller, given how the group's commit went.
    answer: Box<dyn FnOnce(Option<Failure>) + Send>,
}

struct Submitted<C: Change> {
    change: C,
    reply: oneshot::Sender<Result<C::Output, Failure>>,
}

impl<C: Change> Job for Submitted<C> {
    fn run<'a>(self: Box<Self>, world: &'a mut World<'_>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Submitted { change, reply } = *self;
            let result = AssertUnwindSafe(change.apply(world))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    tracing::error!("a change panicked; it was rolled back");
                    Err(Failure::Internal)
                });
            Outcome {
                applied: result.is_ok(),
                answer: Box::new(move |failed| {
                    let _ = reply.send(match failed {
                        Some(failure) => Err(failure),
                        None => result,
                    });
                }),
            }
        })
    }
}

/// The queue to the writer.
#[derive(Clone)]
pub struct Writer(mpsc::UnboundedSender<Box<dyn Job>>);

impl Writer {
    /// Starts the writer task on `db`; it ends once every [`Writer`] is dropped. After each
    /// commit it tells `credentials` (if this process remembers them) what changed.
    pub fn start(db: Arc<Db>, genesis: Genesis, credentials: Option<Arc<Credentials>>) -> Self {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(run(db, genesis, credentials, jobs));
        Self(queue)
    }

    /// Applies `change`; answers once it is durable (or refused, changing nothing).
    pub async fn execute<C: Change>(&self, change: C) -> Result<C::Output, Failure> {
        let (reply, answer) = oneshot::channel();
        self.0
            .send(Box::new(Submitted { change, reply }))
            .map_err(|_| Failure::Storage("the writer has stopped".into()))?;
        answer
            .await
            .unwrap_or_else(|_| Err(Failure::Storage("the change could not be stored".into())))
    }
}

async fn run(
    db: Arc<Db>,
    genesis: Genesis,
    credentials: Option<Arc<Credentials>>,
    mut jobs: mpsc::UnboundedReceiver<Box<dyn Job>>,
) {
    let mut conn = None;
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
                // Dropping the group answers each caller that its change was not stored.
                tracing::error!(error = %e, "no database connection for the writer");
                continue;
            }
        };
        let mut outcomes = Vec::with_capacity(group.len());
        let committed = apply_group(&db, &mut connection, &genesis, group, &mut outcomes).await;
        let failed = match committed {
            Ok(done) => {
                conn = Some(connection);
                if let Some(credentials) = &credentials {
                    credentials.committed(done.now, done.tokens_changed);
                }
                None
            }
            Err(e) => {
                // The connection may be broken: the next group takes another.
                tracing::error!(error = %e, "a group of changes could not be committed");
                drop(connection);
                Some(e)
            }
        };
        for outcome in outcomes {
            (outcome.answer)(failed.clone());
        }
    }
}

/// What a committed group left.
struct Committed {
    now: chrono::DateTime<chrono::Utc>,
    tokens_changed: bool,
}

/// One transaction: every change of the group in a savepoint of its own, then the world's row,
/// then the commit.
async fn apply_group(
    db: &Db,
    conn: &mut sqlx::AnyConnection,
    genesis: &Genesis,
    group: Vec<Box<dyn Job>>,
    outcomes: &mut Vec<Outcome>,
) -> Result<Committed, Failure> {
    let mut tx = db.begin_write(conn).await?;
    let before = tables::state(&mut tx)
        .await?
        .unwrap_or_else(|| State::fresh(genesis));
    let mut state = before.clone();
    let mut tokens_changed = false;
    let mut remembered = Remembered::default();
    for job in group {
        // A savepoint per change, rolled back to if the change fails. One that applied is left
        // in place (not released): the commit releases them all, a statement fewer per change.
        sqlx::query("SAVEPOINT change").execute(&mut *tx).await?;
        let mut world = World::new(&mut tx, genesis.clone(), state.clone())
            .remembering(std::mem::take(&mut remembered));
        let outcome = job.run(&mut world).await;
        let after = world.state();
        let touched = world.tokens_changed();
        let learnt = world.take_remembered();
        if outcome.applied {
            state = after;
            tokens_changed |= touched;
            remembered = learnt;
        } else {
            // What it learnt may include its own writes, now undone. The most recent savepoint
            // of a name is the one rolled back to.
            sqlx::query("ROLLBACK TO SAVEPOINT change")
                .execute(&mut *tx)
                .await?;
        }
        outcomes.push(outcome);
    }
    if state != before {
        tables::put_state(&mut tx, &state).await?;
    }
    tx.commit().await?;
    Ok(Committed {
        now: state.now,
        tokens_changed,
    })
}
