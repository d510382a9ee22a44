//! The filters of the read operations: date windows and distribution filters.

use crate::world::records::invoices::{DistributionMethod, DistributionStatus, InvoiceRecord};
use crate::world::refusal::{Problem, Refusal};
use chrono::{Duration, NaiveDate};

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

    /// The window of a query that names what it looks for (an invoice number, a case, a
    /// source identifier, only the unfetched): the default window does not narrow it, since
    /// what it names is found whatever its date; dates given still apply.
    pub fn unless_named(self, named: bool) -> Self {
        if named && self.defaulted {
            Self::ALL
        } else {
            self
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
    pub fetch: Fetch,
    pub status: Option<DistributionStatus>,
    pub method: Option<DistributionMethod>,
}

/// Which distributions by outcome: all, the successful (sent or delivered) or the failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fetch {
    All,
    Successful,
    Failed,
}

impl Fetch {
    /// Whether a distribution in `status` is one this fetch type asks for.
    pub fn admits(self, status: DistributionStatus) -> bool {
        match self {
            Self::All => true,
            Self::Successful => status.succeeded(),
            Self::Failed => status.failed(),
        }
    }
}

impl DistributionFilter {
    /// Whether the invoice has a distribution this filter asks for.
    pub fn matches(&self, invoice: &InvoiceRecord) -> bool {
        let Some(d) = &invoice.distribution else {
            return false;
        };
        self.invoice_number.is_none_or(|n| n == invoice.number)
            && self.window.contains(invoice.date)
            && self.admits_status(d.status)
            && self.method.is_none_or(|m| m == d.method)
    }

    fn admits_status(&self, status: DistributionStatus) -> bool {
        self.fetch.admits(status) && self.status.is_none_or(|s| s == status)
    }

    /// The distribution statuses the filter admits, for a query to look up: `None` when it
    /// admits every status, else those it does (perhaps none).
    pub fn statuses(&self) -> Option<Vec<DistributionStatus>> {
        (self.fetch != Fetch::All || self.status.is_some()).then(|| {
            DistributionStatus::ALL
                .iter()
                .copied()
                .filter(|s| self.admits_status(*s))
                .collect()
        })
    }
}

/// Which settlements a fetch asks for: a settlement-date window, and whether only those never
/// fetched before.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettlementWindow {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub unfetched_only: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_admits_the_statuses_its_fetch_type_and_status_both_admit() {
        use DistributionStatus::*;
        let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let filter = |fetch, status| DistributionFilter {
            invoice_number: None,
            window: DateWindow {
                from: day,
                to: day,
                defaulted: false,
            },
            fetch,
            status,
            method: None,
        };
        assert_eq!(filter(Fetch::All, None).statuses(), None);
        assert_eq!(
            filter(Fetch::Successful, None).statuses(),
            Some(vec![Sent, Delivered])
        );
        assert_eq!(filter(Fetch::Failed, None).statuses(), Some(vec![Failed]));
        assert_eq!(
            filter(Fetch::All, Some(Pending)).statuses(),
            Some(vec![Pending])
        );
        assert_eq!(
            filter(Fetch::Successful, Some(Sent)).statuses(),
            Some(vec![Sent])
        );
        assert_eq!(filter(Fetch::Failed, Some(Sent)).statuses(), Some(vec![]));
    }
}
