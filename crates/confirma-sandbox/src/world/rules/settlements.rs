//! The rules of settlement, as pure functions: when settlements run, what one pays a client and
//! for which payments, and its first fetch.

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use rust_decimal::Decimal;

use crate::world::checks::finnish_reference;
use crate::world::money::cents;
use crate::world::records::cases::{AGENCY, PaymentRecord};
use crate::world::records::clients::ClientRecord;
use crate::world::records::settlements::{
    Allocation, Beneficiary, Part, PartKind, Settlement, SettlementRecord,
};

/// Settlements run every Monday (the documented cadence is "typically once a business week").
pub const SETTLEMENT_DAY: Weekday = Weekday::Mon;

pub fn is_settlement_day(day: NaiveDate) -> bool {
    day.weekday() == SETTLEMENT_DAY
}

/// The id of the `sequence`th settlement made on `date`: the date's digits, then the sequence
/// (`YYYYMMDDNNNN`).
pub fn settlement_id(date: NaiveDate, sequence: i64) -> i64 {
    i64::from(date.year()) * 100_000_000
        + i64::from(date.month()) * 1_000_000
        + i64::from(date.day()) * 10_000
        + sequence
}

/// The `sequence`th settlement of `date`, paying `client` the agency-received payments
/// `pending` (each split into capital, interest and fees), paid to its account with a Finnish
/// reference made of the id; and those payments, now settled by it.
pub fn settle(
    client: &ClientRecord,
    mut pending: Vec<PaymentRecord>,
    date: NaiveDate,
    sequence: i64,
) -> (SettlementRecord, Vec<PaymentRecord>) {
    let id = settlement_id(date, sequence);
    let mut allocations = Vec::with_capacity(pending.len());
    let mut total = Decimal::ZERO;
    for p in &mut pending {
        p.settlement_id = Some(id);
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
        settlement_amount: cents(total),
        settlement_date: date,
        settlement_id: id,
    };
    let record = SettlementRecord {
        settlement,
        client_id: client.id,
    };
    (record, pending)
}

/// The client's integration fetched the settlement at `at`: the first fetch is the one kept.
pub fn fetched(record: &mut SettlementRecord, at: DateTime<Utc>) {
    record.settlement.api_fetch_date.get_or_insert(at);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn payment(allocation_id: i64, amount: &str, parts: [&str; 3]) -> PaymentRecord {
        PaymentRecord {
            allocation_id,
            client_id: 1000,
            case_id: 481_000 + allocation_id,
            invoice_number: allocation_id,
            invoice_reference: "10447".into(),
            original_reference: Some("10447".into()),
            account_name: None,
            date: "2026-03-25".parse().unwrap(),
            currency: "EUR".into(),
            amount: dec(amount),
            capital: dec(parts[0]),
            interest: dec(parts[1]),
            costs: dec(parts[2]),
            direct: false,
            settlement_id: None,
        }
    }

    #[test]
    fn a_settlement_pays_each_pending_payment_split_into_what_it_paid() {
        let client = crate::world::records::clients::tests::client();
        let monday: NaiveDate = "2026-03-30".parse().unwrap();
        assert!(is_settlement_day(monday));
        assert!(!is_settlement_day(monday.succ_opt().unwrap()));
        let pending = vec![
            payment(1, "300.00", ["292.64", "2.36", "5.00"]),
            payment(2, "10.50", ["10.50", "0", "0"]),
        ];
        let (record, settled) = settle(&client, pending, monday, 2);
        let s = &record.settlement;
        assert_eq!(s.settlement_id, 202_603_300_002);
        assert_eq!(record.client_id, 1000);
        assert_eq!(s.settlement_amount, dec("310.50"));
        assert_eq!(
            s.remittance_reference.as_deref(),
            Some(finnish_reference("202603300002").as_str())
        );
        assert_eq!(s.beneficiary.as_ref().unwrap().iban, client.iban);
        assert!(
            settled
                .iter()
                .all(|p| p.settlement_id == Some(s.settlement_id))
        );
        for (allocation, payment) in s.allocations.iter().zip(&settled) {
            let parts: Decimal = allocation.breakdown.iter().map(|b| b.amount).sum();
            assert_eq!(parts, payment.amount);
            assert_eq!(allocation.allocated_total_amount, payment.amount);
            assert_eq!(allocation.allocation_id, payment.allocation_id);
        }
        // Fetched: the first time is kept.
        let mut record = record;
        let first = "2026-03-30T09:00:00Z".parse().unwrap();
        fetched(&mut record, first);
        fetched(&mut record, "2026-03-31T09:00:00Z".parse().unwrap());
        assert_eq!(record.settlement.api_fetch_date, Some(first));
    }
}
