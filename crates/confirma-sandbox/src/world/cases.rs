//! Payment control and collection: cases, their escalation as days pass, interest, the
//! invoice actions, and payments (received by reference or reported directly).

use chrono::NaiveDate;
use confirma_server::types;
use rust_decimal::Decimal;

use super::checks::normalized_reference;
use super::clock::Happened;
use super::invoices::InvoiceRecord;
use super::money::cents;
pub use super::records::cases::{
    AGENCY, COLLECTION_FEE, CaseRecord, CaseTerms, DEMAND_FEE, PaymentRecord,
};
use super::records::cases::{ActionCode, CasePayment, CaseStage, CaseStatus, PaymentType};
use super::records::invoices::InvoiceStatus;
use super::refusal::{Failure, Problem, Refusal, StorageFault};
use super::{World, tables};

/// What an incoming payment was allocated to: the case it credited and how.
#[derive(Clone, Debug, PartialEq)]
pub struct PaymentReceipt {
    pub client_id: i64,
    pub case_id: i64,
    pub invoice_number: i64,
    pub allocation_id: i64,
    pub amount: Decimal,
    pub capital: Decimal,
    pub interest: Decimal,
    pub costs: Decimal,
    /// What the case still has to receive after this payment.
    pub outstanding: Decimal,
    pub case_status: CaseStatus,
}

/// Where a payment goes: costs first, then interest, then capital (the Finnish Interest Act
/// order).
fn allocate(case: &CaseRecord, amount: Decimal) -> (Decimal, Decimal, Decimal) {
    let (capital, interest, costs) = case.outstanding();
    let to_costs = amount.min(costs);
    let to_interest = (amount - to_costs).min(interest);
    let to_capital = (amount - to_costs - to_interest).min(capital);
    (to_capital, to_interest, to_costs)
}

fn refuse(index: usize, field: &str, message: String) -> Failure {
    Refusal::business_rule(message.clone())
        .with_problems(vec![Problem::new(
            format!("$.actions[{index}]{field}"),
            "business",
            message,
        )])
        .into()
}

impl World<'_> {
    /// The case `id`, with its interest brought up to the last processed day.
    pub(super) async fn case_now(&mut self, id: i64) -> Result<Option<CaseRecord>, Failure> {
        let through = self.processed_day;
        Ok(tables::case(self.db(), id).await?.map(|mut case| {
            case.accrue(through);
            case
        }))
    }

    /// Opens the case of a payment-controlled invoice, just recorded.
    pub(super) async fn open_case(
        &mut self,
        id: i64,
        invoice: &InvoiceRecord,
        terms: CaseTerms,
    ) -> Result<(), Failure> {
        let mut case = CaseRecord {
            id,
            client_id: invoice.client_id,
            invoice_number: invoice.number,
            status: CaseStatus::Open,
            stage: CaseStage::PaymentControl,
            created_at: self.now,
            closed_at: None,
            due_date: invoice.due_date,
            currency: invoice.currency.clone(),
            terms,
            capital: invoice.total,
            interest: Decimal::ZERO,
            interest_through: self.processed_day,
            delivered_on: invoice.delivers_on(),
            accruing: true,
            costs: Decimal::ZERO,
            paid: Decimal::ZERO,
            stage_since: self.today(),
            events: Vec::new(),
            timeline: Vec::new(),
            payments: Vec::new(),
        };
        case.event(
            self.now,
            "CASE_OPENED",
            format!("Payment control started for invoice {}.", invoice.number),
            None,
        );
        case.mark(self.today(), "Case opened in payment control.".into());
        tables::insert_case(self.db(), &case).await
    }

    /// The invoice is credited: its case's interest up to the last processed day, and no more
    /// accrual or escalation.
    pub(super) async fn case_credited(&mut self, invoice: &InvoiceRecord) -> Result<(), Failure> {
        let Some(id) = invoice.case_id else {
            return Ok(());
        };
        if let Some(mut case) = self.case_now(id).await? {
            case.accruing = false;
            tables::update_case(self.db(), &case).await?;
        }
        Ok(())
    }

    /// Escalates up to `limit` of the cases due on `day` (reminder, demand, collection);
    /// returns how many it took.
    pub(super) async fn escalate(
        &mut self,
        day: NaiveDate,
        limit: i64,
        happened: &mut Happened,
    ) -> Result<usize, Failure> {
        let at = day.and_hms_opt(6, 0, 0).expect("valid time").and_utc();
        let mut due = tables::cases_to_escalate(self.db(), day, limit).await?;
        let mut in_collection = Vec::new();
        for case in &mut due {
            case.accrue(day);
            let next = match case.stage {
                CaseStage::PaymentControl => Some((
                    CaseStage::Reminder,
                    case.terms.reminder_fee,
                    "REMINDER_SENT",
                    "Payment reminder sent",
                )),
                CaseStage::Reminder => Some((
                    CaseStage::Demand,
                    DEMAND_FEE,
                    "DEMAND_SENT",
                    "Demand for payment sent",
                )),
                CaseStage::Demand => Some((
                    CaseStage::Collection,
                    COLLECTION_FEE,
                    "STAGE_CHANGED",
                    "Moved to collection",
                )),
                _ => None,
            };
            if let Some((stage, fee, kind, what)) = next {
                match stage {
                    CaseStage::Reminder => happened.reminded += 1,
                    CaseStage::Demand => happened.demanded += 1,
                    _ => happened.to_collection += 1,
                }
                case.stage = stage;
                case.stage_since = day;
                case.costs += fee;
                if matches!(stage, CaseStage::Demand | CaseStage::Collection) {
                    in_collection.push((case.client_id, case.invoice_number));
                }
                case.event(
                    at,
                    kind,
                    format!("{what}; fee {fee} {}.", case.currency),
                    None,
                );
                case.mark(day, format!("{what}."));
            }
        }
        let mut invoices = tables::invoices_by_key(self.db(), &in_collection).await?;
        for invoice in &mut invoices {
            invoice.status = InvoiceStatus::InCollection;
        }
        tables::put_invoices(self.db(), &invoices).await?;
        tables::put_cases(self.db(), &due).await?;
        Ok(due.len())
    }

    /// Allocates a payment to a case and records it; closes the case when nothing is left.
    #[allow(clippy::too_many_arguments)]
    async fn apply_payment(
        &mut self,
        mut case: CaseRecord,
        amount: Decimal,
        date: NaiveDate,
        original_reference: Option<String>,
        account_name: Option<String>,
        direct: bool,
        action: Option<ActionCode>,
    ) -> Result<(PaymentRecord, CaseRecord), Failure> {
        let allocation_id = 9_001_000 + self.next() as i64;
        let at = self.now;
        let amount = cents(amount);
        let (capital, interest, costs) = allocate(&case, amount);
        case.capital -= capital;
        case.interest = (cents(case.interest) - interest).max(Decimal::ZERO);
        case.costs -= costs;
        case.paid += amount;
        let mut invoice = tables::invoice(self.db(), case.client_id, case.invoice_number)
            .await?
            .ok_or_else(|| {
                Failure::Storage(StorageFault::other(format!(
                    "case {} has no invoice",
                    case.id
                )))
            })?;
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
        let record = PaymentRecord {
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
        };
        tables::put_invoice(self.db(), &invoice).await?;
        tables::update_case(self.db(), &case).await?;
        tables::insert_payment(self.db(), &record).await?;
        Ok((record, case))
    }

    /// A debtor's payment arriving at the agency's account with a reference number.
    pub(super) async fn receive_payment(
        &mut self,
        reference: &str,
        amount: Decimal,
        date: Option<NaiveDate>,
        payer: Option<String>,
    ) -> Result<PaymentReceipt, Failure> {
        let wanted = normalized_reference(reference);
        let case_id = tables::invoice_by_reference(self.db(), &wanted)
            .await?
            .and_then(|i| i.case_id);
        let case = match case_id {
            Some(id) => self.case_now(id).await?,
            None => None,
        };
        let Some(case) = case else {
            return Err(Refusal::not_found(format!(
                "No payment-controlled invoice has the reference {}.",
                confirma_server::clip(&wanted)
            ))
            .into());
        };
        if case.is_closed() {
            return Err(Refusal::business_rule(format!("Case {} is closed.", case.id)).into());
        }
        if amount <= Decimal::ZERO || amount.scale() > 2 || amount > case.total_outstanding() {
            return Err(Refusal::business_rule(format!(
                "The amount must be positive, in cents, and at most the outstanding {}.",
                case.total_outstanding()
            ))
            .into());
        }
        let date = date.unwrap_or_else(|| self.today());
        let (payment, case) = self
            .apply_payment(case, amount, date, Some(wanted), payer, false, None)
            .await?;
        Ok(PaymentReceipt {
            client_id: payment.client_id,
            case_id: case.id,
            invoice_number: payment.invoice_number,
            allocation_id: payment.allocation_id,
            amount: payment.amount,
            capital: payment.capital,
            interest: payment.interest,
            costs: payment.costs,
            outstanding: cents(case.total_outstanding()),
            case_status: case.status,
        })
    }

    /// All actions of one request, atomically: every action is checked before any is applied.
    pub(super) async fn invoice_actions(
        &mut self,
        client_id: i64,
        request: &types::InvoiceActionsRequest,
    ) -> Result<types::InvoiceActionsResponse, Failure> {
        let mut case_ids = Vec::new();
        for (i, action) in request.actions.iter().enumerate() {
            let data = &action.data;
            let invoice = tables::invoice(self.db(), client_id, data.invoice_number)
                .await?
                .ok_or_else(|| {
                    refuse(
                        i,
                        ".data.invoiceNumber",
                        format!("Invoice {} does not exist.", data.invoice_number),
                    )
                })?;
            let case_id = invoice.case_id.ok_or_else(|| {
                refuse(
                    i,
                    ".data.invoiceNumber",
                    format!(
                        "Invoice {} is not in payment control, so it has no case.",
                        data.invoice_number
                    ),
                )
            })?;
            if data.case_id.is_some_and(|c| c != case_id) {
                return Err(refuse(
                    i,
                    ".data.caseId",
                    format!("Invoice {} belongs to case {case_id}.", data.invoice_number),
                ));
            }
            let case = self.case_now(case_id).await?.ok_or_else(|| {
                Failure::Storage(StorageFault::other(format!(
                    "invoice {} has no case",
                    invoice.number
                )))
            })?;
            if case.is_closed() && ActionCode::from(action.code) != ActionCode::Comment {
                return Err(refuse(
                    i,
                    ".code",
                    format!(
                        "Case {case_id} is closed ({}); only comments are accepted.",
                        case.status
                    ),
                ));
            }
            match ActionCode::from(action.code) {
                ActionCode::Duedate => match data.due_date {
                    None => {
                        return Err(refuse(
                            i,
                            ".data.dueDate",
                            "DUEDATE needs data.dueDate.".into(),
                        ));
                    }
                    Some(d) if d <= self.today() => {
                        return Err(refuse(
                            i,
                            ".data.dueDate",
                            format!(
                                "The new case due date {d} must be after today ({}).",
                                self.today()
                            ),
                        ));
                    }
                    Some(_) => {}
                },
                ActionCode::Directpayment => {
                    let amount = data.amount.ok_or_else(|| {
                        refuse(i, ".data.amount", "DIRECTPAYMENT needs data.amount.".into())
                    })?;
                    if amount <= Decimal::ZERO || amount > case.total_outstanding() {
                        return Err(refuse(
                            i,
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
                            i,
                            ".data.currency",
                            format!("The case is in {}.", case.currency),
                        ));
                    }
                }
                ActionCode::Comment
                    if action.comment.as_ref().is_none_or(|c| c.trim().is_empty()) =>
                {
                    return Err(refuse(i, ".comment", "COMMENT needs a comment.".into()));
                }
                _ => {}
            }
            case_ids.push(case_id);
        }

        let mut results = Vec::new();
        for (action, case_id) in request.actions.iter().zip(case_ids) {
            let today = self.today();
            let at = self.now;
            let action_id = 77_000 + self.next() as i64;
            let comment = action.comment.as_ref().map(|c| c.to_string());
            let note = comment
                .as_deref()
                .map(|c| format!(": {c}"))
                .unwrap_or_default();
            // Each action sees what the ones before it did to the case.
            let case = self.case_now(case_id).await?.ok_or_else(|| {
                Failure::Storage(StorageFault::other(format!("case {case_id} is gone")))
            })?;
            if ActionCode::from(action.code) == ActionCode::Directpayment {
                let data = &action.data;
                self.apply_payment(
                    case,
                    data.amount.expect("checked"),
                    data.payment_date.unwrap_or(today),
                    data.reference.as_ref().map(|r| r.to_string()),
                    None,
                    true,
                    Some(action.code.into()),
                )
                .await?;
            } else {
                let mut case = case;
                let (status, what) = match ActionCode::from(action.code) {
                    ActionCode::Comment => (None, "Comment added".to_string()),
                    ActionCode::Withdraw => (
                        Some(CaseStatus::Withdrawn),
                        "Case withdrawn by the creditor".into(),
                    ),
                    ActionCode::Duedate => {
                        let due = action.data.due_date.expect("checked");
                        case.due_date = due;
                        (None, format!("Case due date moved to {due}"))
                    }
                    ActionCode::Paymentplan => {
                        (Some(CaseStatus::PaymentPlan), "Payment plan allowed".into())
                    }
                    ActionCode::Objection => (
                        Some(CaseStatus::Objection),
                        "Debtor's objection registered".into(),
                    ),
                    ActionCode::Pause => (Some(CaseStatus::Paused), "Case paused".into()),
                    ActionCode::Directpayment => unreachable!("handled above"),
                };
                if let Some(status) = status {
                    case.status = status;
                    if status == CaseStatus::Withdrawn {
                        case.closed_at = Some(today);
                        if let Some(mut invoice) =
                            tables::invoice(self.db(), client_id, case.invoice_number).await?
                        {
                            invoice.status = InvoiceStatus::Withdrawn;
                            tables::put_invoice(self.db(), &invoice).await?;
                        }
                    }
                    case.mark(today, format!("{what}."));
                }
                case.event(
                    at,
                    "ACTION_APPLIED",
                    format!("{what}{note}."),
                    Some(action.code.into()),
                );
                tables::update_case(self.db(), &case).await?;
            }
            results.push(types::InvoiceActionResult {
                action_id,
                case_id: Some(case_id),
                code: action.code,
                invoice_number: action.data.invoice_number,
                status: types::ActionStatus::Applied,
            });
        }
        Ok(types::InvoiceActionsResponse { results })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::records::cases::DEFAULT_REMINDER_FEE;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// A case of 1,000.00 at 7.3% (0.20 a day), due 2026-03-16, delivered on `delivered`.
    fn case(delivered: Option<&str>) -> CaseRecord {
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
