//! Settlement runs: the agency pays the creditor what it collected, in batches with breakdowns.

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use confirma_server::types;
use rust_decimal::Decimal;

use super::cases::AGENCY;
use super::checks::finnish_reference;
pub use super::records::settlements::SettlementRecord;
use super::records::settlements::{Allocation, Beneficiary, Part, PartKind, Settlement};
use super::records::wire;
use super::refusal::Failure;
use super::{World, tables};

/// Settlements run every Monday (the documented cadence is "typically once a business week").
pub const SETTLEMENT_DAY: Weekday = Weekday::Mon;

/// Which settlements a fetch asks for: a settlement-date window, and whether only those never
/// fetched before.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettlementWindow {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub unfetched_only: bool,
}

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
            let id = i64::from(date.year()) * 100_000_000
                + i64::from(date.month()) * 1_000_000
                + i64::from(date.day()) * 10_000
                + sequence;
            let mut allocations = Vec::new();
            let mut total = Decimal::ZERO;
            for mut p in pending {
                p.settlement_id = Some(id);
                tables::update_payment(self.db(), &p).await?;
                total += p.amount;
                let part = |kind, amount| Part { amount, kind };
                allocations.push(Allocation {
                    allocated_total_amount: p.amount,
                    allocation_date: p.date,
                    allocation_id: p.allocation_id,
                    breakdown: vec![
                        part(PartKind::Capital, p.capital),
                        part(PartKind::Interest, p.interest),
                        part(PartKind::Fees, p.costs),
                    ],
                    case_id: Some(p.case_id),
                    currency: p.currency.clone(),
                    original_invoice_number: Some(p.invoice_number.to_string()),
                    original_payment_reference: p.original_reference.clone(),
                });
            }
            let client = self.client(client_id).await?;
            let settlement = Settlement {
                agency: AGENCY.into(),
                allocations,
                api_fetch_date: None,
                beneficiary: Some(Beneficiary {
                    bic: client.bic.clone(),
                    iban: client.iban.clone(),
                    name: Some(client.name.clone()),
                }),
                currency: "EUR".into(),
                remittance_reference: Some(finnish_reference(&id.to_string())),
                settlement_amount: super::money::cents(total),
                settlement_date: date,
                settlement_id: id,
            };
            tables::insert_settlement(
                self.db(),
                &SettlementRecord {
                    settlement,
                    client_id,
                },
            )
            .await?;
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
            record.settlement.api_fetch_date = Some(at);
            tables::update_settlement(self.db(), &record).await?;
        }
        Ok(())
    }

    pub(super) fn is_settlement_day(day: NaiveDate) -> bool {
        day.weekday() == SETTLEMENT_DAY
    }
}
