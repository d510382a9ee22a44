//! The new invoices and cases a group of creates holds back, so that the group writes them with
//! one multi-row statement per table when it ends (or before anything else of the group reads
//! them) instead of three statements per create.
//!
//! Only a change that says so ([`super::Change::defers_writes`]) holds its rows back, and only
//! rows it makes new: an invoice whose number and payment reference no stored invoice uses, and
//! its case. What the change reads must not be among them: a create that finds its number or
//! reference among the held invoices, or credits an invoice, first writes them
//! ([`super::World::write_pending`]).

use super::SpaceId;
use super::records::cases::CaseRecord;
use super::records::invoices::InvoiceRecord;
use super::refusal::Failure;
use super::tables::{self, Scoped};

/// New rows of one space not yet written, in the order they were made.
#[derive(Debug, Default)]
pub struct Pending {
    invoices: Vec<InvoiceRecord>,
    cases: Vec<CaseRecord>,
    /// How many of each the changes before the current one held: what a refusal of the current
    /// change leaves.
    mark: (usize, usize),
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.invoices.is_empty() && self.cases.is_empty()
    }

    /// A change begins: what it holds from now on is taken back by [`Pending::undo_change`].
    pub fn begin_change(&mut self) {
        self.mark = (self.invoices.len(), self.cases.len());
    }

    /// The change that began last was rolled back: the rows it held are forgotten.
    pub fn undo_change(&mut self) {
        self.invoices.truncate(self.mark.0);
        self.cases.truncate(self.mark.1);
    }

    /// Whether the change that began last holds rows of its own.
    pub(super) fn holds_own(&self) -> bool {
        (self.invoices.len(), self.cases.len()) != self.mark
    }

    pub(super) fn hold_invoice(&mut self, invoice: InvoiceRecord) {
        self.invoices.push(invoice);
    }

    pub(super) fn hold_case(&mut self, case: CaseRecord) {
        self.cases.push(case);
    }

    /// Whether a held invoice is the client's invoice `number` or uses `reference`. (A group
    /// holds at most a few hundred: a walk costs less than keeping an index.)
    pub(super) fn clashes(&self, client_id: i64, number: i64, reference: &str) -> bool {
        self.invoices.iter().any(|i| {
            (i.client_id == client_id && i.number == number) || i.payment_reference == reference
        })
    }

    /// Writes the held rows into `space` in the transaction `c` (invoices with their counts,
    /// then cases), and forgets them.
    pub async fn write(
        &mut self,
        c: &mut sqlx::AnyConnection,
        space: SpaceId,
    ) -> Result<(), Failure> {
        if self.is_empty() {
            return Ok(());
        }
        tables::insert_new_invoices(Scoped { c: &mut *c, space }, &self.invoices).await?;
        tables::insert_cases(Scoped { c, space }, &self.cases).await?;
        *self = Self::default();
        Ok(())
    }
}
