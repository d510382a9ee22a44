//! Collection cases and payments: their terms, balance, escalation and interest, as facts of the
//! record alone.

use crate::world::money::cents;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Days after the case due date when a reminder goes out, unless the invoice says otherwise.
pub const DEFAULT_REMINDER_AFTER_DAYS: i64 = 7;

/// Days from the reminder to the demand for payment, and from the demand to collection.
pub const DEMAND_AFTER_REMINDER_DAYS: i64 = 14;

pub const COLLECTION_AFTER_DEMAND_DAYS: i64 = 21;

/// Fees added at each stage (the reminder fee comes from the invoice when it gives one; 5.00 is
/// the statutory consumer reminder fee).
pub const DEFAULT_REMINDER_FEE: Decimal = Decimal::from_parts(500, 0, 0, false, 2);

pub const DEMAND_FEE: Decimal = Decimal::from_parts(1000, 0, 0, false, 2);

pub const COLLECTION_FEE: Decimal = Decimal::from_parts(2000, 0, 0, false, 2);

pub const AGENCY: &str = "CASH-IN";

/// How an invoice's case behaves, taken from the invoice when it was created.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaseTerms {
    pub interest_percent: Decimal,
    pub reminder_fee: Decimal,
    pub reminder_after_days: i64,
    /// Whether the case may go on to demand and collection (not only reminders).
    pub collection_enabled: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaseRecord {
    pub id: i64,
    pub client_id: i64,
    pub invoice_number: i64,
    pub status: CaseStatus,
    pub stage: CaseStage,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<NaiveDate>,
    pub due_date: NaiveDate,
    pub currency: String,
    pub terms: CaseTerms,
    pub capital: Decimal,
    /// Accrued interest, unrounded, through `interest_through`; shown and paid in cents.
    pub interest: Decimal,
    /// The last day whose interest `interest` includes (interest accrues day by day, and is
    /// brought up to date whenever the case changes or is shown).
    pub interest_through: NaiveDate,
    /// The day its invoice reaches the debtor (none if it never will): the case accrues interest
    /// and escalates only from the day after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_on: Option<NaiveDate>,
    /// False once its invoice is credited: then it no longer accrues or escalates.
    pub accruing: bool,
    pub costs: Decimal,
    pub paid: Decimal,
    pub stage_since: NaiveDate,
    pub events: Vec<CaseEvent>,
    pub timeline: Vec<TimelineEntry>,
    pub payments: Vec<CasePayment>,
}

impl CaseRecord {
    pub fn is_closed(&self) -> bool {
        matches!(
            self.status,
            CaseStatus::Withdrawn | CaseStatus::Paid | CaseStatus::Closed
        )
    }

    /// Outstanding (capital, interest, costs) in cents.
    pub fn outstanding(&self) -> (Decimal, Decimal, Decimal) {
        (cents(self.capital), cents(self.interest), cents(self.costs))
    }

    pub fn total_outstanding(&self) -> Decimal {
        let (c, i, f) = self.outstanding();
        c + i + f
    }

    /// Adds the interest of every day after `interest_through` up to `through` on which the
    /// case accrues: open or otherwise not closed, something outstanding, its invoice with the
    /// debtor, past its due date. One day's interest is capital × rate / 365.
    pub fn accrue(&mut self, through: NaiveDate) {
        if through <= self.interest_through {
            return;
        }
        if let Some(delivered) = self.delivered_on
            && self.accruing
            && !self.is_closed()
            && !self.total_outstanding().is_zero()
        {
            let from = self.interest_through.max(self.due_date).max(delivered);
            let days = (through - from).num_days().max(0);
            let daily = self.capital * self.terms.interest_percent
                / Decimal::ONE_HUNDRED
                / Decimal::from(365);
            self.interest += daily * Decimal::from(days);
        }
        self.interest_through = through;
    }

    /// The day the case next escalates (reminder, then demand and collection), if it will: only
    /// an open case whose invoice is with the debtor.
    pub fn escalates_on(&self) -> Option<NaiveDate> {
        let delivered = self.delivered_on?;
        if !self.accruing || self.status != CaseStatus::Open || self.total_outstanding().is_zero() {
            return None;
        }
        let after =
            |date: NaiveDate, days: i64| date.checked_add_signed(chrono::Duration::days(days));
        match self.stage {
            // Not before the day after delivery: the reminder follows the invoice.
            CaseStage::PaymentControl => after(self.due_date, self.terms.reminder_after_days)
                .map(|day| day.max(delivered.succ_opt().unwrap_or(delivered))),
            CaseStage::Reminder if self.terms.collection_enabled => {
                after(self.stage_since, DEMAND_AFTER_REMINDER_DAYS)
            }
            CaseStage::Demand => after(self.stage_since, COLLECTION_AFTER_DEMAND_DAYS),
            _ => None,
        }
    }

    pub(crate) fn event(
        &mut self,
        at: DateTime<Utc>,
        kind: &str,
        description: String,
        action: Option<ActionCode>,
    ) {
        self.events.push(CaseEvent {
            action_code: action,
            description,
            occurred_at: at,
            kind: kind.to_owned(),
        });
    }

    pub(crate) fn mark(&mut self, date: NaiveDate, description: String) {
        self.timeline.push(TimelineEntry {
            date,
            description,
            stage: self.stage,
            status: self.status,
        });
    }
}

stored_enum! {
    /// Where a case stands.
    pub enum CaseStatus {
        Open = "OPEN",
        Paused = "PAUSED",
        PaymentPlan = "PAYMENT_PLAN",
        Objection = "OBJECTION",
        Withdrawn = "WITHDRAWN",
        Paid = "PAID",
        Closed = "CLOSED",
    }
}

stored_enum! {
    /// How far a case has escalated.
    pub enum CaseStage {
        PaymentControl = "PAYMENT_CONTROL",
        Reminder = "REMINDER",
        Demand = "DEMAND",
        Collection = "COLLECTION",
        LegalCollection = "LEGAL_COLLECTION",
        CreditLoss = "CREDIT_LOSS",
    }
}

impl CaseStage {
    /// The stages a case escalates through, one a step (`rules::cases::escalate` adds each step's
    /// fee and history; `tables::escalate_cases` moves many cases a step at once).
    pub const LADDER: [CaseStage; 4] = [
        CaseStage::PaymentControl,
        CaseStage::Reminder,
        CaseStage::Demand,
        CaseStage::Collection,
    ];
}

stored_enum! {
    /// An action a client took on a case's invoice.
    pub enum ActionCode {
        Comment = "COMMENT",
        Withdraw = "WITHDRAW",
        Duedate = "DUEDATE",
        Paymentplan = "PAYMENTPLAN",
        Objection = "OBJECTION",
        Pause = "PAUSE",
        Directpayment = "DIRECTPAYMENT",
    }
}

/// Something that happened to a case, in its history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseEvent {
    /// The client's action it records, if it records one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_code: Option<ActionCode>,
    pub description: String,
    pub occurred_at: DateTime<Utc>,
    /// What happened (`CASE_OPENED`, `REMINDER_SENT`, ...).
    #[serde(rename = "type")]
    pub kind: String,
}

/// A day on which a case changed stage or status.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub date: NaiveDate,
    pub description: String,
    pub stage: CaseStage,
    pub status: CaseStatus,
}

/// A payment as its case shows it: the amount and how it was allocated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CasePayment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_date: Option<NaiveDate>,
    pub capital_amount: Decimal,
    pub costs_amount: Decimal,
    pub currency: String,
    pub interest_amount: Decimal,
    pub payment_amount: Decimal,
    pub payment_date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_type: Option<PaymentType>,
}

/// How a payment was made: a code and its description.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentType {
    pub code: String,
    pub description: String,
}

/// One payment allocated to a case.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PaymentRecord {
    pub allocation_id: i64,
    pub client_id: i64,
    pub case_id: i64,
    pub invoice_number: i64,
    pub invoice_reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    pub date: NaiveDate,
    pub currency: String,
    pub amount: Decimal,
    pub capital: Decimal,
    pub interest: Decimal,
    pub costs: Decimal,
    /// Paid to the creditor directly (reported with DIRECTPAYMENT), so never settled by the agency.
    pub direct: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement_id: Option<i64>,
}

/// What the case-details operation shows of one case.
pub struct CaseView {
    pub case: CaseRecord,
    pub invoice: Option<super::invoices::InvoiceRecord>,
    pub creditor: Option<super::clients::ClientRecord>,
    pub today: NaiveDate,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// A case of 1,000.00 at 7.3% (0.20 a day), due 2026-03-16, delivered on `delivered`.
    pub(crate) fn case(delivered: Option<&str>) -> CaseRecord {
        CaseRecord {
            id: 1,
            client_id: 1000,
            invoice_number: 1,
            status: CaseStatus::Open,
            stage: CaseStage::PaymentControl,
            created_at: "2026-03-02T08:00:00Z".parse().unwrap(),
            closed_at: None,
            due_date: day("2026-03-16"),
            currency: "EUR".into(),
            terms: CaseTerms {
                interest_percent: "7.3".parse().unwrap(),
                reminder_fee: DEFAULT_REMINDER_FEE,
                reminder_after_days: 7,
                collection_enabled: true,
            },
            capital: "1000.00".parse().unwrap(),
            interest: Decimal::ZERO,
            interest_through: day("2026-03-02"),
            delivered_on: delivered.map(day),
            accruing: true,
            costs: Decimal::ZERO,
            paid: Decimal::ZERO,
            stage_since: day("2026-03-02"),
            events: Vec::new(),
            timeline: Vec::new(),
            payments: Vec::new(),
        }
    }

    #[test]
    fn interest_accrues_day_by_day_after_the_due_date_and_the_delivery() {
        let mut on_time = case(Some("2026-03-02"));
        on_time.accrue(day("2026-03-20"));
        // 17th to 20th: four days of 0.20.
        assert_eq!(cents(on_time.interest), "0.80".parse::<Decimal>().unwrap());
        // Brought up to date in two goes, the same.
        let mut twice = case(Some("2026-03-02"));
        twice.accrue(day("2026-03-18"));
        twice.accrue(day("2026-03-20"));
        assert_eq!(cents(twice.interest), cents(on_time.interest));
        // Delivered late (on the 18th): from the 19th.
        let mut late = case(Some("2026-03-18"));
        late.accrue(day("2026-03-20"));
        assert_eq!(cents(late.interest), "0.40".parse::<Decimal>().unwrap());
        // Never delivered, or credited: nothing.
        let mut never = case(None);
        never.accrue(day("2026-03-20"));
        assert!(never.interest.is_zero());
        let mut credited = case(Some("2026-03-02"));
        credited.accruing = false;
        credited.accrue(day("2026-03-20"));
        assert!(credited.interest.is_zero());
    }

    #[test]
    fn the_reminder_is_due_days_after_the_due_date_but_never_before_delivery() {
        assert_eq!(
            case(Some("2026-03-02")).escalates_on(),
            Some(day("2026-03-23"))
        );
        assert_eq!(
            case(Some("2026-03-25")).escalates_on(),
            Some(day("2026-03-26"))
        );
        assert_eq!(case(None).escalates_on(), None);
        let mut paused = case(Some("2026-03-02"));
        paused.status = CaseStatus::Paused;
        assert_eq!(paused.escalates_on(), None);
    }
}
