//! The records' vocabulary and the spec's wire types: the one mapping between them (the
//! records' enums both ways; records, cases and accounting items as the answers' types).
//!
//! Records are stored under their own names; the generated types are regenerated from the spec.
//! Each enum maps variant by variant in both directions, with exhaustive matches, so a variant
//! the spec adds or drops fails to compile here instead of silently changing what a stored
//! record means. A stored string that no longer fits a stricter wire type is a logged
//! [`Failure::Internal`], never a panic.

use chrono::{NaiveDate, NaiveTime};
use confirma_server::types;

use super::money::cents;
use super::records::accounting::{AccountingItem, SyncStatus};
use super::records::cases::{AGENCY, CaseView, PaymentRecord};
use super::records::cases::{
    ActionCode, CaseEvent, CasePayment, CaseStage, CaseStatus, TimelineEntry,
};
use super::records::clients::{AccountingSystem, ServiceType};
use super::records::filters::Fetch;
use super::records::invoices::InvoiceRecord;
use super::records::invoices::{
    DistributionMethod, DistributionStatus, InvoiceStatus, InvoiceType,
};
use super::records::settlements::{PartKind, Settlement};
use super::refusal::Failure;
use super::stored::{fit, int32};

/// `From` both ways between a record's enum and the wire's, variant by variant.
macro_rules! same_variants {
    ($record:ty, $wire:ty { $($variant:ident),+ $(,)? }) => {
        impl From<$record> for $wire {
            fn from(value: $record) -> Self {
                type R = $record;
                match value {
                    $(R::$variant => Self::$variant),+
                }
            }
        }

        impl From<$wire> for $record {
            fn from(value: $wire) -> Self {
                type W = $wire;
                match value {
                    $(W::$variant => Self::$variant),+
                }
            }
        }
    };
}

same_variants!(
    InvoiceType,
    types::InvoiceType {
        Invoice,
        CreditNote,
        Reminder,
        AutoPaymentInvoice,
        Collection,
        Factoring,
    }
);
same_variants!(
    InvoiceType,
    types::InvoiceHeaderType {
        Invoice,
        CreditNote,
        Reminder,
        AutoPaymentInvoice,
        Collection,
        Factoring,
    }
);
same_variants!(
    InvoiceStatus,
    types::InvoiceStatus {
        Paused,
        Draft,
        Accepted,
        Invoiced,
        Credited,
        Intermediated,
        Manual,
        Error,
        Duplicate,
        Overdue,
        PartiallyPaid,
        Paid,
        InCollection,
        Withdrawn,
        Cancelled,
    }
);
same_variants!(
    DistributionMethod,
    types::DistributionMethod {
        Email,
        Letter,
        Einvoice
    }
);
same_variants!(
    DistributionStatus,
    types::DistributionStatus {
        Pending,
        Processing,
        Sent,
        Delivered,
        Failed,
    }
);
same_variants!(
    CaseStatus,
    types::CaseStatus {
        Open,
        Paused,
        PaymentPlan,
        Objection,
        Withdrawn,
        Paid,
        Closed,
    }
);
same_variants!(
    CaseStage,
    types::CaseStage {
        PaymentControl,
        Reminder,
        Demand,
        Collection,
        LegalCollection,
        CreditLoss,
    }
);
same_variants!(
    ActionCode,
    types::ActionCode {
        Comment,
        Withdraw,
        Duedate,
        Paymentplan,
        Objection,
        Pause,
        Directpayment,
    }
);
same_variants!(
    ServiceType,
    types::ServiceType {
        Lifecycle,
        Intermediation,
        DebtCollection,
        CoOp
    }
);
same_variants!(
    AccountingSystem,
    types::AccountingSystem {
        Netvisor,
        Procountor,
        Netbaron
    }
);
same_variants!(
    Fetch,
    types::FetchType {
        All,
        Successful,
        Failed
    }
);
same_variants!(
    Fetch,
    types::DistributionFiltersAppliedFetchType {
        All,
        Successful,
        Failed
    }
);
same_variants!(
    PartKind,
    types::SettlementBreakdownType {
        Capital,
        Interest,
        Fees
    }
);

pub fn case_event(e: &CaseEvent) -> Result<types::CaseEvent, Failure> {
    Ok(types::CaseEvent {
        action_code: e.action_code.map(Into::into),
        description: e.description.clone(),
        occurred_at: e.occurred_at,
        type_: fit("case event type", &e.kind)?,
    })
}

pub fn timeline_entry(t: &TimelineEntry) -> types::CaseTimelineEntry {
    types::CaseTimelineEntry {
        date: t.date,
        description: t.description.clone(),
        stage: t.stage.into(),
        status: t.status.into(),
    }
}

pub fn case_payment(p: &CasePayment) -> Result<types::CasePayment, Failure> {
    Ok(types::CasePayment {
        booking_date: p.booking_date,
        capital_amount: p.capital_amount,
        costs_amount: p.costs_amount,
        currency: fit("case payment currency", &p.currency)?,
        interest_amount: p.interest_amount,
        payment_amount: p.payment_amount,
        payment_date: p.payment_date,
        payment_reference: p.payment_reference.as_deref().and_then(|r| r.parse().ok()),
        payment_type: match &p.payment_type {
            None => None,
            Some(t) => Some(types::PaymentType {
                code: fit("payment type code", &t.code)?,
                description: fit("payment type description", &t.description)?,
            }),
        },
    })
}

pub fn settlement(s: &Settlement) -> Result<types::Settlement, Failure> {
    let mut allocations = Vec::with_capacity(s.allocations.len());
    for a in &s.allocations {
        allocations.push(types::SettlementAllocation {
            allocated_total_amount: a.allocated_total_amount,
            allocation_date: a.allocation_date,
            allocation_id: a.allocation_id,
            breakdown: a
                .breakdown
                .iter()
                .map(|part| types::SettlementBreakdownItem {
                    amount: part.amount,
                    type_: part.kind.into(),
                })
                .collect(),
            case_id: a.case_id,
            currency: fit("allocation currency", &a.currency)?,
            original_invoice_number: a
                .original_invoice_number
                .as_deref()
                .and_then(|n| n.parse().ok()),
            original_payment_reference: a
                .original_payment_reference
                .as_deref()
                .and_then(|r| r.parse().ok()),
        });
    }
    Ok(types::Settlement {
        agency: fit("agency", &s.agency)?,
        allocations,
        api_fetch_date: s.api_fetch_date,
        beneficiary: s
            .beneficiary
            .as_ref()
            .map(|b| types::SettlementBeneficiary {
                bic: b.bic.as_deref().and_then(|v| v.parse().ok()),
                iban: b.iban.as_deref().and_then(|v| v.parse().ok()),
                name: b.name.as_deref().and_then(|v| v.parse().ok()),
            }),
        currency: fit("settlement currency", &s.currency)?,
        remittance_reference: s
            .remittance_reference
            .as_deref()
            .and_then(|r| r.parse().ok()),
        settlement_amount: s.settlement_amount,
        settlement_date: s.settlement_date,
        settlement_id: s.settlement_id,
    })
}

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

/// The invoice status field of a distribution record as [`distribution_record`] serializes
/// it (`"invoiceStatus":"INVOICED"`): in the compact JSON of a record, the one place those bytes
/// can occur (a quote inside a string is escaped), so a status changes by replacing them.
pub fn invoice_status_field(status: InvoiceStatus) -> Result<String, Failure> {
    let value = serde_json::to_string(&types::InvoiceStatus::from(status))
        .map_err(|_| Failure::Internal)?;
    Ok(format!("\"invoiceStatus\":{value}"))
}

pub fn payment(p: &PaymentRecord) -> Result<types::Payment, Failure> {
    let midnight = |d: NaiveDate| d.and_time(NaiveTime::MIN).and_utc();
    Ok(types::Payment {
        account_name: p.account_name.as_deref().and_then(|n| n.parse().ok()),
        agency: Some(fit("agency", AGENCY)?),
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
            .map(case_event)
            .collect::<Result<_, _>>()?,
        invoice,
        payments: case
            .payments
            .iter()
            .map(case_payment)
            .collect::<Result<_, _>>()?,
        summary: types::CaseSummary {
            active_days: int32(
                "a case's active days",
                (end - case.created_at.date_naive()).num_days().max(0),
            )?,
            agency: AGENCY.into(),
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
        timeline: case.timeline.iter().map(timeline_entry).collect(),
    })
}

pub fn ledger_status(a: &AccountingItem) -> types::LedgerStatus {
    types::LedgerStatus {
        description: a.description.clone(),
        document_date: a.document_date,
        document_name: a.document_name.clone(),
        document_status: (a.status == SyncStatus::Synced).then(|| "Approved".to_string()),
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

#[cfg(test)]
mod tests {

    /// Each invoice status answers under the name it is stored under: a statement over the
    /// stored distribution records builds the field from the status column.
    #[test]
    fn an_invoice_status_answers_as_it_is_stored() {
        for status in InvoiceStatus::ALL {
            assert_eq!(
                invoice_status_field(*status).unwrap(),
                format!("\"invoiceStatus\":\"{status}\"")
            );
        }
    }
    use super::*;

    /// Each record enum's stored name is the wire name of the variant it maps to (true today;
    /// when the spec renames one, the stored name stays and this test says which).
    #[test]
    fn stored_names_are_the_wire_names_of_their_variants() {
        fn check<R, W>(all: &[R])
        where
            R: Copy + std::fmt::Display + Into<W>,
            W: std::fmt::Display,
        {
            for r in all {
                let wire: W = (*r).into();
                assert_eq!(r.to_string(), wire.to_string());
            }
        }
        check::<_, types::InvoiceStatus>(InvoiceStatus::ALL);
        check::<_, types::InvoiceType>(InvoiceType::ALL);
        check::<_, types::DistributionStatus>(DistributionStatus::ALL);
        check::<_, types::DistributionMethod>(DistributionMethod::ALL);
        check::<_, types::CaseStatus>(CaseStatus::ALL);
        check::<_, types::CaseStage>(CaseStage::ALL);
        check::<_, types::ActionCode>(ActionCode::ALL);
        check::<_, types::ServiceType>(ServiceType::ALL);
        check::<_, types::AccountingSystem>(AccountingSystem::ALL);
        check::<_, types::SettlementBreakdownType>(PartKind::ALL);
    }
}
