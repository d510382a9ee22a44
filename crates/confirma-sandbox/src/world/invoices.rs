//! Invoices: creation with the data validation and business rules, payment references,
//! statuses, and distribution as sandbox time passes.

use chrono::{DateTime, NaiveDate, Utc};
use confirma_server::types;
use sha2::Digest;

use super::clock::Happened;
pub use super::records::invoices::InvoiceRecord;
use super::records::invoices::{RequestDigest, request_sha256};
use super::refusal::Failure;
use super::{World, rules, tables};

/// The digest of the request as received ([`request_sha256`]) when there was one; else, as the
/// seed makes invoices, of the typed request.
fn canonical_digest(
    request: &types::SalesInvoiceRequest,
    received: Option<String>,
) -> Result<String, Failure> {
    match received {
        Some(digest) => Ok(digest),
        None => Ok(request_sha256(
            &serde_json::to_value(request).map_err(unserializable)?,
        )),
    }
}

/// The hash invoices stored before the canonical digest recognise their request by: of the
/// typed request as serialized.
fn legacy_digest(request: &types::SalesInvoiceRequest) -> Result<[u8; 32], Failure> {
    let typed = serde_json::to_vec(request).map_err(unserializable)?;
    Ok(sha2::Sha256::digest(typed).into())
}

fn unserializable(e: serde_json::Error) -> Failure {
    tracing::error!(error = %e, "an invoice request does not serialize");
    Failure::Internal
}

impl World<'_> {
    /// Checks and records an invoice (its case, if it gets one, is opened by the caller:
    /// [`World::submit_invoice`]): loads what [`rules::invoices::decide`] looks at and writes
    /// what it decides. A re-submission of the same invoice is answered as DUPLICATE and changes
    /// nothing.
    pub(super) async fn create_invoice(
        &mut self,
        client_id: i64,
        request: &types::SalesInvoiceRequest,
        received: Option<String>,
    ) -> Result<(types::CreateInvoiceResponse, Option<InvoiceRecord>), Failure> {
        let client = self.client(client_id).await?;
        let checked = rules::invoices::check(request, &client)?;
        let canonical = canonical_digest(request, received)?;
        let number = request.invoice.header.number;
        // What the group holds back is written before a read that may be looking for it.
        if checked.credits.is_some()
            || self
                .pending
                .clashes(client_id, number, &checked.payment_reference)
        {
            self.write_pending().await?;
        }
        let (same_number, same_reference) =
            tables::invoices_clashing(self.db(), client_id, number, &checked.payment_reference)
                .await?;
        let legacy = match &same_number {
            Some(stored) if stored.needs_legacy_digest() => Some(legacy_digest(request)?),
            _ => None,
        };
        let digest = RequestDigest { canonical, legacy };
        let credited = match checked.credits {
            Some(n) if same_number.is_none() => tables::invoice(self.db(), client_id, n).await?,
            _ => None,
        };
        let held = rules::invoices::Held {
            fails_next: self.fails_next(client_id, number).await?,
            same_number,
            same_reference,
            credited,
        };
        let now = self.now;
        let decision =
            rules::invoices::decide(request, checked, &client, held, digest, now, || {
                481_000 + self.next() as i64
            })?;
        let new = match decision {
            rules::invoices::Decision::Duplicate(answer) => return Ok((answer, None)),
            rules::invoices::Decision::New(new) => *new,
        };
        if new.takes_failing {
            tables::take_failing_distribution(self.writing().await?, client_id, number).await?;
        }
        if let Some(original) = &new.credited {
            // The credited invoice's case keeps what it accrued, and accrues no more.
            if let Some(case_id) = original.case_id
                && let Some(mut case) = self.case_now(case_id).await?
            {
                rules::cases::credit(&mut case);
                tables::update_case(self.writing().await?, &case).await?;
            }
            tables::put_invoice(self.writing().await?, original).await?;
        }
        // Neither its number nor its reference is used (else the decision was another).
        self.insert_invoice(new.record.clone()).await?;
        Ok((new.answer, Some(new.record)))
    }

    /// Delivers (or fails) the distributions of up to `limit` of the rows due by `to`
    /// ([`InvoiceRecord::complete_distribution`]); returns how many rows it took (an invoice
    /// whose time changed since its row was added is passed over).
    pub(super) async fn complete_distributions(
        &mut self,
        to: DateTime<Utc>,
        limit: i64,
        happened: &mut Happened,
    ) -> Result<usize, Failure> {
        let (mut due, taken) = tables::invoices_to_distribute(self.db(), to, limit).await?;
        for invoice in &mut due {
            match invoice.complete_distribution() {
                Some(true) => happened.distributed += 1,
                Some(false) => happened.distribution_failed += 1,
                None => {}
            }
        }
        // Their cases knew the day from the start (`CaseRecord::delivered_on`).
        tables::put_invoices(self.db(), &due).await?;
        Ok(taken as usize)
    }

    /// The payment-controlled invoices of up to `limit` rows due by `day`, still unpaid the day
    /// after their due date, become overdue; returns how many rows it took. Their documents
    /// stay as they are ([`tables::mark_overdue`]).
    pub(super) async fn mark_overdue(
        &mut self,
        day: NaiveDate,
        limit: i64,
        happened: &mut Happened,
    ) -> Result<usize, Failure> {
        let (taken, marked) = tables::mark_overdue(self.db(), day, limit).await?;
        happened.overdue += marked;
        Ok(taken as usize)
    }
}
