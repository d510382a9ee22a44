//! Settlement runs: the agency pays the creditor what it collected, in batches with breakdowns.

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use confirma_server::types;
use rust_decimal::Decimal;

use super::World;
use super::cases::AGENCY;
use super::checks::finnish_reference;

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

#[derive(Clone, Debug)]
pub struct SettlementRecord {
    pub settlement: types::Settlement,
    pub client_id: i64,
}

impl World {
    /// Settles, per client, every agency-received payment not settled yet; returns how many
    /// settlements it made.
    pub(super) fn run_settlement(&mut self, date: NaiveDate) -> u64 {
        let mut made = 0;
        let clients: Vec<i64> = self.clients.keys().copied().collect();
        for client_id in clients {
            let pending: Vec<usize> = (0..self.payments.len())
                .filter(|&i| {
                    let p = &self.payments[i];
                    p.client_id == client_id && !p.direct && p.settlement_id.is_none()
                })
                .collect();
            if pending.is_empty() {
                continue;
            }
            let sequence = self
                .settlements
                .iter()
                .filter(|s| s.settlement.settlement_date == date)
                .count() as i64
                + 1;
            let id = i64::from(date.year()) * 100_000_000
                + i64::from(date.month()) * 1_000_000
                + i64::from(date.day()) * 10_000
                + sequence;
            let mut allocations = Vec::new();
            let mut total = Decimal::ZERO;
            for &i in &pending {
                let p = &mut self.payments[i];
                p.settlement_id = Some(id);
                total += p.amount;
                let part = |kind, amount| types::SettlementBreakdownItem {
                    amount,
                    type_: kind,
                };
                allocations.push(types::SettlementAllocation {
                    allocated_total_amount: p.amount,
                    allocation_date: p.date,
                    allocation_id: p.allocation_id,
                    breakdown: vec![
                        part(types::SettlementBreakdownType::Capital, p.capital),
                        part(types::SettlementBreakdownType::Interest, p.interest),
                        part(types::SettlementBreakdownType::Fees, p.costs),
                    ],
                    case_id: Some(p.case_id),
                    currency: p.currency.parse().expect("ISO code"),
                    original_invoice_number: p.invoice_number.to_string().parse().ok(),
                    original_payment_reference: p
                        .original_reference
                        .as_deref()
                        .and_then(|r| r.parse().ok()),
                });
            }
            let client = &self.clients[&client_id];
            let settlement = types::Settlement {
                agency: AGENCY.parse().expect("agency name"),
                allocations,
                api_fetch_date: None,
                beneficiary: Some(types::SettlementBeneficiary {
                    bic: client.bic.as_deref().and_then(|b| b.parse().ok()),
                    iban: client.iban.as_deref().and_then(|b| b.parse().ok()),
                    name: client.name.parse().ok(),
                }),
                currency: "EUR".parse().expect("ISO code"),
                remittance_reference: finnish_reference(&id.to_string()).parse().ok(),
                settlement_amount: super::money::cents(total),
                settlement_date: date,
                settlement_id: id,
            };
            self.settlements.push(SettlementRecord {
                settlement,
                client_id,
            });
            made += 1;
        }
        made
    }

    /// The client's settlements dated within the window (only those never fetched, if asked).
    pub fn settlements(
        &self,
        client_id: i64,
        window: &SettlementWindow,
    ) -> impl Iterator<Item = &types::Settlement> {
        self.settlements
            .iter()
            .filter(move |s| s.client_id == client_id)
            .map(|s| &s.settlement)
            .filter(move |s| {
                s.settlement_date >= window.from
                    && s.settlement_date <= window.to
                    && (!window.unfetched_only || s.api_fetch_date.is_none())
            })
    }

    /// The settlements of [`World::settlements`], as they were before this call, with those
    /// never fetched before now marked fetched: one step, so that concurrent fetches of unfetched
    /// settlements each get their own.
    pub(super) fn fetch_settlements(
        &mut self,
        client_id: i64,
        window: &SettlementWindow,
    ) -> Vec<types::Settlement> {
        let fetched: Vec<types::Settlement> =
            self.settlements(client_id, window).cloned().collect();
        let first: Vec<i64> = fetched
            .iter()
            .filter(|s| s.api_fetch_date.is_none())
            .map(|s| s.settlement_id)
            .collect();
        self.mark_fetched(client_id, &first, self.now);
        fetched
    }

    /// Records that the client's integration fetched these settlements now.
    pub(super) fn mark_fetched(&mut self, client_id: i64, ids: &[i64], at: DateTime<Utc>) {
        for s in self
            .settlements
            .iter_mut()
            .filter(|s| s.client_id == client_id && ids.contains(&s.settlement.settlement_id))
        {
            if s.settlement.api_fetch_date.is_none() {
                s.settlement.api_fetch_date = Some(at);
            }
        }
    }

    pub(super) fn is_settlement_day(day: NaiveDate) -> bool {
        day.weekday() == SETTLEMENT_DAY
    }
}
