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

/// What a create of an invoice looks for before it decides ([`World::clashing`]), known before
/// it runs: the client's invoice of its number, and the invoice of its payment reference (the
/// given one, else the client's prefix and the number).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    pub client_id: i64,
    pub number: i64,
    pub given_reference: Option<String>,
}

impl Probe {
    /// What the create of `request` by the client `client_id` looks for.
    pub fn of(client_id: i64, request: &types::SalesInvoiceRequest) -> Self {
        Self {
            client_id,
            number: request.invoice.header.number,
            given_reference: rules::invoices::given_reference(request),
        }
    }
}

/// What the creates of a group found when they looked together: the invoices that hold any of
/// the numbers or references looked for. Answers only for what was looked for.
#[derive(Debug)]
pub struct FoundAhead {
    numbers: std::collections::HashSet<(i64, i64)>,
    references: std::collections::HashSet<String>,
    found: Vec<InvoiceRecord>,
}

impl FoundAhead {
    fn new(keys: Vec<(i64, i64, String)>, found: Vec<InvoiceRecord>) -> Self {
        let mut numbers = std::collections::HashSet::with_capacity(keys.len());
        let mut references = std::collections::HashSet::with_capacity(keys.len());
        for (client_id, number, reference) in keys {
            numbers.insert((client_id, number));
            references.insert(reference);
        }
        Self {
            numbers,
            references,
            found,
        }
    }

    /// The client's invoice `number` and the invoice of `reference`, as
    /// [`tables::invoices_clashing`] finds them, if both were looked for.
    fn clashing(
        &self,
        client_id: i64,
        number: i64,
        reference: &str,
    ) -> Option<(Option<InvoiceRecord>, Option<InvoiceRecord>)> {
        if !self.numbers.contains(&(client_id, number)) || !self.references.contains(reference) {
            return None;
        }
        let same_number = self
            .found
            .iter()
            .find(|i| i.client_id == client_id && i.number == number)
            .cloned();
        let same_reference = self
            .found
            .iter()
            .find(|i| i.payment_reference == reference)
            .cloned();
        Some((same_number, same_reference))
    }
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
        // A credit note writes the invoice it credits: what it would look for together with
        // the group's later creates would be forgotten at once.
        let (same_number, same_reference) = if checked.credits.is_some() {
            tables::invoices_clashing(self.db(), client_id, number, &checked.payment_reference)
                .await?
        } else {
            self.clashing(client_id, number, &checked.payment_reference)
                .await?
        };
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

    /// The client's invoice `number`, and the invoice with the payment `reference`: from what
    /// the group's creates looked up together ([`World::looking_ahead`]) when it holds both,
    /// else in a statement of their own. The first create of a group to look looks up its own
    /// and every later create's, in one statement; anything the group writes outdates that.
    async fn clashing(
        &mut self,
        client_id: i64,
        number: i64,
        reference: &str,
    ) -> Result<(Option<InvoiceRecord>, Option<InvoiceRecord>), Failure> {
        let (ahead, from) = (std::sync::Arc::clone(&self.ahead), self.ahead_from);
        if self.defers && self.remembered.found_ahead.is_none() && ahead.len() > from + 1 {
            let mut keys = Vec::with_capacity(ahead.len() - from);
            for probe in &ahead[from..] {
                // A create of a client that is not there is refused before it looks.
                let client = match self.client(probe.client_id).await {
                    Ok(client) => client,
                    Err(Failure::Refused(_)) => continue,
                    Err(e) => return Err(e),
                };
                let reference = rules::invoices::payment_reference(
                    probe.given_reference.as_deref(),
                    probe.number,
                    &client,
                );
                keys.push((probe.client_id, probe.number, reference));
            }
            let found = tables::invoices_clashing_many(self.db(), &keys).await?;
            self.remembered.found_ahead = Some(FoundAhead::new(keys, found));
        }
        if self.defers
            && let Some(found) = &self.remembered.found_ahead
            && let Some(clashing) = found.clashing(client_id, number, reference)
        {
            return Ok(clashing);
        }
        tables::invoices_clashing(self.db(), client_id, number, reference).await
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
        tables::put_changed_invoices(self.db(), &due).await?;
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
