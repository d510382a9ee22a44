//! The read side: what each read operation selects, in the domain's terms. Every function here
//! is one query the API offers (by invoice number, by case, by date window with paging, by
//! accounting identifier), so this file is the list of what storage must serve by an index.

use chrono::{Duration, NaiveDate};
use confirma_server::types;

use super::refusal::{Problem, Refusal};
use super::{AccountingItem, CaseRecord, ClientRecord, InvoiceRecord, PaymentRecord, World};
use super::{AccountingKind, SettlementWindow};

/// The window of the list operations when none is given: the last 30 days.
pub const DEFAULT_WINDOW_DAYS: i64 = 30;

/// A date window of a list operation, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateWindow {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Neither end was given, so the default window (the last 30 days) applies.
    pub defaulted: bool,
}

impl DateWindow {
    /// Every date.
    pub const ALL: Self = Self {
        from: NaiveDate::MIN,
        to: NaiveDate::MAX,
        defaulted: false,
    };

    /// The window `from..=to` as given (an open end is unbounded), or the last 30 days up to
    /// `today` when neither end is given. `names` are the parameters' names, for the refusal of
    /// a window whose start is after its end.
    pub fn new(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        names: (&str, &str),
        today: NaiveDate,
    ) -> Result<Self, Refusal> {
        match (from, to) {
            (Some(f), Some(t)) if f > t => Err(Refusal::invalid(
                "The date window is empty.",
                vec![Problem::business(
                    format!("query.{}", names.0),
                    format!("is after {}", names.1),
                )],
            )),
            (None, None) => Ok(Self {
                from: today - Duration::days(DEFAULT_WINDOW_DAYS),
                to: today,
                defaulted: true,
            }),
            (from, to) => Ok(Self {
                from: from.unwrap_or(NaiveDate::MIN),
                to: to.unwrap_or(NaiveDate::MAX),
                defaulted: false,
            }),
        }
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }
}

/// Which distributions a distribution operation asks for.
#[derive(Clone, Copy, Debug)]
pub struct DistributionFilter {
    pub invoice_number: Option<i64>,
    /// The invoice-date window (see [`World::invoice_window`]).
    pub window: DateWindow,
    pub fetch: types::FetchType,
    pub status: Option<types::DistributionStatus>,
    pub method: Option<types::DistributionMethod>,
}

/// One page of a longer list: the page's items and how many there are in all.
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: usize,
}

impl World {
    /// The invoice-date window of the distribution operations: the default window, except that
    /// a lookup by invoice number is not limited by date.
    pub fn invoice_window(
        &self,
        invoice_number: Option<i64>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<DateWindow, Refusal> {
        let window = DateWindow::new(from, to, ("fromInvDate", "toInvDate"), self.today())?;
        Ok(match window {
            DateWindow {
                defaulted: true, ..
            } if invoice_number.is_some() => DateWindow::ALL,
            window => window,
        })
    }

    /// The client's invoices that have a distribution matching `filter`, in invoice-number order.
    pub fn distributions(
        &self,
        client_id: i64,
        filter: DistributionFilter,
    ) -> impl Iterator<Item = &InvoiceRecord> {
        self.invoices
            .range((client_id, i64::MIN)..=(client_id, i64::MAX))
            .map(|(_, invoice)| invoice)
            .filter(move |i| filter.invoice_number.is_none_or(|n| n == i.number))
            .filter(move |i| filter.window.contains(i.date))
            .filter(move |i| {
                let Some(d) = &i.distribution else {
                    return false;
                };
                let fetched = match filter.fetch {
                    types::FetchType::All => true,
                    types::FetchType::Successful => d.succeeded(),
                    types::FetchType::Failed => d.failed(),
                };
                fetched
                    && filter.status.is_none_or(|s| s == d.status)
                    && filter.method.is_none_or(|m| m == d.method)
            })
    }

    /// Page `page` (from 1) of `page_size` of [`World::distributions`].
    pub fn distribution_page(
        &self,
        client_id: i64,
        filter: DistributionFilter,
        page: usize,
        page_size: usize,
    ) -> Page<&InvoiceRecord> {
        let mut total = 0;
        let skip = page.saturating_sub(1).saturating_mul(page_size);
        let mut items = Vec::new();
        for invoice in self.distributions(client_id, filter) {
            if total >= skip && items.len() < page_size {
                items.push(invoice);
            }
            total += 1;
        }
        Page { items, total }
    }

    /// The client's payments dated within `window`, optionally of one invoice or case, in the
    /// order they were received.
    pub fn payments_of<'a>(
        &'a self,
        client_id: i64,
        window: DateWindow,
        invoice_number: Option<&'a str>,
        case_id: Option<i64>,
    ) -> impl Iterator<Item = &'a PaymentRecord> + 'a {
        self.payments
            .iter()
            .filter(move |p| p.client_id == client_id && window.contains(p.date))
            .filter(move |p| invoice_number.is_none_or(|n| n == p.invoice_number.to_string()))
            .filter(move |p| case_id.is_none_or(|c| c == p.case_id))
    }

    /// The client's accounting submissions of one kind with a document date within `window`,
    /// optionally of one source identifier, in the order submitted.
    pub fn accounting_items<'a>(
        &'a self,
        client_id: i64,
        kind: AccountingKind,
        window: DateWindow,
        source: Option<&'a str>,
    ) -> impl Iterator<Item = &'a AccountingItem> + 'a {
        self.accounting
            .iter()
            .filter(move |a| a.client_id == client_id && a.kind == kind)
            .filter(move |a| window.contains(a.document_date))
            .filter(move |a| source.is_none_or(|s| s == a.source_identifier))
    }

    /// The settlement window of a fetch: incremental sync (unfetched only, no dates) is not
    /// limited to the default window.
    pub fn settlement_window(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        unfetched_only: bool,
    ) -> Result<SettlementWindow, Refusal> {
        let window = DateWindow::new(from, to, ("fromDate", "toDate"), self.today())?;
        let window = if unfetched_only && window.defaulted {
            DateWindow::ALL
        } else {
            window
        };
        Ok(SettlementWindow {
            from: window.from,
            to: window.to,
            unfetched_only,
        })
    }

    /// The case behind `case_id` or `invoice_number`, for this client only.
    pub fn find_case(
        &self,
        client_id: i64,
        case_id: Option<i64>,
        invoice_number: Option<i64>,
    ) -> Result<&CaseRecord, Refusal> {
        let by_invoice =
            invoice_number.map(|n| self.invoices.get(&(client_id, n)).and_then(|i| i.case_id));
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
                ));
            }
        };
        id.and_then(|id| self.cases.get(&id))
            .filter(|c| c.client_id == client_id)
            .ok_or_else(|| Refusal::not_found("No such case for this client."))
    }

    /// A case with what its details show beside it: its invoice and its creditor.
    pub fn case_view<'a>(&'a self, case: &'a CaseRecord) -> CaseView<'a> {
        CaseView {
            case,
            invoice: self.invoices.get(&(case.client_id, case.invoice_number)),
            creditor: self.clients.get(&case.client_id),
            today: self.today(),
        }
    }
}

/// What the case-details operation shows of one case.
pub struct CaseView<'a> {
    pub case: &'a CaseRecord,
    pub invoice: Option<&'a InvoiceRecord>,
    pub creditor: Option<&'a ClientRecord>,
    pub today: NaiveDate,
}
