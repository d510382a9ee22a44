//! The domain's records as the spec's wire types: the read side's one mapping.

use chrono::{NaiveDate, NaiveTime};
use confirma_server::types;

use crate::world::queries::CaseView;
use crate::world::records;
use crate::world::stored::{fit, int32};
use crate::world::{
    AccountingItem, Failure, InvoiceRecord, PaymentRecord, accounting, cases, cents,
};

/// An invoice's distribution, if it has one.
pub fn distribution_record(invoice: &InvoiceRecord) -> Option<types::DistributionRecord> {
    let d = invoice.distribution.as_ref()?;
    Some(types::DistributionRecord {
        case_id: invoice.case_id,
        created_at: d.created_at,
        distributed_at: d.distributed_at,
        error_message: d.error_message.clone(),
        invoice_number: invoice.number,
        invoice_status: invoice.status.into(),
        method: d.method.into(),
        payment_control_enabled: invoice.payment_control,
        payment_reference: invoice.payment_reference.parse().ok(),
        recipient: d.recipient.as_ref().and_then(|r| r.parse().ok()),
        status: d.status.into(),
    })
}

pub fn payment(p: &PaymentRecord) -> Result<types::Payment, Failure> {
    let midnight = |d: NaiveDate| d.and_time(NaiveTime::MIN).and_utc();
    Ok(types::Payment {
        account_name: p.account_name.as_deref().and_then(|n| n.parse().ok()),
        agency: Some(fit("agency", cases::AGENCY)?),
        allocation_id: Some(p.allocation_id),
        booking_date: Some(midnight(p.date)),
        capital_amount: Some(p.capital),
        case_id: p.case_id,
        costs_amount: Some(p.costs),
        currency: fit("payment currency", &p.currency)?,
        interest_amount: Some(p.interest),
        invoice_number: fit("payment invoice number", &p.invoice_number.to_string())?,
        invoice_payment_reference: p.invoice_reference.parse().ok(),
        original_payment_reference: p.original_reference.as_deref().and_then(|r| r.parse().ok()),
        payment_amount: p.amount,
        payment_date: midnight(p.date),
        payment_type: None,
    })
}

pub fn case_details(view: CaseView) -> Result<types::CaseDetails, Failure> {
    let case = &view.case;
    let (capital, interest, costs) = case.outstanding();
    let end = case.closed_at.unwrap_or(view.today);
    let invoice = match view.invoice.as_ref() {
        None => None,
        Some(i) => Some(types::CaseInvoice {
            buyer_name: Some(i.buyer_name.clone()),
            case_due_date: Some(case.due_date),
            currency: fit("invoice currency", &i.currency)?,
            due_date: i.due_date,
            invoice_date: i.date,
            invoice_number: i.number,
            payment_reference: i.payment_reference.parse().ok(),
            status: i.status.into(),
            total_gross_amount: i.total,
        }),
    };
    Ok(types::CaseDetails {
        balance: types::CaseBalance {
            capital_amount: capital,
            costs_amount: costs,
            currency: case.currency.parse().ok(),
            interest_amount: interest,
            paid_amount: Some(cents(case.paid)),
            total_amount: capital + interest + costs,
        },
        events: case
            .events
            .iter()
            .map(records::wire::case_event)
            .collect::<Result<_, _>>()?,
        invoice,
        payments: case
            .payments
            .iter()
            .map(records::wire::case_payment)
            .collect::<Result<_, _>>()?,
        summary: types::CaseSummary {
            active_days: int32(
                "a case's active days",
                (end - case.created_at.date_naive()).num_days().max(0),
            )?,
            agency: cases::AGENCY.into(),
            case_id: case.id,
            closed_at: case.closed_at,
            created_at: case.created_at,
            creditor: view
                .creditor
                .as_ref()
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            currency: fit("case currency", &case.currency)?,
            stage: case.stage.into(),
            status: case.status.into(),
        },
        timeline: case
            .timeline
            .iter()
            .map(records::wire::timeline_entry)
            .collect(),
    })
}

pub fn ledger_status(a: &AccountingItem) -> types::LedgerStatus {
    types::LedgerStatus {
        description: a.description.clone(),
        document_date: a.document_date,
        document_name: a.document_name.clone(),
        document_status: (a.status == accounting::SyncStatus::Synced)
            .then(|| "Approved".to_string()),
        source_identifier: a.source_identifier.clone(),
        status: a.status.code(),
        sync_date: a.sync_date,
    }
}

/// An accounting payment's status row; `None` for an item whose invoice number the wire type
/// cannot carry.
pub fn accounting_payment_status(a: &AccountingItem) -> Option<types::AccountingPaymentStatus> {
    Some(types::AccountingPaymentStatus {
        description: a.description.clone(),
        invoice_number: a.invoice_number.parse().ok()?,
        payment_date: a.document_date,
        source_identifier: a.source_identifier.clone(),
        status: a.status.code(),
        sync_date: a.sync_date,
    })
}
