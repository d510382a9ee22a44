//! Sandbox time: what happens as the clock moves, and how a long move is cut into steps.

use chrono::{DateTime, Days, Utc};
use serde::Serialize;

use super::World;
use super::refusal::Failure;

/// The rows of the first batch of an advance, and the fewest of any batch. A step of an advance
/// is a transaction of its own, so that other changes are served between steps however much falls due. It goes
/// on batch after batch while no other change waits for the writer, for at most [`STEP_TIME`],
/// each batch sized to take about [`BATCH_TIME`] at the pace of the one before (at most
/// [`MAX_BATCH`] rows; the next step's first batch too, see [`Progress::batch`]), and a batch
/// ends before its next part once another change waits. So a
/// change arriving during an advance waits for part of one batch at most, and an advance alone
/// commits a dozen times a second in batches of thousands of rows rather than after every 500 (at 200,000 invoices on SQLite, an 18-day advance in batches of 500
/// committed each took 8.7–8.9 s, in batches of 2,000 committed each 7.0–7.3 s, in batches of
/// 500 committed every 50 ms 8.0–8.2 s).
pub const BATCH: i64 = 500;

/// The most rows of one batch of an advance. A batch is sized at the pace of the one before,
/// which may have done cheaper work (a row falling due costs less than a distribution): a
/// larger batch was no faster (at 200,000 invoices on SQLite, 7.1–7.3 s in batches of 2,000,
/// 6.9 s in batches of 8,000), and a change that arrives might wait for it.
pub const MAX_BATCH: i64 = 4_000;

/// The most rows one part of a batch takes (a walk of what falls due, one statement, and the
/// writes that follow from it): a change that arrives waits for one part of a batch at most. A batch is sized at the pace of the one before, which may have done cheaper
/// work: on PostgreSQL under load an escalation costs 12 to 28 µs a case, and a batch of 4,000
/// in one statement took up to 134 ms. 18-day advances over a million invoices with a create
/// every 100 ms and 64 connections of validate (2026-12-07), parts of at most 4,000, 2,000 and
/// 1,000 rows: on PostgreSQL 68.3 and 72.6 s, 63.5 and 60.9 s, 65.6 to 73.9 s, its longest
/// statement 113 to 134 ms, 75 to 93 ms, 96 to 141 ms (I/O: the statements of 1,000 too); on
/// SQLite 52.4 and 50.3 s, 52.7 and 51.8 s, 54.8 and 55.1 s, the slowest create 80 and 73 ms,
/// 58 and 65 ms, 68 and 108 ms.
pub const MAX_PART: i64 = 2_000;

/// How long a batch of an advance should take: about as long as a change that arrives waits.
pub const BATCH_TIME: std::time::Duration = std::time::Duration::from_millis(25);

/// The longest one step of an advance goes on batch after batch with no other change waiting.
/// On PostgreSQL the writes of other replicas to the same space wait for it that long at most.
pub const STEP_TIME: std::time::Duration = std::time::Duration::from_millis(80);

/// What an advance of the clock made happen, counted.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Happened {
    /// Distributions delivered (sent, for letters).
    pub distributed: u64,
    /// Distributions that failed (undeliverable).
    pub distribution_failed: u64,
    /// Payment-controlled invoices that became overdue.
    pub overdue: u64,
    /// Cases that got a payment reminder.
    pub reminded: u64,
    /// Cases that got a demand for payment.
    pub demanded: u64,
    /// Cases moved to collection.
    pub to_collection: u64,
    /// Settlements made (one per client with payments to settle, on each settlement day).
    pub settlements: u64,
    /// Accounting submissions synced or refused by the accounting system.
    pub accounting_processed: u64,
}

impl std::ops::AddAssign for Happened {
    fn add_assign(&mut self, other: Self) {
        self.distributed += other.distributed;
        self.distribution_failed += other.distribution_failed;
        self.overdue += other.overdue;
        self.reminded += other.reminded;
        self.demanded += other.demanded;
        self.to_collection += other.to_collection;
        self.settlements += other.settlements;
        self.accounting_processed += other.accounting_processed;
    }
}

/// What one step of an advance did, whether the advance is complete, and the rows the next
/// step's first batch should take: the size the next batch of this step would have taken (see
/// [`after_interruption`] for a step another change ended), so that an advance that changes
/// interrupt does not start again at [`BATCH`] rows after each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub happened: Happened,
    pub done: bool,
    pub batch: i64,
}

/// The end of the next step of an advance from `now` towards `to`: the next midnight, or `to`
/// when that comes first. A long advance is applied one step (one day) at a time, each a change
/// of its own, so that other requests are served in between.
pub fn next_step(now: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
    let midnight = now
        .date_naive()
        .checked_add_days(Days::new(1))
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc());
    match midnight {
        Some(m) if m < to => m,
        _ => to,
    }
}

/// The rows of the next batch of an advance, after one of `rows` took `took`: as many as take
/// [`BATCH_TIME`] at that pace, between [`BATCH`] and [`MAX_BATCH`], and at most twice as many
/// as before.
pub fn next_batch(rows: i64, took: std::time::Duration) -> i64 {
    let took = took.as_micros().max(1) as i64;
    let fit = rows.saturating_mul(BATCH_TIME.as_micros() as i64) / took;
    fit.clamp(BATCH, MAX_BATCH).min(rows.saturating_mul(2))
}

/// The rows of a step's first batch, asked for `first` (the [`Progress::batch`] of the step
/// before, 0 for the first step): between [`BATCH`] and [`MAX_BATCH`].
pub fn first_batch(first: i64) -> i64 {
    first.clamp(BATCH, MAX_BATCH)
}

/// The rows of the next step's first batch after a step that another change ended in a batch
/// of `rows` that took `took`: fewer if that batch was slower than [`BATCH_TIME`], never more.
/// The batch may have ended early, having done fewer rows in that time: its pace may be slower
/// than it looks, never faster, so it may only shrink the next.
pub fn after_interruption(rows: i64, took: std::time::Duration) -> i64 {
    rows.min(next_batch(rows, took))
}

impl World<'_> {
    /// Whether a batch of `rows` with `budget` left should end before its next part: it did
    /// something, and another change waits for the writer ([`World::yielding_to`]; a world that
    /// is not the writer's goes on).
    fn interrupted(&self, rows: i64, budget: i64) -> bool {
        budget < rows && self.others_wait.is_some_and(|wait| wait())
    }

    /// One bounded step of an advance towards `to`: batches of [`World::batch_towards`], the
    /// first of `first` rows (between [`BATCH`] and [`MAX_BATCH`]; the [`Progress::batch`] of
    /// the step before), until the advance is complete, another change waits
    /// ([`World::yielding_to`]), or [`STEP_TIME`] has passed.
    pub(super) async fn advance_towards(
        &mut self,
        to: DateTime<Utc>,
        first: i64,
    ) -> Result<Progress, Failure> {
        let started = std::time::Instant::now();
        super::tables::in_index_order(self.db(), true).await?;
        let mut happened = Happened::default();
        let mut rows = first_batch(first);
        let (done, batch) = loop {
            let batch_started = std::time::Instant::now();
            let (batch, done) = self.batch_towards(to, rows).await?;
            happened += batch;
            if done || self.others_wait() {
                break (done, after_interruption(rows, batch_started.elapsed()));
            }
            let next = next_batch(rows, batch_started.elapsed());
            if started.elapsed() >= STEP_TIME {
                break (false, next);
            }
            rows = next;
        };
        super::tables::in_index_order(self.db(), false).await?;
        Ok(Progress {
            happened,
            done,
            batch,
        })
    }

    /// One batch of an advance towards `to`, its statements planned in index order: what is
    /// due by now first (distributions, accounting syncs, then each day not processed yet:
    /// overdue invoices, escalations, the settlement run), then the clock moves on by at most a
    /// day, and so on, until `to` is reached with nothing left due or `rows` rows have been
    /// processed, or another change waits once some have ([`World::interrupted`]): each part
    /// takes up where the one before left off, and takes at most [`MAX_PART`] rows. Answers
    /// what happened and whether the advance is complete.
    async fn batch_towards(
        &mut self,
        to: DateTime<Utc>,
        rows: i64,
    ) -> Result<(Happened, bool), Failure> {
        let mut batch = Batch {
            rows,
            budget: rows,
            happened: Happened::default(),
        };
        loop {
            let now = self.now;
            if !self.all_due(Due::Distributions(now), &mut batch).await?
                || !self.all_due(Due::Accounting(now), &mut batch).await?
            {
                return Ok((batch.happened, false));
            }
            // Day by day, so that each day's processes see the state the previous day left.
            while self.processed_day < self.today() {
                let day = self.processed_day.succ_opt().unwrap_or(self.processed_day);
                if !self.all_due(Due::Overdue(day), &mut batch).await?
                    || !self.all_due(Due::Escalations(day), &mut batch).await?
                {
                    return Ok((batch.happened, false));
                }
                if super::rules::settlements::is_settlement_day(day) {
                    batch.happened.settlements += self.run_settlement(day).await?;
                }
                self.processed_day = day;
                // A day with nothing due still counts, so that one step spans a bounded time.
                batch.budget -= 1;
                if batch.budget <= 0 || self.interrupted(rows, batch.budget) {
                    return Ok((batch.happened, false));
                }
            }
            if self.now >= to {
                return Ok((batch.happened, true));
            }
            self.now = next_step(self.now, to);
        }
    }

    /// Takes what is `due`, in parts of at most [`MAX_PART`] rows, until none is left (true:
    /// the batch goes on), or the batch's rows are spent or another change waits (false).
    async fn all_due(&mut self, due: Due, batch: &mut Batch) -> Result<bool, Failure> {
        loop {
            let part = batch.budget.min(MAX_PART);
            let happened = &mut batch.happened;
            let taken = match due {
                Due::Distributions(now) => self.complete_distributions(now, part, happened).await,
                Due::Accounting(now) => self.sync_accounting(now, part, happened).await,
                Due::Overdue(day) => self.mark_overdue(day, part, happened).await,
                Due::Escalations(day) => self.escalate(day, part, happened).await,
            }? as i64;
            batch.budget -= taken;
            if batch.budget <= 0 || self.interrupted(batch.rows, batch.budget) {
                return Ok(false);
            }
            if taken < part {
                return Ok(true);
            }
        }
    }
}

/// What one part of a batch of an advance takes: what falls due by a time, or on a day.
#[derive(Clone, Copy)]
enum Due {
    Distributions(DateTime<Utc>),
    Accounting(DateTime<Utc>),
    Overdue(chrono::NaiveDate),
    Escalations(chrono::NaiveDate),
}

/// A batch of an advance under way: its rows, those it may still take, and what happened.
struct Batch {
    rows: i64,
    budget: i64,
    happened: Happened,
}

/// Steps of an advance to `to` until it is complete: what happened (for tests).
#[cfg(test)]
pub(super) async fn advance_to_the_end(world: &mut World<'_>, to: DateTime<Utc>) -> Happened {
    let mut happened = Happened::default();
    loop {
        let step = world.advance_towards(to, 0).await.unwrap();
        happened += step.happened;
        if step.done {
            return happened;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_advance_steps_from_midnight_to_midnight() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let to = t("2026-03-04T12:00:00Z");
        assert_eq!(
            next_step(t("2026-03-02T08:00:00Z"), to),
            t("2026-03-03T00:00:00Z")
        );
        assert_eq!(
            next_step(t("2026-03-03T00:00:00Z"), to),
            t("2026-03-04T00:00:00Z")
        );
        assert_eq!(next_step(t("2026-03-04T00:00:00Z"), to), to);
        assert_eq!(next_step(to, to), to);
    }

    #[test]
    fn a_batch_is_sized_to_take_its_time_at_the_pace_of_the_one_before() {
        let ms = std::time::Duration::from_millis;
        // Half the time: twice the rows, and no more however fast.
        assert_eq!(next_batch(1_000, BATCH_TIME / 2), 2_000);
        assert_eq!(next_batch(1_000, BATCH_TIME * 2 / 3), 1_500);
        assert_eq!(next_batch(1_000, ms(1)), 2_000);
        assert_eq!(next_batch(1_000, std::time::Duration::ZERO), 2_000);
        // Slower than its time: fewer rows, never fewer than the first batch's.
        assert_eq!(next_batch(2_000, BATCH_TIME * 2), 1_000);
        assert_eq!(next_batch(1_000, ms(10_000)), BATCH);
        assert_eq!(next_batch(MAX_BATCH, ms(1)), MAX_BATCH);
    }

    #[test]
    fn a_step_takes_up_the_batch_asked_within_bounds() {
        assert_eq!(first_batch(0), BATCH);
        assert_eq!(first_batch(-1), BATCH);
        assert_eq!(first_batch(1_500), 1_500);
        assert_eq!(first_batch(10 * MAX_BATCH), MAX_BATCH);
    }

    #[test]
    fn a_step_that_another_change_ended_passes_on_a_batch_no_larger() {
        let ms = std::time::Duration::from_millis;
        // Ended early, fast: perhaps only a few of its rows done, so no larger.
        assert_eq!(after_interruption(1_000, ms(1)), 1_000);
        assert_eq!(after_interruption(MAX_BATCH, ms(1)), MAX_BATCH);
        // Slower than its time: smaller, as a batch that went on would be.
        assert_eq!(after_interruption(4_000, BATCH_TIME * 4), 1_000);
        assert_eq!(after_interruption(1_000, ms(10_000)), BATCH);
    }

    /// One step of an advance does a single batch while another change waits for the writer,
    /// and goes on batch after batch while none does; in steps of either kind, the advance
    /// leaves what an advance by single batches leaves.
    #[tokio::test]
    async fn a_step_of_an_advance_ends_after_one_batch_when_another_change_waits() {
        use std::sync::atomic::{AtomicBool, Ordering};

        let waiting = AtomicBool::new(true);
        let others_wait = || waiting.load(Ordering::Relaxed);
        let (db, _claim) = crate::world::test_support::in_memory().await;
        let mut conn = db.connection().await.unwrap();
        let mut world = with_invoices(&mut conn).await.yielding_to(&others_wait);
        let invoices = 5 * BATCH as u64;
        let to = world.now + chrono::Duration::days(40);

        let one = world.advance_towards(to, 0).await.unwrap();
        assert_eq!(one.happened.distributed, BATCH as u64, "{one:?}");
        assert!(!one.done);
        // Ended by the change that waits: the next step starts at most where this one did.
        assert_eq!(one.batch, BATCH, "{one:?}");
        // A step takes up the size the step before reached.
        let two = world.advance_towards(to, 2 * BATCH).await.unwrap();
        assert_eq!(two.happened.distributed, 2 * BATCH as u64, "{two:?}");
        assert!((BATCH..=2 * BATCH).contains(&two.batch), "{two:?}");

        waiting.store(false, Ordering::Relaxed);
        let started = std::time::Instant::now();
        let more = world.advance_towards(to, 0).await.unwrap();
        assert!(
            more.happened.distributed > BATCH as u64 || started.elapsed() >= STEP_TIME,
            "{more:?}"
        );
        assert!((BATCH..=MAX_BATCH).contains(&more.batch), "{more:?}");
        let mut happened = one.happened;
        happened += two.happened;
        happened += more.happened;
        happened += advance_to_the_end(&mut world, to).await;
        assert!(happened.distributed >= invoices, "{happened:?}");
        assert!(happened.demanded > 0, "{happened:?}");

        // The same advance, a batch at a time.
        let (db_by_batches, _claim_by_batches) = crate::world::test_support::in_memory().await;
        let mut conn_by_batches = db_by_batches.connection().await.unwrap();
        let mut by_batches = with_invoices(&mut conn_by_batches).await;
        let happened_by_batches = advance_to_the_end(&mut by_batches, to).await;
        assert_eq!(happened, happened_by_batches);
        assert!(world.state() == by_batches.state());
        assert_eq!(rows(&mut world).await, rows(&mut by_batches).await);
    }

    /// A change that arrives waits for one part of a batch at most: a step asked for a batch of
    /// [`MAX_BATCH`] rows, with another change waiting, ends after one part of [`MAX_PART`].
    #[tokio::test]
    async fn a_change_that_arrives_waits_for_one_part_of_a_batch() {
        let others_wait = || true;
        let (db, _claim) = crate::world::test_support::in_memory().await;
        let mut conn = db.connection().await.unwrap();
        let mut world = with_invoices(&mut conn).await.yielding_to(&others_wait);
        const { assert!(5 * BATCH > MAX_PART) };
        let to = world.now + chrono::Duration::days(40);
        let step = world.advance_towards(to, MAX_BATCH).await.unwrap();
        let happened = step.happened;
        assert_eq!(
            happened.distributed + happened.distribution_failed,
            MAX_PART as u64,
            "{step:?}"
        );
        assert!(!step.done);
    }

    /// A seeded world with `5 * BATCH` invoices of the demo client to distribute.
    async fn with_invoices(conn: &mut sqlx::AnyConnection) -> World<'_> {
        use crate::world::test_support::{request, seeded};
        let mut world = seeded(conn).await;
        let client_id = world.state().demo_client.unwrap();
        for n in 1..=5 * BATCH {
            world
                .submit_invoice(client_id, &request(n, n % 5), None)
                .await
                .unwrap();
        }
        world
    }

    /// Every invoice, case and escalation row of the world, as text in key order.
    async fn rows(world: &mut World<'_>) -> Vec<String> {
        let mut all = Vec::new();
        for sql in [
            "SELECT client_id || ' ' || number || ' ' || COALESCE(distribution_status, '-') || ' ' || COALESCE(distribute_us, -1) || ' ' || COALESCE(overdue_day, -1) || ' ' || COALESCE(invoice_status, '-') || ' ' || hex(body) || COALESCE(distribution_json, '-') AS r FROM invoices ORDER BY client_id, number",
            "SELECT id || ' ' || COALESCE(escalate_day, -1) || ' ' || COALESCE(stage, '-') || ' ' || hex(body) AS r FROM cases ORDER BY id",
            "SELECT case_id || ' ' || day || ' ' || stage AS r FROM case_escalations ORDER BY case_id, day",
            "SELECT client_id || ' ' || invoice_day || ' ' || status || ' ' || method || ' ' || n AS r FROM distribution_counts ORDER BY client_id, invoice_day, status, method",
        ] {
            for row in sqlx::query(sql).fetch_all(&mut *world.db()).await.unwrap() {
                all.push(sqlx::Row::get::<String, _>(&row, "r"));
            }
        }
        all
    }
}
