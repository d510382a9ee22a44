//! The sandbox's world: every client, token, invoice, case, payment, settlement and accounting
//! submission, and the sandbox clock, in the database's tables ([`tables`]).
//!
//! A [`World`] is the world as one transaction sees it. It changes only by applying a
//! [`Change`], inside the transaction the change commits in: checks first, then writes, so a
//! refused change changes nothing. Application is deterministic (sandbox time, ids and secrets
//! derived from the seed and a counter, every list in key order), so the same seed, start date
//! and requests give the same responses byte for byte on a fresh database.

pub mod accounting;
#[cfg(test)]
mod by_columns_tests;
pub mod cases;
pub mod checks;
mod clients;
pub mod clock;
pub mod commands;
mod invoices;
pub mod money;
mod pending;
pub mod queries;
pub mod records;
mod refusal;
pub mod rules;
mod seed;
pub mod settlements;
pub mod spaces;
pub mod stored;
mod tables;
#[cfg(test)]
mod test_support;
pub mod wire;

use chrono::{DateTime, NaiveDate, Utc};
use confirma_server::types;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use tables::Scoped;

pub use cases::PaymentReceipt;
pub use clients::{Caller, missing_token, stored_token, unknown_token};
pub use commands::{Change, Command};
pub use invoices::Probe;
pub use pending::Pending;
pub use records::accounting::{AccountingItem, Kind as AccountingKind};
pub use records::cases::{CaseRecord, PaymentRecord};
pub use records::clients::{ClientRecord, TokenRecord};
pub use records::filters::SettlementWindow;
pub use records::invoices::InvoiceRecord;
pub use records::spaces::{SpaceId, SpaceRecord};
pub use refusal::{Failure, Problem, Refusal, StorageFault, StorageKind};

/// Fixed facts of a space: the seed and the start of time, and what makes its tokens its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Genesis {
    pub seed: u64,
    pub start: DateTime<Utc>,
    /// Mixed into every token of a space made through `/sandbox/spaces`, so that spaces made
    /// with the same seed never share a token; `None` for the default space (whose tokens are
    /// what they always were).
    pub salt: Option<String>,
    /// Whether the space starts (and starts over on reset) with the demo client.
    pub demo: bool,
}

impl Genesis {
    /// What a space made through `/sandbox/spaces` was made with.
    pub fn of(space: &SpaceRecord) -> Self {
        Self {
            seed: space.seed,
            start: space.start,
            salt: Some(space.salt.clone()),
            demo: space.demo,
        }
    }
}

/// The world's own row: the clock, the counter, the demo client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub now: DateTime<Utc>,
    /// Counter behind every generated id and secret.
    pub counter: u64,
    /// The demo client the seed created, and its current token as text (shown on start, kept
    /// current through renewals; the only token stored other than as its hash).
    pub demo_client: Option<i64>,
    pub demo_token: Option<String>,
    /// The last day whose daily processes (overdue, escalation, settlement) have run.
    pub processed_day: NaiveDate,
}

impl State {
    /// The state of a world before its seed.
    pub fn fresh(genesis: &Genesis) -> Self {
        Self {
            now: genesis.start,
            counter: 0,
            demo_client: None,
            demo_token: None,
            processed_day: genesis.start.date_naive(),
        }
    }

    /// The space's own row as the transaction `db` sees it (before the seed: fresh).
    pub async fn load(db: &mut AnyConnection, space: SpaceId, genesis: &Genesis) -> Result<Self> {
        Ok(Self::stored(db, space)
            .await?
            .unwrap_or_else(|| Self::fresh(genesis)))
    }

    /// The space's own row, if it has one (a space has one from its seed until it is deleted).
    pub async fn stored(db: &mut AnyConnection, space: SpaceId) -> Result<Option<Self>> {
        tables::state(Scoped { c: db, space }).await
    }

    /// Writes the space's own row (at the end of a group of changes that moved it).
    pub async fn store(&self, db: &mut AnyConnection, space: SpaceId) -> Result<()> {
        tables::put_state(Scoped { c: db, space }, self).await
    }

    /// The space's clock alone, in one statement (before the seed: the start).
    pub async fn now(
        db: &mut AnyConnection,
        space: SpaceId,
        genesis: &Genesis,
    ) -> Result<DateTime<Utc>> {
        Ok(tables::now(Scoped { c: db, space })
            .await?
            .unwrap_or(genesis.start))
    }
}

/// The world as one transaction sees it.
/// What the changes of one write transaction learn of rows that only that transaction can change
/// while it holds the write lock, so that the next change of the group need not ask again:
/// clients (never changed once onboarded) and whether any distribution is set to fail. Begins
/// empty with each transaction and is forgotten with a change that is rolled back.
#[derive(Debug, Default)]
pub struct Remembered {
    clients: std::collections::HashMap<i64, ClientRecord>,
    failing_distributions: Option<bool>,
    /// What the group's creates found when they looked together ([`World::looking_ahead`]):
    /// forgotten with the group's next write.
    found_ahead: Option<invoices::FoundAhead>,
}

pub struct World<'c> {
    db: &'c mut AnyConnection,
    /// The space this world is; every statement reads and writes only its rows.
    pub space: SpaceId,
    remembered: Remembered,
    pub genesis: Genesis,
    pub now: DateTime<Utc>,
    counter: u64,
    pub demo_client: Option<i64>,
    pub demo_token: Option<String>,
    processed_day: NaiveDate,
    /// Whether a token was issued, retired or given another expiry.
    tokens_changed: bool,
    /// Whether the space was deleted (its own row must not be written again).
    gone: bool,
    /// New rows the group of changes holds back ([`pending`]); held only while `defers`.
    pending: Pending,
    defers: bool,
    savepoint: Savepoint,
    /// Whether writing what the group held back began and did not end ([`World::write_pending`]):
    /// the database may hold part of it, with no savepoint to roll it back to.
    unclean: bool,
    /// Whether another change waits for this one's transaction ([`World::yielding_to`]).
    others_wait: Option<&'c (dyn Fn() -> bool + Sync)>,
    /// What this change and the later creates of its group look for ([`World::looking_ahead`]):
    /// those of `ahead` from `ahead_from`.
    ahead: std::sync::Arc<[invoices::Probe]>,
    ahead_from: usize,
}

/// Whether the change being applied has a savepoint to be rolled back to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Savepoint {
    /// Not managed here: the world is not a change's (a read, a replay), or its writer took the
    /// savepoint before the change began.
    NotMine,
    /// Taken by the change's first write ([`World::writing`]); none yet.
    Wanted,
    Taken,
}

type Result<T> = std::result::Result<T, Failure>;

impl<'c> World<'c> {
    /// The world of `space` in `db` (a transaction), whose own row reads `state`.
    pub fn new(db: &'c mut AnyConnection, space: SpaceId, genesis: Genesis, state: State) -> Self {
        Self {
            db,
            space,
            remembered: Remembered::default(),
            genesis,
            now: state.now,
            counter: state.counter,
            demo_client: state.demo_client,
            demo_token: state.demo_token,
            processed_day: state.processed_day,
            tokens_changed: false,
            gone: false,
            pending: Pending::default(),
            defers: false,
            savepoint: Savepoint::NotMine,
            unclean: false,
            ahead: std::sync::Arc::new([]),
            ahead_from: 0,
            others_wait: None,
        }
    }

    /// This world for a change applied by the writer, where `others_wait` tells whether another
    /// change waits for the writer: a long change (a step of an advance) goes on in its
    /// transaction while none does, for a bounded time. Without it, a step does one batch.
    pub fn yielding_to(mut self, others_wait: &'c (dyn Fn() -> bool + Sync)) -> Self {
        self.others_wait = Some(others_wait);
        self
    }

    /// Whether a long change should end its step now: another change waits, or the world is
    /// not the writer's ([`World::yielding_to`]).
    fn others_wait(&self) -> bool {
        self.others_wait.is_none_or(|wait| wait())
    }

    /// This world for a change of a group whose creates look for `ahead[from..]` (this change's
    /// first, if it is a create): the first to look looks for them all in one statement, which
    /// answers the others as long as the group writes nothing (a deferring change's rows are
    /// held back, and a create looking for what they hold writes them first).
    pub fn looking_ahead(mut self, ahead: std::sync::Arc<[invoices::Probe]>, from: usize) -> Self {
        self.ahead = ahead;
        self.ahead_from = from;
        self
    }

    /// This world for a change that defers its writes ([`Change::defers_writes`]), holding
    /// what the changes before it in its group held back: new invoices and cases go to
    /// `pending`, and the change's first direct write takes a savepoint
    /// (`SAVEPOINT change`). A change whose world has none wrote nothing but what it held, so
    /// it is rolled back by [`Pending::undo_change`] alone.
    pub fn deferring(mut self, mut pending: Pending) -> Self {
        pending.begin_change();
        self.pending = pending;
        self.defers = true;
        self.savepoint = Savepoint::Wanted;
        self
    }

    /// What the group holds back after this change ([`World::deferring`]).
    pub fn take_pending(&mut self) -> Pending {
        std::mem::take(&mut self.pending)
    }

    /// Whether this change took a savepoint ([`World::deferring`]).
    pub fn took_savepoint(&self) -> bool {
        self.savepoint == Savepoint::Taken
    }

    /// Whether the change failed while writing what its group held back: its group cannot go
    /// on without it (there is no savepoint to roll back to), whatever the failure.
    pub fn is_unclean(&self) -> bool {
        self.unclean
    }

    /// The connection for a write that is not held back: in a deferring change, the first one
    /// takes the change's savepoint.
    async fn writing(&mut self) -> Result<Scoped<'_>> {
        self.remembered.found_ahead = None;
        if self.savepoint == Savepoint::Wanted {
            sqlx::query("SAVEPOINT change")
                .execute(&mut *self.db)
                .await?;
            self.savepoint = Savepoint::Taken;
        }
        Ok(self.db())
    }

    /// Writes what the group held back, before anything of this change is written (which would
    /// roll them back with it): for a change about to read rows the group may hold.
    async fn write_pending(&mut self) -> Result<()> {
        if self.savepoint == Savepoint::Taken || self.pending.holds_own() {
            tracing::error!("held rows written after the change's own writes");
            return Err(Failure::Internal);
        }
        self.remembered.found_ahead = None;
        self.unclean = true;
        self.pending.write(self.db, self.space).await?;
        self.unclean = false;
        self.pending.begin_change();
        Ok(())
    }

    /// Records an invoice no stored invoice clashes with: held back in a deferring change.
    async fn insert_invoice(&mut self, invoice: InvoiceRecord) -> Result<()> {
        if self.defers {
            self.pending.hold_invoice(invoice);
            return Ok(());
        }
        tables::put_invoice(self.db(), &invoice).await
    }

    /// Records a new case: held back in a deferring change.
    async fn insert_case(&mut self, case: CaseRecord) -> Result<()> {
        if self.defers {
            self.pending.hold_case(case);
            return Ok(());
        }
        tables::insert_case(self.db(), &case).await
    }

    /// This world, knowing what an earlier change of its transaction learnt.
    pub fn remembering(mut self, remembered: Remembered) -> Self {
        self.remembered = remembered;
        self
    }

    /// What this world learnt, for the next change of its transaction.
    pub fn take_remembered(&mut self) -> Remembered {
        if !self.defers {
            // It may have written anything.
            self.remembered.found_ahead = None;
        }
        std::mem::take(&mut self.remembered)
    }

    /// Whether the space was deleted by the changes applied so far.
    pub fn is_gone(&self) -> bool {
        self.gone
    }

    /// Whether the changes applied so far issued, retired or changed a token.
    pub fn tokens_changed(&self) -> bool {
        self.tokens_changed
    }

    /// The world's own row as it is now (to store after a change).
    pub fn state(&self) -> State {
        State {
            now: self.now,
            counter: self.counter,
            demo_client: self.demo_client,
            demo_token: self.demo_token.clone(),
            processed_day: self.processed_day,
        }
    }

    /// The connection and the space, for the table functions.
    fn db(&mut self) -> Scoped<'_> {
        Scoped {
            c: self.db,
            space: self.space,
        }
    }

    /// Whether the world is in the database yet (it is once seeded).
    pub async fn is_stored(&mut self) -> Result<bool> {
        Ok(tables::state(self.db()).await?.is_some())
    }

    /// Every row of this space copied into the empty space `to` (tokens aside: a fork's secrets
    /// are its own); the caller writes `to`'s own row and tokens.
    pub async fn copy_into(&mut self, to: SpaceId) -> Result<()> {
        tables::copy_space(self.db(), to).await
    }

    /// Removes at most `limit` rows of this space, table by table; how many it removed (0 once
    /// the space holds none).
    pub async fn remove_some(&mut self, limit: i64) -> Result<u64> {
        let mut removed = 0;
        let tables: Vec<_> = tables::tables(&self.db()).collect();
        for (table, _) in tables {
            let left = limit - removed as i64;
            if left <= 0 {
                break;
            }
            removed += tables::remove_some(self.db(), table, left).await?;
        }
        Ok(removed)
    }

    /// Empties an earlier version's command log, once replayed into tables.
    pub async fn forget_log(&mut self) -> Result<()> {
        tables::forget_log(self.db()).await
    }

    /// Back to the seeded state (same genesis, fresh world).
    async fn reset(&mut self) -> Result<()> {
        tables::clear(self.db()).await?;
        self.remembered = Remembered::default();
        self.tokens_changed = true;
        let fresh = State::fresh(&self.genesis);
        self.now = fresh.now;
        self.counter = fresh.counter;
        self.demo_client = None;
        self.demo_token = None;
        self.processed_day = fresh.processed_day;
        if self.genesis.demo {
            self.seed().await?;
        }
        // The space's own row was cleared with the rest: written again now, even when the
        // reset left it as it was (a space without a demo client, reset before any change).
        let state = self.state();
        tables::put_state(self.db(), &state).await
    }

    /// The next distribution of the client's invoice `number` fails.
    async fn fail_next_distribution(&mut self, client_id: i64, number: i64) -> Result<()> {
        tables::add_failing_distribution(self.db(), client_id, number).await?;
        self.remembered.failing_distributions = Some(true);
        Ok(())
    }

    /// Whether the next distribution of this invoice was set to fail (it stays set until a
    /// distribution uses it up). Asks the database once per transaction whether any
    /// distribution is set to fail at all.
    async fn fails_next(&mut self, client_id: i64, number: i64) -> Result<bool> {
        let any = match self.remembered.failing_distributions {
            Some(any) => any,
            None => tables::any_failing_distribution(self.db()).await?,
        };
        self.remembered.failing_distributions = Some(any);
        Ok(any && tables::failing_distribution(self.db(), client_id, number).await?)
    }

    /// The next value of the world's counter.
    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// A secret derived from the seed and the counter: deterministic, yet unguessable without
    /// the seed.
    fn secret(&mut self, purpose: &str) -> String {
        let n = self.next();
        let seed = self.genesis.seed;
        hex(&Sha256::digest(match &self.genesis.salt {
            None => format!("{seed}:{purpose}:{n}"),
            Some(salt) => format!("{seed}:{salt}:{purpose}:{n}"),
        }))
    }

    pub async fn client(&mut self, id: i64) -> Result<ClientRecord> {
        if let Some(client) = self.remembered.clients.get(&id) {
            return Ok(client.clone());
        }
        let client = tables::client(self.db(), id)
            .await?
            .ok_or_else(|| Failure::from(Refusal::not_found(format!("No client {id}."))))?;
        self.remembered.clients.insert(id, client.clone());
        Ok(client)
    }

    pub fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }

    /// An invoice submitted by a client: checked and recorded, and its case opened when it is
    /// payment-controlled (a DUPLICATE re-submission opens nothing). `received` is the digest
    /// of the request as the client sent it ([`records::invoices::request_sha256`]), when there
    /// was one.
    async fn submit_invoice(
        &mut self,
        client_id: i64,
        request: &types::SalesInvoiceRequest,
        received: Option<String>,
    ) -> Result<types::CreateInvoiceResponse> {
        let (accepted, record) = self.create_invoice(client_id, request, received).await?;
        if let Some(invoice) = record
            && let Some(case_id) = accepted.case_id
        {
            let terms = rules::cases::terms(&request.invoice);
            self.open_case(case_id, &invoice, terms).await?;
        }
        Ok(accepted)
    }
}

pub use records::hex;

/// SHA-256 of a token: the form in which clients' tokens are stored and looked up. The one
/// exception is the demo client's current token, kept as text in the world's row
/// ([`State::demo_token`]) so that a restart can print it; it is a sandbox's test credential.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}
