//! Settlement runs: the agency pays the creditor what it collected, in batches with breakdowns.

use chrono::{DateTime, NaiveDate, Utc};
use confirma_server::types;

use super::records::filters::SettlementWindow;
use super::refusal::Failure;
use super::wire;
use super::{World, rules, tables};

impl World<'_> {
    /// Settles, per client, every agency-received payment not settled yet; returns how many
    /// settlements it made.
    pub(super) async fn run_settlement(&mut self, date: NaiveDate) -> Result<u64, Failure> {
        let mut made = 0;
        for client_id in tables::clients_to_settle(self.db()).await? {
            let pending = tables::unsettled_payments(self.db(), client_id).await?;
            if pending.is_empty() {
                continue;
            }
            let sequence = tables::settlements_on(self.db(), date).await? + 1;
            let client = self.client(client_id).await?;
            let (settlement, settled) =
                rules::settlements::settle(&client, pending, date, sequence);
            for payment in &settled {
                tables::update_payment(self.db(), payment).await?;
            }
            tables::insert_settlement(self.db(), &settlement).await?;
            made += 1;
        }
        Ok(made)
    }

    /// The client's settlements dated within the window (only those never fetched, if asked).
    pub async fn settlements(
        &mut self,
        client_id: i64,
        window: &SettlementWindow,
    ) -> Result<Vec<types::Settlement>, Failure> {
        let found = tables::settlements(
            self.db(),
            client_id,
            window.from,
            window.to,
            window.unfetched_only,
        )
        .await?;
        found
            .iter()
            .map(|s| wire::settlement(&s.settlement))
            .collect()
    }

    /// The settlements of [`World::settlements`], as they were before this call, with those
    /// never fetched before now marked fetched: one step, so that concurrent fetches of unfetched
    /// settlements each get their own.
    pub(super) async fn fetch_settlements(
        &mut self,
        client_id: i64,
        window: &SettlementWindow,
    ) -> Result<Vec<types::Settlement>, Failure> {
        let fetched = self.settlements(client_id, window).await?;
        let first: Vec<i64> = fetched
            .iter()
            .filter(|s| s.api_fetch_date.is_none())
            .map(|s| s.settlement_id)
            .collect();
        self.mark_fetched(client_id, &first, self.now).await?;
        Ok(fetched)
    }

    /// Records that the client's integration fetched these settlements now.
    pub(super) async fn mark_fetched(
        &mut self,
        client_id: i64,
        ids: &[i64],
        at: DateTime<Utc>,
    ) -> Result<(), Failure> {
        let all =
            tables::settlements(self.db(), client_id, NaiveDate::MIN, NaiveDate::MAX, true).await?;
        for mut record in all
            .into_iter()
            .filter(|s| ids.contains(&s.settlement.settlement_id))
        {
            rules::settlements::fetched(&mut record, at);
            tables::update_settlement(self.db(), &record).await?;
        }
        Ok(())
    }
}
