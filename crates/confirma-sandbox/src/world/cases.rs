//! Payment control and collection: cases, their escalation as days pass, interest, the
//! invoice actions, and payments (received by reference or reported directly).

use chrono::NaiveDate;
use confirma_server::types;
use rust_decimal::Decimal;

use super::checks::normalized_reference;
use super::clock::Happened;
use super::invoices::InvoiceRecord;
use super::money::cents;
pub use super::records::cases::{CaseRecord, CaseTerms, PaymentRecord};
use super::records::cases::{CaseStage, CaseStatus};
use super::refusal::{Failure, Refusal, StorageFault};
use super::{World, rules, tables};

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

impl World<'_> {
    /// The case `id`, with its interest brought up to the last processed day.
    pub(super) async fn case_now(&mut self, id: i64) -> Result<Option<CaseRecord>, Failure> {
        let through = self.processed_day;
        let Some(stored) = tables::case(self.db(), id).await? else {
            return Ok(None);
        };
        // The escalations since its document, replayed by the rule that made them.
        let mut case = stored.document;
        for (day, stage) in stored.escalations {
            let reached = rules::cases::escalate(&mut case, day);
            if reached != Some(stage) {
                return Err(Failure::Storage(StorageFault::other(format!(
                    "case {id} is stored as escalated to {stage} on {day}, which its document leads to as {reached:?}"
                ))));
            }
        }
        case.accrue(through);
        Ok(Some(case))
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
        self.insert_case(case).await
    }

    /// Escalates up to `limit` of the cases due on `day` (reminder, demand, collection) by their
    /// columns ([`tables::escalate_cases`]); returns how many it took. Due cases stored before
    /// those columns are first written whole, which sets them, and count towards `limit`.
    pub(super) async fn escalate(
        &mut self,
        day: NaiveDate,
        limit: i64,
        happened: &mut Happened,
    ) -> Result<usize, Failure> {
        let unstaged = tables::unstaged_cases_due(self.db(), day, limit).await?;
        for case in &unstaged {
            tables::update_case(self.db(), case).await?;
        }
        let limit = limit - unstaged.len() as i64;
        if limit <= 0 {
            return Ok(unstaged.len());
        }
        let escalated = tables::escalate_cases(self.db(), day, limit).await?;
        happened.reminded += escalated.reminded;
        happened.demanded += escalated.demanded;
        happened.to_collection += escalated.to_collection;
        Ok(unstaged.len() + escalated.taken as usize)
    }

    /// Allocates a payment to a case ([`rules::cases::pay`]) and records it.
    async fn apply_payment(
        &mut self,
        mut case: CaseRecord,
        payment: rules::cases::Payment,
    ) -> Result<(PaymentRecord, CaseRecord), Failure> {
        let allocation_id = 9_001_000 + self.next() as i64;
        let mut invoice = tables::invoice(self.db(), case.client_id, case.invoice_number)
            .await?
            .ok_or_else(|| {
                Failure::Storage(StorageFault::other(format!(
                    "case {} has no invoice",
                    case.id
                )))
            })?;
        let record = rules::cases::pay(&mut case, &mut invoice, payment, self.now, allocation_id);
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
        rules::cases::check_incoming(&case, amount)?;
        let payment = rules::cases::Payment {
            amount,
            date: date.unwrap_or_else(|| self.today()),
            original_reference: Some(wanted),
            account_name: payer,
            direct: false,
            action: None,
        };
        let (payment, case) = self.apply_payment(case, payment).await?;
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

    /// All actions of one request, atomically: every action is checked into a plan
    /// ([`rules::cases::plan`]) before any is applied, each on its case as the ones before it
    /// left it.
    pub(super) async fn invoice_actions(
        &mut self,
        client_id: i64,
        request: &types::InvoiceActionsRequest,
    ) -> Result<types::InvoiceActionsResponse, Failure> {
        let mut plans = Vec::new();
        for (i, action) in request.actions.iter().enumerate() {
            let number = action.data.invoice_number;
            let invoice = tables::invoice(self.db(), client_id, number).await?;
            let case_id = rules::cases::action_case(i, action, invoice.as_ref())?;
            let case = self.case_now(case_id).await?.ok_or_else(|| {
                Failure::Storage(StorageFault::other(format!("invoice {number} has no case")))
            })?;
            plans.push((case_id, rules::cases::plan(i, action, &case, self.today())?));
        }

        let mut results = Vec::new();
        for (action, (case_id, plan)) in request.actions.iter().zip(plans) {
            let action_id = 77_000 + self.next() as i64;
            let mut case = self.case_now(case_id).await?.ok_or_else(|| {
                Failure::Storage(StorageFault::other(format!("case {case_id} is gone")))
            })?;
            match plan {
                rules::cases::Plan::Payment(payment) => {
                    self.apply_payment(case, payment).await?;
                }
                rules::cases::Plan::Change(change) => {
                    let comment = action.comment.as_ref().map(|c| c.as_str());
                    let (today, now) = (self.today(), self.now);
                    let code = action.code.into();
                    if let Some(status) =
                        rules::cases::apply(change, code, comment, &mut case, today, now)
                        && let Some(mut invoice) =
                            tables::invoice(self.db(), client_id, case.invoice_number).await?
                    {
                        invoice.status = status;
                        tables::put_invoice(self.db(), &invoice).await?;
                    }
                    tables::update_case(self.db(), &case).await?;
                }
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
