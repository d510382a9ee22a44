//! Sandbox time: what happens as the clock moves, and how a long move is cut into steps.

use chrono::{DateTime, Days, Utc};
use serde::Serialize;

use super::World;
use super::refusal::Failure;

/// The most rows one step of an advance processes: each step is a transaction of its own, so
/// that other requests are served between steps however much falls due.
pub const BATCH: i64 = 500;

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

impl World<'_> {
    /// One bounded step of an advance towards `to`: what is due by now first (distributions,
    /// accounting syncs, then each day not processed yet: overdue invoices, escalations, the
    /// settlement run), then the clock moves on by at most a day, and so on, until `to` is
    /// reached with nothing left due or [`BATCH`] rows have been processed. Answers what happened
    /// and whether the advance is complete.
    pub(super) async fn advance_towards(
        &mut self,
        to: DateTime<Utc>,
    ) -> Result<(Happened, bool), Failure> {
        super::tables::in_index_order(self.db(), true).await?;
        let stepped = self.step_towards(to).await?;
        super::tables::in_index_order(self.db(), false).await?;
        Ok(stepped)
    }

    /// [`World::advance_towards`], its statements planned in index order.
    async fn step_towards(&mut self, to: DateTime<Utc>) -> Result<(Happened, bool), Failure> {
        let mut happened = Happened::default();
        let mut budget = BATCH;
        loop {
            let now = self.now;
            budget -= self
                .complete_distributions(now, budget, &mut happened)
                .await? as i64;
            if budget <= 0 {
                return Ok((happened, false));
            }
            budget -= self.sync_accounting(now, budget, &mut happened).await? as i64;
            if budget <= 0 {
                return Ok((happened, false));
            }
            // Day by day, so that each day's processes see the state the previous day left.
            while self.processed_day < self.today() {
                let day = self.processed_day.succ_opt().unwrap_or(self.processed_day);
                budget -= self.mark_overdue(day, budget, &mut happened).await? as i64;
                if budget <= 0 {
                    return Ok((happened, false));
                }
                budget -= self.escalate(day, budget, &mut happened).await? as i64;
                if budget <= 0 {
                    return Ok((happened, false));
                }
                if super::rules::settlements::is_settlement_day(day) {
                    happened.settlements += self.run_settlement(day).await?;
                }
                self.processed_day = day;
                // A day with nothing due still counts, so that one step spans a bounded time.
                budget -= 1;
                if budget <= 0 {
                    return Ok((happened, false));
                }
            }
            if self.now >= to {
                return Ok((happened, true));
            }
            self.now = next_step(self.now, to);
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
}
