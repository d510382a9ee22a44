//! The records' vocabulary and the spec's wire types: the one mapping between them.
//!
//! Records are stored under their own names; the generated types are regenerated from the spec.
//! Each enum maps variant by variant in both directions, with exhaustive matches, so a variant
//! the spec adds or drops fails to compile here instead of silently changing what a stored
//! record means. A stored string that no longer fits a stricter wire type is a logged
//! [`Failure::Internal`], never a panic.

use confirma_server::types;

use super::cases::{ActionCode, CaseEvent, CasePayment, CaseStage, CaseStatus, TimelineEntry};
use super::clients::{AccountingSystem, ServiceType};
use super::filters::Fetch;
use super::invoices::{DistributionMethod, DistributionStatus, InvoiceStatus, InvoiceType};
use super::settlements::{PartKind, Settlement};
use crate::world::refusal::Failure;
use crate::world::stored::fit;

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

#[cfg(test)]
mod tests {
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
