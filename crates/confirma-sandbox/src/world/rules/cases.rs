//! The rules of a case, as pure functions: escalation day by day, payments (their allocation and
//! what they close), crediting, and the invoice actions (each checked into a plan before any is
//! applied). The caller loads the case (its interest brought up to date) and writes what changes.

use chrono::{DateTime, NaiveDate, Utc};
use confirma_server::types;
use rust_decimal::Decimal;

use crate::world::money::cents;
use crate::world::records::cases::{
    ActionCode, COLLECTION_FEE, CasePayment, CaseRecord, CaseStage, CaseStatus, CaseTerms,
    DEFAULT_REMINDER_AFTER_DAYS, DEFAULT_REMINDER_FEE, DEMAND_FEE, PaymentRecord, PaymentType,
};
use crate::world::records::invoices::{InvoiceRecord, InvoiceStatus};
use crate::world::refusal::{Problem, Refusal};

/// Where a payment goes: costs first, then interest, then capital (the Finnish Interest Act
/// order), as (capital, interest, costs).
pub fn allocate(case: &CaseRecord, amount: Decimal) -> (Decimal, Decimal, Decimal) {
    let (capital, interest, costs) = case.outstanding();
    let to_costs = amount.min(costs);
    let to_interest = (amount - to_costs).min(interest);
    let to_capital = (amount - to_costs - to_interest).min(capital);
    (to_capital, to_interest, to_costs)
}

/// The terms an invoice gives its case: its interest, reminder fee and delay, and whether
/// collection may follow the reminders.
pub fn terms(invoice: &types::InvoiceContentData) -> CaseTerms {
    let collection = invoice.collection.as_ref();
    let interest = invoice
        .terms
        .as_ref()
        .and_then(|t| t.interest.as_ref())
        .map(|i| i.percentage)
        .or_else(|| {
            collection
                .and_then(|c| c.interest.as_ref())
                .and_then(|i| i.percentage)
        })
        .unwrap_or_default();
    CaseTerms {
        interest_percent: interest,
        reminder_fee: collection
            .and_then(|c| c.costs.as_ref())
            .and_then(|c| c.reminder_fee_amount)
            .unwrap_or(DEFAULT_REMINDER_FEE),
        reminder_after_days: collection
            .and_then(|c| c.start_delay_days)
            .map_or(DEFAULT_REMINDER_AFTER_DAYS, i64::from),
        collection_enabled: collection.is_none_or(|c| c.enabled)
            && !invoice.parties.buyer_party.disable_collection,
    }
}

/// A case due on `day` moves one stage on: a reminder (its fee from the invoice), a demand, or
/// collection, each with its fee, event and timeline entry, its interest brought up to `day`.
/// The stage it reached, if it moved.
pub fn escalate(case: &mut CaseRecord, day: NaiveDate) -> Option<CaseStage> {
    case.accrue(day);
    let (stage, fee, kind, what) = match case.stage {
        CaseStage::PaymentControl => (
            CaseStage::Reminder,
            case.terms.reminder_fee,
            "REMINDER_SENT",
            "Payment reminder sent",
        ),
        CaseStage::Reminder => (
            CaseStage::Demand,
            DEMAND_FEE,
            "DEMAND_SENT",
            "Demand for payment sent",
        ),
        CaseStage::Demand => (
            CaseStage::Collection,
            COLLECTION_FEE,
            "STAGE_CHANGED",
            "Moved to collection",
        ),
        _ => return None,
    };
    // Letters go out at six in the morning.
    let at = day.and_hms_opt(6, 0, 0).unwrap_or_default().and_utc();
    case.stage = stage;
    case.stage_since = day;
    case.costs += fee;
    case.event(
        at,
        kind,
        format!("{what}; fee {fee} {}.", case.currency),
        None,
    );
    case.mark(day, format!("{what}."));
    Some(stage)
}

/// The invoice is credited: its case keeps the interest accrued so far, and no longer accrues or
/// escalates.
pub fn credit(case: &mut CaseRecord) {
    case.accruing = false;
}

/// A payment to a case: from a debtor by reference, or reported by the creditor as paid to it
/// directly (`direct`, through the DIRECTPAYMENT action).
#[derive(Clone, Debug, PartialEq)]
pub struct Payment {
    pub amount: Decimal,
    pub date: NaiveDate,
    pub original_reference: Option<String>,
    pub account_name: Option<String>,
    pub direct: bool,
    pub action: Option<ActionCode>,
}

/// An incoming payment by reference: only to an open case, positive, in cents, and at most what
/// is outstanding.
pub fn check_incoming(case: &CaseRecord, amount: Decimal) -> Result<(), Refusal> {
    if case.is_closed() {
        return Err(Refusal::business_rule(format!(
            "Case {} is closed.",
            case.id
        )));
    }
    if amount <= Decimal::ZERO || amount.scale() > 2 || amount > case.total_outstanding() {
        return Err(Refusal::business_rule(format!(
            "The amount must be positive, in cents, and at most the outstanding {}.",
            case.total_outstanding()
        )));
    }
    Ok(())
}

/// Allocates `payment` to the case of `invoice` at `at`, under `allocation_id`: the case's
/// balance, payments and history, and both statuses (paid in full closes the case and pays the
/// invoice; less leaves an invoiced or overdue invoice partially paid). The payment's record.
pub fn pay(
    case: &mut CaseRecord,
    invoice: &mut InvoiceRecord,
    payment: Payment,
    at: DateTime<Utc>,
    allocation_id: i64,
) -> PaymentRecord {
    let Payment {
        amount,
        date,
        original_reference,
        account_name,
        direct,
        action,
    } = payment;
    let amount = cents(amount);
    let (capital, interest, costs) = allocate(case, amount);
    case.capital -= capital;
    case.interest = (cents(case.interest) - interest).max(Decimal::ZERO);
    case.costs -= costs;
    case.paid += amount;
    let payment_type = PaymentType {
        // "8" is the Cash-In code for a bank transfer (sibling evidence).
        code: (if direct { "DIRECT" } else { "8" }).into(),
        description: (if direct {
            "Paid directly to the creditor"
        } else {
            "Bank transfer"
        })
        .into(),
    };
    case.payments.push(CasePayment {
        booking_date: Some(date),
        capital_amount: capital,
        costs_amount: costs,
        currency: case.currency.clone(),
        interest_amount: interest,
        payment_amount: amount,
        payment_date: date,
        payment_reference: Some(invoice.payment_reference.clone()),
        payment_type: Some(payment_type),
    });
    case.event(
        at,
        "PAYMENT_RECEIVED",
        format!("Payment of {amount} {} received.", case.currency),
        action,
    );
    if case.total_outstanding().is_zero() {
        case.status = CaseStatus::Paid;
        case.closed_at = Some(date);
        invoice.status = InvoiceStatus::Paid;
        case.event(at, "CASE_CLOSED", "Paid in full.".into(), None);
        case.mark(date, "Paid in full; case closed.".into());
    } else if matches!(
        invoice.status,
        InvoiceStatus::Invoiced | InvoiceStatus::Overdue
    ) {
        invoice.status = InvoiceStatus::PartiallyPaid;
    }
    PaymentRecord {
        allocation_id,
        client_id: case.client_id,
        case_id: case.id,
        invoice_number: case.invoice_number,
        invoice_reference: invoice.payment_reference.clone(),
        original_reference,
        account_name,
        date,
        currency: case.currency.clone(),
        amount,
        capital,
        interest,
        costs,
        direct,
        settlement_id: None,
    }
}

/// The refusal of action `index` of a request, at `field` under it: a 402 for the whole request.
fn refuse(index: usize, field: &str, message: String) -> Refusal {
    Refusal::business_rule(message.clone()).with_problems(vec![Problem::new(
        format!("$.actions[{index}]{field}"),
        "business",
        message,
    )])
}

/// The case action `index` acts on: that of its invoice (the client's `invoice`, if it has
/// one), which must be in payment control and, if the action names a case, that case.
pub fn action_case(
    index: usize,
    action: &types::InvoiceAction,
    invoice: Option<&InvoiceRecord>,
) -> Result<i64, Refusal> {
    let data = &action.data;
    let Some(invoice) = invoice else {
        return Err(refuse(
            index,
            ".data.invoiceNumber",
            format!("Invoice {} does not exist.", data.invoice_number),
        ));
    };
    let Some(case_id) = invoice.case_id else {
        return Err(refuse(
            index,
            ".data.invoiceNumber",
            format!(
                "Invoice {} is not in payment control, so it has no case.",
                data.invoice_number
            ),
        ));
    };
    if data.case_id.is_some_and(|c| c != case_id) {
        return Err(refuse(
            index,
            ".data.caseId",
            format!("Invoice {} belongs to case {case_id}.", data.invoice_number),
        ));
    }
    Ok(case_id)
}

/// What an action does to its case, once checked.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// A payment made to the creditor directly.
    Payment(Payment),
    /// A change of the case itself.
    Change(Change),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Comment,
    Withdraw,
    DueDate(NaiveDate),
    PaymentPlan,
    Objection,
    Pause,
}

/// Action `index` checked against its case as it stands `today`: only a comment on a closed
/// case; DUEDATE after today; DIRECTPAYMENT positive, at most the outstanding, in the case's
/// currency; COMMENT with a comment. What it will do.
pub fn plan(
    index: usize,
    action: &types::InvoiceAction,
    case: &CaseRecord,
    today: NaiveDate,
) -> Result<Plan, Refusal> {
    let data = &action.data;
    let code = ActionCode::from(action.code);
    if case.is_closed() && code != ActionCode::Comment {
        return Err(refuse(
            index,
            ".code",
            format!(
                "Case {} is closed ({}); only comments are accepted.",
                case.id, case.status
            ),
        ));
    }
    Ok(match code {
        ActionCode::Duedate => match data.due_date {
            None => {
                return Err(refuse(
                    index,
                    ".data.dueDate",
                    "DUEDATE needs data.dueDate.".into(),
                ));
            }
            Some(d) if d <= today => {
                return Err(refuse(
                    index,
                    ".data.dueDate",
                    format!("The new case due date {d} must be after today ({today})."),
                ));
            }
            Some(d) => Plan::Change(Change::DueDate(d)),
        },
        ActionCode::Directpayment => {
            let Some(amount) = data.amount else {
                return Err(refuse(
                    index,
                    ".data.amount",
                    "DIRECTPAYMENT needs data.amount.".into(),
                ));
            };
            if amount <= Decimal::ZERO || amount > case.total_outstanding() {
                return Err(refuse(
                    index,
                    ".data.amount",
                    format!(
                        "must be positive and at most the outstanding {}",
                        case.total_outstanding()
                    ),
                ));
            }
            if data
                .currency
                .as_ref()
                .is_some_and(|c| c.as_str() != case.currency)
            {
                return Err(refuse(
                    index,
                    ".data.currency",
                    format!("The case is in {}.", case.currency),
                ));
            }
            Plan::Payment(Payment {
                amount,
                date: data.payment_date.unwrap_or(today),
                original_reference: data.reference.as_ref().map(|r| r.to_string()),
                account_name: None,
                direct: true,
                action: Some(code),
            })
        }
        ActionCode::Comment if action.comment.as_ref().is_none_or(|c| c.trim().is_empty()) => {
            return Err(refuse(index, ".comment", "COMMENT needs a comment.".into()));
        }
        ActionCode::Comment => Plan::Change(Change::Comment),
        ActionCode::Withdraw => Plan::Change(Change::Withdraw),
        ActionCode::Paymentplan => Plan::Change(Change::PaymentPlan),
        ActionCode::Objection => Plan::Change(Change::Objection),
        ActionCode::Pause => Plan::Change(Change::Pause),
    })
}

/// Applies a checked change to its case `today` (at `at`), with the action's comment in its
/// history: a new status or due date, an event, a timeline entry for a new status. The status
/// its invoice takes, if it changes (withdrawn).
pub fn apply(
    change: Change,
    code: ActionCode,
    comment: Option<&str>,
    case: &mut CaseRecord,
    today: NaiveDate,
    at: DateTime<Utc>,
) -> Option<InvoiceStatus> {
    let (status, what) = match change {
        Change::Comment => (None, "Comment added".to_string()),
        Change::Withdraw => (
            Some(CaseStatus::Withdrawn),
            "Case withdrawn by the creditor".into(),
        ),
        Change::DueDate(due) => {
            case.due_date = due;
            (None, format!("Case due date moved to {due}"))
        }
        Change::PaymentPlan => (Some(CaseStatus::PaymentPlan), "Payment plan allowed".into()),
        Change::Objection => (
            Some(CaseStatus::Objection),
            "Debtor's objection registered".into(),
        ),
        Change::Pause => (Some(CaseStatus::Paused), "Case paused".into()),
    };
    let mut invoice_status = None;
    if let Some(status) = status {
        case.status = status;
        if status == CaseStatus::Withdrawn {
            case.closed_at = Some(today);
            invoice_status = Some(InvoiceStatus::Withdrawn);
        }
        case.mark(today, format!("{what}."));
    }
    let note = comment.map(|c| format!(": {c}")).unwrap_or_default();
    case.event(at, "ACTION_APPLIED", format!("{what}{note}."), Some(code));
    invoice_status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::records::invoices::InvoiceType;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn at() -> DateTime<Utc> {
        "2026-03-25T08:00:00Z".parse().unwrap()
    }

    /// An open case of 1,000.00 with 10.00 of interest and 5.00 of costs, due 2026-03-16,
    /// delivered, accruing no more interest.
    fn case() -> CaseRecord {
        let mut case = crate::world::records::cases::tests::case(Some("2026-03-02"));
        case.terms.interest_percent = Decimal::ZERO;
        CaseRecord {
            id: 481_001,
            invoice_number: 7,
            interest: dec("10.00"),
            interest_through: day("2026-03-25"),
            costs: dec("5.00"),
            ..case
        }
    }

    fn invoice(status: InvoiceStatus) -> InvoiceRecord {
        InvoiceRecord {
            client_id: 1000,
            number: 7,
            invoice_type: InvoiceType::Invoice,
            date: day("2026-03-02"),
            due_date: day("2026-03-16"),
            currency: "EUR".into(),
            total: dec("1000.00"),
            payment_reference: "10447".into(),
            status,
            payment_control: true,
            buyer_name: "B".into(),
            received_at: "2026-03-02T08:00:00Z".parse().unwrap(),
            case_id: Some(481_001),
            distribution: None,
            request_sha256: None,
            request_hash: None,
            stored_status: None,
        }
    }

    fn action(code: types::ActionCode) -> types::InvoiceAction {
        types::InvoiceAction {
            code,
            comment: Some("Agreed by phone".parse().unwrap()),
            data: types::InvoiceActionData {
                amount: None,
                case_id: None,
                currency: None,
                due_date: None,
                invoice_number: 7,
                outstanding_capital_amount: None,
                outstanding_costs_amount: None,
                outstanding_interest_amount: None,
                payment_date: None,
                payment_method: None,
                reference: None,
            },
        }
    }

    /// The field a refusal points at.
    fn field(refusal: Refusal) -> String {
        match refusal {
            Refusal::BusinessRule { problems, .. } => problems[0].path.clone(),
            other => panic!("not a business rule: {other:?}"),
        }
    }

    #[test]
    fn a_case_escalates_a_stage_a_time_with_each_stage_s_fee_until_collection() {
        let mut c = case();
        let expected = [
            (CaseStage::Reminder, DEFAULT_REMINDER_FEE, "REMINDER_SENT"),
            (CaseStage::Demand, DEMAND_FEE, "DEMAND_SENT"),
            (CaseStage::Collection, COLLECTION_FEE, "STAGE_CHANGED"),
        ];
        let mut costs = c.costs;
        assert_eq!(c.stage, CaseStage::LADDER[0]);
        for (n, (stage, fee, kind)) in expected.into_iter().enumerate() {
            let on = day("2026-03-23") + chrono::Duration::days(n as i64);
            assert_eq!(escalate(&mut c, on), Some(stage));
            // The ladder an advance steps stored cases along (`tables::escalate_cases`).
            assert_eq!(stage, CaseStage::LADDER[n + 1]);
            costs += fee;
            assert_eq!((c.stage, c.stage_since, c.costs), (stage, on, costs));
            assert_eq!(c.events.last().unwrap().kind, kind);
            assert_eq!(c.timeline.last().unwrap().stage, stage);
        }
        assert_eq!(
            escalate(&mut c, day("2026-04-30")),
            None,
            "collection is the last"
        );
        assert_eq!(c.costs, costs);
    }

    #[test]
    fn a_payment_pays_costs_then_interest_then_capital_and_in_full_closes_the_case() {
        assert_eq!(
            allocate(&case(), dec("12.00")),
            (Decimal::ZERO, dec("7.00"), dec("5.00"))
        );
        let payment = |amount: &str| Payment {
            amount: dec(amount),
            date: day("2026-03-25"),
            original_reference: None,
            account_name: None,
            direct: false,
            action: None,
        };
        // Part of it: the invoice is partially paid, the case stays open.
        let (mut c, mut i) = (case(), invoice(InvoiceStatus::Overdue));
        let record = pay(&mut c, &mut i, payment("115.00"), at(), 9_001_001);
        assert_eq!(
            (record.costs, record.interest, record.capital),
            (dec("5.00"), dec("10.00"), dec("100.00"))
        );
        assert_eq!((c.capital, c.paid), (dec("900.00"), dec("115.00")));
        assert_eq!(
            (c.status, i.status),
            (CaseStatus::Open, InvoiceStatus::PartiallyPaid)
        );
        assert_eq!(c.payments[0].payment_type.as_ref().unwrap().code, "8");
        // An invoice not yet due keeps its status.
        let mut sent = invoice(InvoiceStatus::Accepted);
        pay(&mut case(), &mut sent, payment("1.00"), at(), 1);
        assert_eq!(sent.status, InvoiceStatus::Accepted);
        // The rest: paid in full, closed on the payment's date.
        let record = pay(&mut c, &mut i, payment("900.00"), at(), 9_001_002);
        assert_eq!(record.allocation_id, 9_001_002);
        assert_eq!(
            (c.status, i.status),
            (CaseStatus::Paid, InvoiceStatus::Paid)
        );
        assert_eq!(c.closed_at, Some(day("2026-03-25")));
        assert_eq!(c.events.last().unwrap().kind, "CASE_CLOSED");
    }

    #[test]
    fn an_incoming_payment_is_for_an_open_case_in_cents_up_to_the_outstanding() {
        assert!(check_incoming(&case(), dec("1015.00")).is_ok());
        for amount in ["0", "-1.00", "1.005", "1015.01"] {
            assert!(check_incoming(&case(), dec(amount)).is_err(), "{amount}");
        }
        let closed = CaseRecord {
            status: CaseStatus::Withdrawn,
            ..case()
        };
        assert!(check_incoming(&closed, dec("1.00")).is_err());
    }

    #[test]
    fn an_action_acts_on_the_case_of_a_payment_controlled_invoice_of_the_client() {
        let comment = action(types::ActionCode::Comment);
        let refused = |i: Option<&InvoiceRecord>, a: &types::InvoiceAction| {
            field(action_case(3, a, i).unwrap_err())
        };
        assert_eq!(refused(None, &comment), "$.actions[3].data.invoiceNumber");
        let uncontrolled = InvoiceRecord {
            case_id: None,
            ..invoice(InvoiceStatus::Invoiced)
        };
        assert_eq!(
            refused(Some(&uncontrolled), &comment),
            "$.actions[3].data.invoiceNumber"
        );
        let mut other_case = action(types::ActionCode::Comment);
        other_case.data.case_id = Some(1);
        let controlled = invoice(InvoiceStatus::Invoiced);
        assert_eq!(
            refused(Some(&controlled), &other_case),
            "$.actions[3].data.caseId"
        );
        assert_eq!(action_case(3, &comment, Some(&controlled)), Ok(481_001));
    }

    #[test]
    fn each_action_is_checked_into_what_it_will_do() {
        let today = day("2026-03-25");
        let planned = |a: &types::InvoiceAction, c: &CaseRecord| plan(0, a, c, today);
        let refused = |a: &types::InvoiceAction, c: &CaseRecord| field(planned(a, c).unwrap_err());
        let open = case();
        let closed = CaseRecord {
            status: CaseStatus::Paid,
            ..case()
        };
        // A closed case takes comments only.
        let pause = action(types::ActionCode::Pause);
        assert_eq!(refused(&pause, &closed), "$.actions[0].code");
        assert_eq!(planned(&pause, &open), Ok(Plan::Change(Change::Pause)));
        let comment = action(types::ActionCode::Comment);
        assert_eq!(
            planned(&comment, &closed),
            Ok(Plan::Change(Change::Comment))
        );
        let mut blank = comment.clone();
        blank.comment = Some("  ".parse().unwrap());
        assert_eq!(refused(&blank, &open), "$.actions[0].comment");
        for (code, change) in [
            (types::ActionCode::Withdraw, Change::Withdraw),
            (types::ActionCode::Paymentplan, Change::PaymentPlan),
            (types::ActionCode::Objection, Change::Objection),
        ] {
            assert_eq!(planned(&action(code), &open), Ok(Plan::Change(change)));
        }
        // DUEDATE: a date after today.
        let mut due = action(types::ActionCode::Duedate);
        assert_eq!(refused(&due, &open), "$.actions[0].data.dueDate");
        due.data.due_date = Some(today);
        assert_eq!(refused(&due, &open), "$.actions[0].data.dueDate");
        due.data.due_date = Some(day("2026-04-30"));
        assert_eq!(
            planned(&due, &open),
            Ok(Plan::Change(Change::DueDate(day("2026-04-30"))))
        );
        // DIRECTPAYMENT: an amount up to the outstanding, in the case's currency.
        let mut direct = action(types::ActionCode::Directpayment);
        assert_eq!(refused(&direct, &open), "$.actions[0].data.amount");
        for amount in ["0", "1015.01"] {
            direct.data.amount = Some(dec(amount));
            assert_eq!(refused(&direct, &open), "$.actions[0].data.amount");
        }
        direct.data.amount = Some(dec("100.00"));
        direct.data.currency = Some("SEK".parse().unwrap());
        assert_eq!(refused(&direct, &open), "$.actions[0].data.currency");
        direct.data.currency = Some("EUR".parse().unwrap());
        match planned(&direct, &open).unwrap() {
            Plan::Payment(p) => {
                assert_eq!((p.amount, p.date, p.direct), (dec("100.00"), today, true));
                assert_eq!(p.action, Some(ActionCode::Directpayment));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_applied_change_sets_status_or_due_date_and_is_told_in_the_history() {
        let today = day("2026-03-25");
        let applied = |change| {
            let mut c = case();
            let invoice = apply(
                change,
                ActionCode::Comment,
                Some("noted"),
                &mut c,
                today,
                at(),
            );
            (c, invoice)
        };
        let (c, invoice) = applied(Change::Comment);
        assert_eq!((c.status, invoice), (CaseStatus::Open, None));
        assert_eq!(c.events[0].description, "Comment added: noted.");
        assert!(
            c.timeline.is_empty(),
            "a comment changes no stage or status"
        );
        for (change, status) in [
            (Change::PaymentPlan, CaseStatus::PaymentPlan),
            (Change::Objection, CaseStatus::Objection),
            (Change::Pause, CaseStatus::Paused),
        ] {
            let (c, invoice) = applied(change);
            assert_eq!((c.status, invoice, c.closed_at), (status, None, None));
            assert_eq!(c.timeline[0].status, status);
        }
        let (c, invoice) = applied(Change::Withdraw);
        assert_eq!(
            (c.status, invoice, c.closed_at),
            (
                CaseStatus::Withdrawn,
                Some(InvoiceStatus::Withdrawn),
                Some(today)
            )
        );
        let (c, invoice) = applied(Change::DueDate(day("2026-04-30")));
        assert_eq!((c.due_date, invoice), (day("2026-04-30"), None));
        // Credited: no more accrual or escalation.
        let mut c = case();
        credit(&mut c);
        assert!(!c.accruing && c.escalates_on().is_none());
    }
}
