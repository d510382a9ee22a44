//! The one path every change takes: changes queue for the writer task, which applies them in
//! groups, each group one transaction and each change a savepoint within it. A refused (or
//! panicking) change is rolled back alone; the others commit together, and every caller is
//! answered only once the transaction holding its change has committed. The creates of a group
//! hold their new rows back ([`crate::world::Pending`]) and take a savepoint only if they write
//! anything else, so that a group of creates costs one lookup each and a few multi-row
//! statements in all; a storage failure of a create without a savepoint fails its group. So every acknowledged
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
    Change, Failure, Genesis, Pending, Probe, Remembered, SpaceId, State, StorageFault,
    StorageKind, World, unknown_token,
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
    /// See [`Change::defers_writes`].
    fn defers(&self) -> bool;
    /// See [`Change::probe`].
    fn probe(&self) -> Option<Probe>;
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
    reply: Reply<C>,
    result: Option<Result<C::Output, Failure>>,
}

/// Where a change's answer goes: with the change itself, so that the requester's task, not the
/// writer's, drops it (a create's request is a tree of allocations).
type Reply<C> = oneshot::Sender<(Result<<C as Change>::Output, Failure>, C)>;

impl<C: Change> Job for Submitted<C> {
    fn space(&self) -> SpaceId {
        self.space
    }

    fn without_space(&self) -> Option<Genesis> {
        self.change.without_space()
    }

    fn defers(&self) -> bool {
        self.change.defers_writes()
    }

    fn probe(&self) -> Option<Probe> {
        self.change.probe()
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
        let Submitted {
            change,
            reply,
            result,
            ..
        } = *self;
        let result = match (failed, result) {
            (Some(failure), _) => Err(failure),
            (None, Some(result)) => result,
            (None, None) => Err(Failure::Internal),
        };
        let _ = reply.send((result, change));
    }
}

/// The queue to the writer.
#[derive(Clone)]
pub struct Writer(mpsc::UnboundedSender<Box<dyn Job>>);

impl Writer {
    /// Starts the writer task on `db`; it ends once every [`Writer`] is dropped. After each
    /// commit it tells `credentials` what changed in each space (and, on PostgreSQL, the other
    /// replicas, by a notification sent with the commit), and `health` how every group went.
    ///
    /// The task runs on a thread and runtime of its own. On the runtime that serves requests,
    /// every wake of the writer (a statement's row or answer, on SQLite from the connection's
    /// own thread) queued behind the tasks of the requests in flight: under 64 connections of
    /// validate requests, an 18-day advance over 200,000 invoices took 32 s instead of 18. Its
    /// PostgreSQL connection is made on that runtime too ([`Db::writer_connection`]), so that
    /// the writer's thread waits on the socket itself: durable creates on PostgreSQL doubled.
    pub fn start(
        db: Arc<Db>,
        spaces: Arc<Spaces>,
        credentials: Arc<Credentials>,
        health: Arc<Health>,
    ) -> std::io::Result<(Self, Stopped)> {
        let (queue, jobs) = mpsc::unbounded_channel();
        let within = db.timeout() + db.timeout() / 2;
        let task = run(db, spaces, credentials, health, jobs);
        let (started, start) = std::sync::mpsc::sync_channel(1);
        let (stopped, stop) = oneshot::channel();
        std::thread::Builder::new()
            .name("confirma-writer".into())
            .spawn(move || {
                // Made and dropped on this thread: a runtime may not be dropped on another's.
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = started.send(Err(e));
                        return;
                    }
                };
                let _ = started.send(Ok(()));
                runtime.block_on(task);
                // The task's database handle is dropped by now.
                let _ = stopped.send(());
            })?;
        start
            .recv()
            .map_err(|_| std::io::Error::other("the writer's thread ended at its start"))??;
        Ok((Self(queue), Stopped { stop, within }))
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
        match answer.await {
            Ok((result, change)) => {
                drop(change);
                result
            }
            Err(_) => Err(Failure::Storage(StorageFault::other(
                "the writer has stopped",
            ))),
        }
    }
}

/// The writer's end: once every [`Writer`] is dropped, it finishes its group and stops.
pub struct Stopped {
    stop: oneshot::Receiver<()>,
    /// The longest its last group may take (its deadline).
    within: std::time::Duration,
}

impl Stopped {
    /// Waits until the writer has stopped and let go of the database (at most a group's
    /// deadline): a process that ends sooner would leave an in-memory sandbox's directory behind.
    pub async fn wait(self) {
        let _ = tokio::time::timeout(self.within, self.stop).await;
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
            None => db.writer_connection().await,
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
        let others_wait = || !jobs.is_empty();
        let applied = tokio::time::timeout(
            deadline,
            apply_group(&db, &spaces, &mut connection, &mut group, &others_wait),
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
                db.committed();
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
                connection.discard();
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
    /// What its creates look for, in the order they run ([`World::looking_ahead`]), and how
    /// many of them have run.
    ahead: Arc<[Probe]>,
    looked: usize,
    /// New rows its changes held back ([`Change::defers_writes`]), written before any other
    /// change of the space and when the group ends.
    pending: Pending,
    tokens_changed: bool,
    gone: bool,
}

/// One transaction: the write lock of each of the group's spaces, every change of the group in
/// a savepoint of its own (or, for a change that defers its writes, holding its new rows back,
/// with a savepoint only once it writes anything else), then the rows held back, then each
/// space's own row, then the commit. A long change (a step of an advance) is told whether
/// `others_wait` for the writer, or share its group.
async fn apply_group(
    db: &Db,
    spaces: &Spaces,
    conn: &mut sqlx::AnyConnection,
    group: &mut [Box<dyn Job>],
    others_wait: &(dyn Fn() -> bool + Sync),
) -> Result<Committed, Failure> {
    let mut tx = db.begin_write(conn).await?;
    let mut touched: BTreeMap<SpaceId, InSpace> = BTreeMap::new();
    let mut probes: BTreeMap<SpaceId, Vec<Probe>> = BTreeMap::new();
    for job in group.iter() {
        touched.entry(job.space()).or_default();
        if let Some(probe) = job.probe() {
            probes.entry(job.space()).or_default().push(probe);
        }
    }
    for (space, probes) in probes {
        touched.entry(space).or_default().ahead = probes.into();
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
    // A long change goes on only while it is alone in its group and no other waits: the other
    // changes of a group are answered when it commits.
    let alone = group.len() == 1;
    let others_wait = move || !alone || others_wait();
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
        // A change that may hold its rows back takes its own when it first writes; before any
        // other, what the changes before it held back is written (outside its savepoint).
        // A change alone in its group takes none: if it fails, the whole transaction is rolled
        // back. In a savepoint SQLite copies each page the change first writes to a journal of
        // its own, spilled to a file past 64 KiB: for a step of an advance, thousands of pages.
        let defers = job.defers();
        let whole = alone && !defers;
        if !defers {
            entry.pending.write(&mut tx, space).await?;
            if !whole {
                sqlx::query("SAVEPOINT change").execute(&mut *tx).await?;
            }
        }
        let mut world = World::new(&mut tx, space, genesis.clone(), state)
            .remembering(std::mem::take(&mut entry.remembered))
            .looking_ahead(Arc::clone(&entry.ahead), entry.looked)
            .yielding_to(&others_wait);
        if job.probe().is_some() {
            entry.looked += 1;
        }
        if defers {
            world = world.deferring(std::mem::take(&mut entry.pending));
        }
        let ran = job.run(&mut world).await;
        let has_savepoint = !defers || world.took_savepoint();
        let unclean = world.is_unclean();
        let mut pending = world.take_pending();
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
            entry.pending = pending;
        } else if whole {
            // Nothing else of the group to keep: its transaction is rolled back, and the change
            // answers its own failure (a storage failure fails the group, and its connection).
            if let Ran::StorageFailed(fault) = ran {
                return Err(Failure::Storage(fault));
            }
            tx.rollback().await?;
            return Ok(Committed {
                spaces: Vec::new(),
                storage_failed: None,
            });
        } else {
            pending.undo_change();
            entry.pending = pending;
            if !has_savepoint {
                // It wrote nothing but the rows it held, now forgotten. A storage failure (after
                // which PostgreSQL takes no more statements), or a failure in the middle of
                // writing what the changes before it held, leaves nothing to roll back to: the
                // group fails.
                if let Ran::StorageFailed(fault) = ran {
                    return Err(Failure::Storage(fault));
                }
                if unclean {
                    return Err(Failure::Internal);
                }
                // What it learnt it read (what it held is forgotten, and writing what the
                // changes before it held forgot what that changed): the next create need not
                // look again for what the group's creates looked for together.
                entry.remembered = learnt;
                continue;
            }
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
    for (space, mut entry) in touched {
        entry.pending.write(&mut tx, space).await?;
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

#[cfg(test)]
mod tests {
    use confirma_server::types;
    use futures::future::BoxFuture;
    use sqlx::Row;
    use tokio::sync::oneshot;

    use super::{Job, Submitted, apply_group};
    use crate::spaces::Spaces;
    use crate::store::{Claim, Db, Location};
    use crate::world::checks::finnish_reference;
    use crate::world::commands::{CreateInvoice, FailNextDistribution, Seed};
    use crate::world::{Change, Failure, Genesis, SpaceId, State, World};

    /// A sandbox's database and spaces, its default space seeded (with the demo client).
    struct Sandbox {
        db: Db,
        spaces: Spaces,
        _claim: Claim,
    }

    impl Sandbox {
        async fn seeded() -> Self {
            let (db, _claim) = Db::open(Location::Memory, Default::default())
                .await
                .unwrap();
            let spaces = Spaces::new(Genesis {
                seed: 42,
                start: "2026-03-02T08:00:00Z".parse().unwrap(),
                salt: None,
                demo: true,
            });
            let sandbox = Self { db, spaces, _claim };
            sandbox.apply(vec![queued(Seed {})]).await;
            sandbox
        }

        /// Applies the changes as one group; their answers.
        async fn apply(&self, changes: Vec<Queued>) -> Vec<String> {
            self.apply_while(changes, &|| true).await
        }

        /// [`Sandbox::apply`], with `others_wait` telling whether other changes wait.
        async fn apply_while(
            &self,
            changes: Vec<Queued>,
            others_wait: &(dyn Fn() -> bool + Sync),
        ) -> Vec<String> {
            let (mut group, answers): (Vec<_>, Vec<_>) = changes.into_iter().unzip();
            let mut conn = self.db.connection().await.unwrap();
            let committed =
                apply_group(&self.db, &self.spaces, &mut conn, &mut group, others_wait).await;
            assert!(committed.is_ok(), "the group commits");
            for job in group {
                job.answer(None);
            }
            futures::future::join_all(answers).await
        }

        /// The demo client and its payment-reference prefix.
        async fn demo(&self) -> (i64, String) {
            let mut conn = self.db.connection().await.unwrap();
            let state = State::stored(&mut conn, SpaceId::DEFAULT)
                .await
                .unwrap()
                .unwrap();
            let genesis = self.spaces.genesis(&mut conn, SpaceId::DEFAULT).await;
            let mut world = World::new(
                &mut conn,
                SpaceId::DEFAULT,
                genesis.unwrap().unwrap(),
                state,
            );
            let id = world.state().demo_client.unwrap();
            let client = world.client(id).await.unwrap();
            (id, client.payment_reference_prefix)
        }
    }

    fn invoice(client_id: i64, number: i64) -> CreateInvoice {
        let example = confirma_server::Operation::CreateInvoice
            .info()
            .request_example
            .unwrap();
        let mut request: types::SalesInvoiceRequest = serde_json::from_str(example).unwrap();
        request.invoice.header.number = number;
        request.invoice.header.date = "2026-03-02".parse().unwrap();
        request.invoice.header.due_date = "2026-03-16".parse().unwrap();
        if let Some(r) = request.invoice.references.as_mut() {
            r.payment = None;
        }
        received(CreateInvoice {
            client_id,
            request: Box::new(request),
            received: None,
            request_sha256: None,
        })
    }

    /// The create as a client sends it.
    fn received(create: CreateInvoice) -> CreateInvoice {
        let sent = serde_json::to_value(&create.request).unwrap();
        CreateInvoice::received(create.client_id, *create.request, &sent)
    }

    /// A change as it applied before creates held their rows back: each write made at once.
    struct Direct<C>(C);

    impl<C: Change> Change for Direct<C> {
        type Output = C::Output;
        async fn apply(&self, world: &mut World<'_>) -> Result<C::Output, Failure> {
            self.0.apply(world).await
        }
    }

    /// A queued change, and its answer as text once answered.
    type Queued = (Box<dyn Job>, BoxFuture<'static, String>);

    fn queued<C: Change>(change: C) -> Queued
    where
        C::Output: std::fmt::Debug,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Submitted {
            space: SpaceId::DEFAULT,
            change,
            reply,
            result: None,
        });
        let answered = async move {
            let (answer, _) = answer.await.unwrap();
            format!("{:?}", answer.map_err(confirma_server::ApiError::from))
        };
        (job, Box::pin(answered))
    }

    /// The demo client's changes, each of them `direct` or as the writer applies it. Each kind
    /// of meeting with a held invoice gets an invoice of its own, held when it is met: another
    /// invoice under its number, its reference given again, a credit note of it, the same
    /// request again; then a refused create while one is held, a change of another kind (which
    /// writes what is held first), a create that writes at once (it takes the failure set for
    /// its number) and one held until the group ends.
    fn changes(client_id: i64, prefix: &str, direct: bool) -> Vec<Queued> {
        let mut other = invoice(client_id, 7001);
        other.request.invoice.header.description = Some("another".parse().unwrap());
        let mut reused = invoice(client_id, 7003);
        reused.request.invoice.references.as_mut().unwrap().payment =
            Some(finnish_reference(&format!("{prefix}7002")).parse().unwrap());
        let mut note = invoice(client_id, 7005);
        note.request.invoice.header.type_ = Some(types::InvoiceHeaderType::CreditNote);
        note.request
            .invoice
            .references
            .as_mut()
            .unwrap()
            .credited_invoice_number = Some(7004);
        let mut invalid = invoice(client_id, 7008);
        invalid.request.invoice.rows.clear();
        let creates = [
            invoice(client_id, 7001),
            received(other),
            invoice(client_id, 7002),
            received(reused),
            invoice(client_id, 7004),
            received(note),
            invoice(client_id, 7006),
            invoice(client_id, 7006),
            invoice(client_id, 7007),
            received(invalid),
        ];
        let create = |c: CreateInvoice| if direct { queued(Direct(c)) } else { queued(c) };
        let mut all: Vec<Queued> = creates.into_iter().map(create).collect();
        all.push(create(invoice(client_id, 7011)));
        all.push(queued(FailNextDistribution {
            client_id,
            invoice_number: 7009,
        }));
        // Held before the change above, which wrote it: met in the database, not among the held.
        let mut after_write = invoice(client_id, 7011);
        after_write.request.invoice.header.description = Some("after a write".parse().unwrap());
        all.push(create(received(after_write)));
        all.push(create(invoice(client_id, 7009)));
        all.push(create(invoice(client_id, 7010)));
        all
    }

    /// Every row the changes can have written, as text, in key order.
    async fn rows(sandbox: &Sandbox) -> Vec<String> {
        let mut c = sandbox.db.connection().await.unwrap();
        let mut all = Vec::new();
        for sql in [
            "SELECT client_id || ' ' || number || ' ' || COALESCE(distribution_status, '-') || ' ' || COALESCE(distribute_us, -1) || ' ' || hex(body) || COALESCE(distribution_json, '-') || COALESCE(invoice_status, '-') AS r FROM invoices ORDER BY client_id, number",
            "SELECT id || ' ' || COALESCE(escalate_day, -1) || ' ' || COALESCE(stage, '-') || ' ' || COALESCE(collection_enabled, -1) || ' ' || hex(body) AS r FROM cases ORDER BY id",
            "SELECT case_id || ' ' || day || ' ' || stage AS r FROM case_escalations ORDER BY case_id, day",
            "SELECT client_id || ' ' || invoice_day || ' ' || status || ' ' || method || ' ' || n AS r FROM distribution_counts ORDER BY client_id, invoice_day, status, method",
            "SELECT client_id || ' ' || number AS r FROM failing_distributions ORDER BY client_id, number",
        ] {
            for row in sqlx::query(sql).fetch_all(&mut *c).await.unwrap() {
                all.push(row.get::<String, _>("r"));
            }
        }
        all
    }

    /// One group of creates, which hold their new rows back and write them together (and look
    /// for what they clash with together), answers and stores exactly what the same changes
    /// applied one at a time, each write made at once, answer and store; the same changes again
    /// meet what the first ones stored.
    #[tokio::test]
    async fn a_group_of_creates_answers_and_stores_what_the_creates_one_at_a_time_do() {
        let grouped = Sandbox::seeded().await;
        let alone = Sandbox::seeded().await;
        let (client_id, prefix) = grouped.demo().await;

        let at_once = grouped.apply(changes(client_id, &prefix, false)).await;
        let mut one_by_one = Vec::new();
        for change in changes(client_id, &prefix, true) {
            one_by_one.extend(alone.apply(vec![change]).await);
        }
        assert_eq!(at_once, one_by_one);

        let outcome: Vec<&str> = at_once
            .iter()
            .map(|a| match a {
                _ if a.contains("Duplicate") => "duplicate",
                _ if a.contains("status: 402") => "refused",
                _ if a.contains("status: 400") => "invalid",
                _ if a.starts_with("Ok") => "ok",
                _ => a,
            })
            .collect();
        assert_eq!(
            outcome,
            [
                "ok",
                "refused",
                "ok",
                "refused",
                "ok",
                "ok",
                "ok",
                "duplicate",
                "ok",
                "invalid",
                "ok",
                "ok",
                "refused",
                "ok",
                "ok"
            ]
        );
        let stored = rows(&grouped).await;
        assert_eq!(stored, rows(&alone).await);

        let again = grouped.apply(changes(client_id, &prefix, false)).await;
        let mut again_one_by_one = Vec::new();
        for change in changes(client_id, &prefix, true) {
            again_one_by_one.extend(alone.apply(vec![change]).await);
        }
        assert_eq!(again, again_one_by_one);
        let duplicates = again.iter().filter(|a| a.contains("Duplicate")).count();
        assert_eq!(duplicates, 10, "{again:#?}");
        assert_eq!(rows(&grouped).await, rows(&alone).await);
        let numbers: Vec<i64> = stored
            .iter()
            .filter_map(|r| r.strip_prefix(&format!("{client_id} ")))
            .filter_map(|r| r.split(' ').next()?.parse().ok())
            .filter(|n| (7000..7100).contains(n))
            .collect();
        assert_eq!(
            numbers,
            [7001, 7002, 7004, 7005, 7006, 7007, 7009, 7010, 7011]
        );
    }

    /// A change that writes, then fails.
    struct ThenRefused<C>(C);

    impl<C: Change> Change for ThenRefused<C> {
        type Output = C::Output;
        async fn apply(&self, world: &mut World<'_>) -> Result<C::Output, Failure> {
            self.0.apply(world).await?;
            Err(crate::world::Refusal::not_found("refused after writing").into())
        }
    }

    /// A change alone in its group takes no savepoint: when it fails after writing, its
    /// transaction is rolled back whole, it answers its own failure, and the writer's connection
    /// goes on; in a group, the same change is rolled back to its savepoint, and the change before
    /// it is kept.
    #[tokio::test]
    async fn a_change_alone_that_fails_after_writing_leaves_nothing() {
        let sandbox = Sandbox::seeded().await;
        let (client_id, _) = sandbox.demo().await;
        let fail = |invoice_number| FailNextDistribution {
            client_id,
            invoice_number,
        };
        let before = rows(&sandbox).await;
        let mut conn = sandbox.db.connection().await.unwrap();
        let (job, answer) = queued(ThenRefused(fail(1)));
        let mut group = vec![job];
        let committed = apply_group(&sandbox.db, &sandbox.spaces, &mut conn, &mut group, &|| {
            false
        })
        .await;
        assert!(committed.unwrap().spaces.is_empty(), "nothing committed");
        group.pop().unwrap().answer(None);
        let answer = answer.await;
        assert!(answer.contains("refused after writing"), "{answer}");
        assert_eq!(rows(&sandbox).await, before);

        // The same connection takes the next group.
        let (job, answer) = queued(fail(2));
        let mut group = vec![job];
        apply_group(&sandbox.db, &sandbox.spaces, &mut conn, &mut group, &|| {
            false
        })
        .await
        .unwrap();
        group.pop().unwrap().answer(None);
        assert_eq!(answer.await, "Ok(())");
        let after = rows(&sandbox).await;
        assert_eq!(after.len(), before.len() + 1, "{after:?}");
        assert!(after.contains(&format!("{client_id} 2")), "{after:?}");

        let answers = sandbox
            .apply(vec![queued(fail(3)), queued(ThenRefused(fail(4)))])
            .await;
        assert_eq!(answers[0], "Ok(())");
        assert!(answers[1].contains("refused after writing"), "{answers:?}");
        let grouped = rows(&sandbox).await;
        assert!(grouped.contains(&format!("{client_id} 3")), "{grouped:?}");
        assert!(!grouped.contains(&format!("{client_id} 4")), "{grouped:?}");
    }

    /// A step of an advance that shares its group with another change does one batch, as it
    /// does when another change waits; alone in its group with none waiting, it goes on.
    #[tokio::test]
    async fn a_step_of_an_advance_sharing_its_group_does_one_batch() {
        use crate::world::clock::{BATCH, STEP_TIME};
        use crate::world::commands::AdvanceClock;

        let sandbox = Sandbox::seeded().await;
        let (client_id, _) = sandbox.demo().await;
        let creates = (1..=3 * BATCH).map(|n| queued(invoice(client_id, 10_000 + n)));
        sandbox.apply(creates.collect()).await;
        let to: chrono::DateTime<chrono::Utc> = "2026-03-03T08:00:00Z".parse().unwrap();
        let distributed = |answer: &str| -> u64 {
            let (_, after) = answer.split_once("distributed: ").expect(answer);
            after[..after.find(',').unwrap()].parse().unwrap()
        };

        let shared = sandbox
            .apply_while(
                vec![
                    queued(AdvanceClock { to, batch: 0 }),
                    queued(FailNextDistribution {
                        client_id,
                        invoice_number: 1,
                    }),
                ],
                &|| false,
            )
            .await;
        assert_eq!(distributed(&shared[0]), BATCH as u64, "{shared:?}");

        let started = std::time::Instant::now();
        let alone = sandbox
            .apply_while(vec![queued(AdvanceClock { to, batch: 0 })], &|| false)
            .await;
        assert!(
            distributed(&alone[0]) > BATCH as u64 || started.elapsed() >= STEP_TIME,
            "{alone:?}"
        );
    }
}
