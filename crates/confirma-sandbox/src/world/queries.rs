//! The read side: what each read operation selects, in the domain's terms. Every function here
//! is one query the API offers (by invoice number, by case, by date window with paging, by
//! accounting identifier), so this file is the list of what storage must serve by an index.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::AnyConnection;

pub use super::records::cases::CaseView;
pub use super::records::filters::{DateWindow, DistributionFilter};
use super::refusal::{Failure, Problem, Refusal};
use super::tables::{self, Scoped};
pub use super::tables::{Lookup, MAX_LOOKUPS, MAX_PAGES, PageAt};
use super::{AccountingItem, CaseRecord, InvoiceRecord, PaymentRecord, World};
use super::{AccountingKind, SettlementWindow, SpaceId};

/// One page of a longer list: the page's items (a list, or the page's records already
/// encoded), how many the page holds, and how many there are in all.
pub struct Page<T> {
    pub items: T,
    pub count: usize,
    pub total: usize,
}

/// [`World::stored_distribution_page`] outside any transaction, in one statement, for a caller
/// that knows the space's clock (`now`: its credential was checked at it) and made `filter`'s
/// window from it. The statement reads the clock too; `None` unless it was still `now` (or when
/// [`World::stored_distribution_page`] would say `None`): then a read transaction must answer.
pub async fn stored_distribution_page_at(
    db: &mut AnyConnection,
    space: SpaceId,
    now: DateTime<Utc>,
    client_id: i64,
    filter: DistributionFilter,
    (page, page_size): (usize, usize),
) -> Result<Option<Page<String>>, Failure> {
    let found = tables::stored_distributions(
        Scoped { c: db, space },
        client_id,
        &filter,
        rows_of_page(page, page_size),
        Some(now.timestamp_micros()),
    )
    .await?;
    Ok(found.map(stored_page))
}

/// The lookup that [`stored_lookups`] answers with others for [`stored_distribution_page_at`]
/// of the same arguments, if it is one: an invoice by number, with no status or method filter
/// (and a fetch type of all).
pub fn lookup(
    space: SpaceId,
    now: DateTime<Utc>,
    client_id: i64,
    filter: &DistributionFilter,
    (page, page_size): (usize, usize),
) -> Option<Lookup> {
    let number = filter.invoice_number?;
    if filter.statuses().is_some() || filter.method.is_some() {
        return None;
    }
    Some(Lookup {
        space,
        client_id,
        number,
        window: filter.window,
        past_first: rows_of_page(page, page_size).0 > 0,
        clock: now.timestamp_micros(),
    })
}

/// [`stored_distribution_page_at`] of each of `lookups` (at most [`MAX_LOOKUPS`]) in one
/// statement, each answer in its lookup's place.
pub async fn stored_lookups(
    db: &mut AnyConnection,
    lookups: &[Lookup],
) -> Result<Vec<Option<Page<String>>>, Failure> {
    Ok(tables::stored_lookups(db, lookups)
        .await?
        .into_iter()
        .map(|found| found.map(stored_page))
        .collect())
}

/// The page that [`stored_pages_postgres`] answers with others for
/// [`stored_distribution_page_at`] of the same arguments, if it is one: a page of a window, with
/// no status or method filter (and a fetch type of all), within its first
/// [`MAX_BATCHED_ROWS`] rows.
pub fn page_at(
    space: SpaceId,
    now: DateTime<Utc>,
    client_id: i64,
    filter: &DistributionFilter,
    (page, page_size): (usize, usize),
) -> Option<PageAt> {
    if filter.invoice_number.is_some() || filter.statuses().is_some() || filter.method.is_some() {
        return None;
    }
    let (offset, limit) = rows_of_page(page, page_size);
    // A page deep in a client's invoices walks them all up to it: alone, it keeps the others'
    // pages from waiting behind it (and from failing with it if it runs out of time).
    if offset.saturating_add(limit) > MAX_BATCHED_ROWS {
        return None;
    }
    Some(PageAt {
        space,
        client_id,
        window: filter.window,
        offset,
        limit,
        clock: now.timestamp_micros(),
    })
}

/// The most rows a page answered with others may walk (its offset and size).
pub const MAX_BATCHED_ROWS: i64 = 1_000;

/// [`stored_distribution_page_at`] of each of `pages` (at most [`MAX_PAGES`]) in one statement
/// on PostgreSQL, each answer in its page's place.
pub async fn stored_pages_postgres(
    db: &mut AnyConnection,
    pages: &[PageAt],
) -> Result<Vec<Option<Page<String>>>, Failure> {
    Ok(tables::stored_pages_postgres(db, pages)
        .await?
        .into_iter()
        .map(|found| found.map(stored_page))
        .collect())
}

/// The invoice-date window of the distribution operations on `today`: the default window,
/// except that a lookup by invoice number is not limited by date.
pub fn invoice_window(
    today: NaiveDate,
    invoice_number: Option<i64>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<DateWindow, Refusal> {
    Ok(
        DateWindow::new(from, to, ("fromInvDate", "toInvDate"), today)?
            .unless_named(invoice_number.is_some()),
    )
}

fn stored_page(stored: tables::StoredPage) -> Page<String> {
    Page {
        // Counts of rows are never negative.
        count: usize::try_from(stored.count).unwrap_or_default(),
        total: usize::try_from(stored.total).unwrap_or_default(),
        items: stored.records,
    }
}

/// The rows page `page` (from 1) of `page_size` skips and takes.
fn rows_of_page(page: usize, page_size: usize) -> (i64, i64) {
    let skip = page.saturating_sub(1).saturating_mul(page_size);
    (
        i64::try_from(skip).unwrap_or(i64::MAX),
        i64::try_from(page_size).unwrap_or(i64::MAX),
    )
}

impl World<'_> {
    /// The invoice-date window of the distribution operations: the default window, except that
    /// a lookup by invoice number is not limited by date.
    pub fn invoice_window(
        &self,
        invoice_number: Option<i64>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<DateWindow, Refusal> {
        invoice_window(self.today(), invoice_number, from, to)
    }

    /// The client's invoices that have a distribution matching `filter`, in invoice-number order.
    pub async fn distributions(
        &mut self,
        client_id: i64,
        filter: DistributionFilter,
    ) -> Result<Vec<InvoiceRecord>, Failure> {
        let (items, _) = tables::distributions(self.db(), client_id, &filter, 0, i64::MAX).await?;
        Ok(items)
    }

    /// Page `page` (from 1) of `page_size` of [`World::distributions`].
    pub async fn distribution_page(
        &mut self,
        client_id: i64,
        filter: DistributionFilter,
        page: usize,
        page_size: usize,
    ) -> Result<Page<Vec<InvoiceRecord>>, Failure> {
        let (offset, limit) = rows_of_page(page, page_size);
        let (items, total) =
            tables::distributions(self.db(), client_id, &filter, offset, limit).await?;
        Ok(Page {
            count: items.len(),
            items,
            // A count of rows is never negative.
            total: usize::try_from(total).unwrap_or_default(),
        })
    }

    /// [`World::distribution_page`] as storage keeps each record's answer: the page's records
    /// already encoded, joined by commas. `None` when an invoice of the page was stored before
    /// its answer was (then [`World::distribution_page`] decodes the invoices).
    pub async fn stored_distribution_page(
        &mut self,
        client_id: i64,
        filter: DistributionFilter,
        page: usize,
        page_size: usize,
    ) -> Result<Option<Page<String>>, Failure> {
        let found = tables::stored_distributions(
            self.db(),
            client_id,
            &filter,
            rows_of_page(page, page_size),
            None,
        )
        .await?;
        Ok(found.map(stored_page))
    }

    /// The client's payments dated within `window`, optionally of one invoice or case, in the
    /// order they were received.
    pub async fn payments_of(
        &mut self,
        client_id: i64,
        window: DateWindow,
        invoice_number: Option<&str>,
        case_id: Option<i64>,
    ) -> Result<Vec<PaymentRecord>, Failure> {
        // The query's invoice number is text: only its exact decimal form names an invoice.
        let number = match invoice_number {
            None => None,
            Some(text) => match text.parse::<i64>() {
                Ok(n) if n.to_string() == text => Some(n),
                _ => return Ok(Vec::new()),
            },
        };
        tables::payments(self.db(), client_id, window, number, case_id).await
    }

    /// The client's accounting submissions of one kind with a document date within `window`,
    /// optionally of one source identifier, in the order submitted.
    pub async fn accounting_items(
        &mut self,
        client_id: i64,
        kind: AccountingKind,
        window: DateWindow,
        source: Option<&str>,
    ) -> Result<Vec<AccountingItem>, Failure> {
        tables::accounting_items(self.db(), client_id, kind, window, source).await
    }

    /// The settlement window of a fetch: incremental sync (unfetched only, no dates) is not
    /// limited to the default window.
    pub fn settlement_window(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        unfetched_only: bool,
    ) -> Result<SettlementWindow, Refusal> {
        let window = DateWindow::new(from, to, ("fromDate", "toDate"), self.today())?
            .unless_named(unfetched_only);
        Ok(SettlementWindow {
            from: window.from,
            to: window.to,
            unfetched_only,
        })
    }

    /// The case behind `case_id` or `invoice_number`, for this client only.
    pub async fn find_case(
        &mut self,
        client_id: i64,
        case_id: Option<i64>,
        invoice_number: Option<i64>,
    ) -> Result<CaseRecord, Failure> {
        let by_invoice = match invoice_number {
            Some(n) => Some(
                tables::invoice(self.db(), client_id, n)
                    .await?
                    .and_then(|i| i.case_id),
            ),
            None => None,
        };
        let id = match (case_id, by_invoice) {
            (Some(c), Some(Some(i))) if c != i => None,
            (Some(c), _) => Some(c),
            (None, Some(i)) => i,
            (None, None) => {
                return Err(Refusal::invalid(
                    "Give caseId or invoiceNumber.",
                    vec![Problem::new(
                        "query.caseId",
                        "required",
                        "caseId or invoiceNumber is required",
                    )],
                )
                .into());
            }
        };
        let case = match id {
            Some(id) => self.case_now(id).await?,
            None => None,
        };
        case.filter(|c| c.client_id == client_id)
            .ok_or_else(|| Refusal::not_found("No such case for this client.").into())
    }

    /// A case with what its details show beside it: its invoice and its creditor.
    pub async fn case_view(&mut self, case: CaseRecord) -> Result<CaseView, Failure> {
        let invoice = tables::invoice(self.db(), case.client_id, case.invoice_number).await?;
        let creditor = tables::client(self.db(), case.client_id).await?;
        Ok(CaseView {
            case,
            invoice,
            creditor,
            today: self.today(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::records::filters::Fetch;
    use crate::world::records::invoices::DistributionMethod;

    /// Which reads are answered with others: a lookup with no status or method filter, a page
    /// of a window within its first rows; every other read has a statement of its own.
    #[test]
    fn only_plain_lookups_and_shallow_pages_are_answered_with_others() {
        let filter = |invoice_number, fetch, method| DistributionFilter {
            invoice_number,
            window: DateWindow::ALL,
            fetch,
            status: None,
            method,
        };
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let page_at = |f: &DistributionFilter, page| page_at(SpaceId(0), now, 7, f, (page, 100));
        let lookup = |f: &DistributionFilter, page| lookup(SpaceId(0), now, 7, f, (page, 100));
        let plain = filter(None, Fetch::All, None);
        assert!(page_at(&plain, 10).is_some(), "rows 900 to 1,000");
        assert!(page_at(&plain, 11).is_none(), "rows 1,000 to 1,100");
        assert!(page_at(&filter(None, Fetch::Failed, None), 1).is_none());
        assert!(
            page_at(
                &filter(None, Fetch::All, Some(DistributionMethod::Email)),
                1
            )
            .is_none()
        );
        assert!(page_at(&filter(Some(4), Fetch::All, None), 1).is_none());
        let number = filter(Some(4), Fetch::All, None);
        assert!(lookup(&number, 1).is_some_and(|l| !l.past_first));
        assert!(lookup(&number, 2).is_some_and(|l| l.past_first));
        assert!(lookup(&plain, 1).is_none());
        assert!(lookup(&filter(Some(4), Fetch::Successful, None), 1).is_none());
        assert!(
            lookup(
                &filter(Some(4), Fetch::All, Some(DistributionMethod::Letter)),
                1
            )
            .is_none()
        );
    }
}
