//! Fetching more than one answer's worth: long periods in the API's 30-day date windows, and
//! every page of the paginated distribution information.
//!
//! The default window: every list operation (distribution information, payments, settlements,
//! ledger and accounting-payment status) answers only the **last 30 days** when it is given no
//! dates, counted back from the service's today. A record dated outside that window (an invoice
//! dated by your calendar while a sandbox clock stands months earlier, say) is missing from such
//! an answer without any error. Two ways out: give dates (or use `send_in_windows` for a long
//! period), or name the record: a filter that names what it looks for (`invoiceNumber`,
//! `caseId`, `ledgerIdentifier`, `paymentIdentifier`, `unfetchedOnly`) is not narrowed by the
//! default window. `getDistributionInformation` says which applied in
//! `metaData.filtersApplied` (`defaultLast30Days`, with the window's dates).
#![warn(missing_docs)]

use chrono::{Days, NaiveDate};

use crate::{ApiError, builder, types};

/// Days per request of the date-filtered list operations. Without dates the service returns the
/// last 30 days, so a longer period is fetched as consecutive windows of this many days.
pub const WINDOW_DAYS: u64 = 30;

/// The period `from..=to` cut into consecutive, non-overlapping windows of at most
/// [`WINDOW_DAYS`] days, both ends inclusive (as the API's `fromDate`/`toDate` are). Empty when
/// `from` is after `to`.
///
/// ```
/// use chrono::NaiveDate;
/// use confirma_client::date_windows;
///
/// let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
/// let windows: Vec<_> = date_windows(day(1, 1), day(2, 15)).collect();
/// assert_eq!(windows, [(day(1, 1), day(1, 30)), (day(1, 31), day(2, 15))]);
/// ```
pub fn date_windows(
    from: NaiveDate,
    to: NaiveDate,
) -> impl Iterator<Item = (NaiveDate, NaiveDate)> {
    let mut next = (from <= to).then_some(from);
    std::iter::from_fn(move || {
        let start = next?;
        let end = start
            .checked_add_days(Days::new(WINDOW_DAYS - 1))
            .map_or(to, |end| end.min(to));
        next = end.succ_opt().filter(|day| *day <= to);
        Some((start, end))
    })
}

impl builder::GetPayments<'_> {
    /// All payments dated `from..=to`, fetched window by window (see [`date_windows`]) with
    /// this request's other filters, in the order the service returns them.
    ///
    /// ```no_run
    /// # async fn demo(client: &confirma_client::Client) -> Result<(), confirma_client::ApiError> {
    /// use chrono::NaiveDate;
    /// let year = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    /// let payments = client.get_payments().send_in_windows(year(1, 1), year(12, 31)).await?;
    /// println!("{} payments in 2026", payments.len());
    /// # Ok(()) }
    /// ```
    pub async fn send_in_windows(
        self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<types::Payment>, ApiError> {
        let mut all = Vec::new();
        for (start, end) in date_windows(from, to) {
            all.extend(
                crate::answer(self.clone().from_date(start).to_date(end).send())
                    .await?
                    .0,
            );
        }
        Ok(all)
    }
}

impl builder::GetSettlements<'_> {
    /// All settlements dated `from..=to`, fetched window by window (see [`date_windows`]).
    /// For "what is new since last time" use
    /// [`Client::sync_new_settlements`](crate::Client::sync_new_settlements) instead.
    ///
    /// ```no_run
    /// # async fn demo(client: &confirma_client::Client) -> Result<(), confirma_client::ApiError> {
    /// use chrono::NaiveDate;
    /// let year = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    /// let settlements = client.get_settlements().send_in_windows(year(1, 1), year(3, 31)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_in_windows(
        self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<types::Settlement>, ApiError> {
        let mut all = Vec::new();
        for (start, end) in date_windows(from, to) {
            let answer = crate::answer(self.clone().from_date(start).to_date(end).send()).await?;
            all.extend(answer.settlements);
        }
        Ok(all)
    }
}

impl builder::GetDistributionInformation<'_> {
    /// Distribution records of all invoices dated `from..=to` (`fromInvDate`/`toInvDate`),
    /// fetched window by window (see [`date_windows`]) with this request's other filters.
    ///
    /// ```no_run
    /// # async fn demo(client: &confirma_client::Client) -> Result<(), confirma_client::ApiError> {
    /// use chrono::NaiveDate;
    /// use confirma_client::types::FetchType;
    /// let year = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    /// let failed = client
    ///     .get_distribution_information()
    ///     .fetch_type(FetchType::Failed)
    ///     .send_in_windows(year(1, 1), year(6, 30))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_in_windows(
        self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<types::DistributionRecord>, ApiError> {
        let mut all = Vec::new();
        for (start, end) in date_windows(from, to) {
            let answer =
                crate::answer(self.clone().from_inv_date(start).to_inv_date(end).send()).await?;
            all.extend(answer.distributions);
        }
        Ok(all)
    }
}

/// The most pages a paging helper reads: 10,000 pages of up to 500 records, five million in
/// all. A server that claims more is answered with [`ApiError::Paging`] instead of a loop
/// without end.
pub const MAX_PAGES: u32 = 10_000;

impl builder::GetDistributionInformationV2<'_> {
    /// Every page of the paginated distribution information, with this request's filters and
    /// page size: from page 1 until `totalCount` records have arrived, the pages that
    /// `totalCount` allows have been read, or a page comes back empty.
    ///
    /// It trusts the server no further: a page that repeats the one before (a server that
    /// ignores `page`), or more than [`MAX_PAGES`] pages, is an [`ApiError::Paging`].
    ///
    /// ```no_run
    /// # async fn demo(client: &confirma_client::Client) -> Result<(), confirma_client::ApiError> {
    /// use confirma_client::types::DistributionStatus;
    /// let failed = client
    ///     .get_distribution_information_v2()
    ///     .status(DistributionStatus::Failed)
    ///     .page_size(500u32)
    ///     .send_all_pages()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_all_pages(self) -> Result<Vec<types::DistributionRecord>, ApiError> {
        let mut all = Vec::new();
        let mut previous: Option<Vec<types::DistributionRecord>> = None;
        for page in 1..=MAX_PAGES {
            let answer = self.clone().page(page).call().await?;
            let total = usize::try_from(answer.meta.total_count).unwrap_or(0);
            let size = usize::try_from(answer.meta.page_size.get()).unwrap_or(usize::MAX);
            let pages = total.div_ceil(size.max(1));
            if answer.data.is_empty() {
                return Ok(all);
            }
            if previous.as_ref() == Some(&answer.data) {
                return Err(ApiError::Paging(format!(
                    "page {page} repeats page {} (does the server ignore `page`?)",
                    page - 1
                )));
            }
            all.extend(answer.data.iter().cloned());
            if all.len() >= total || usize::try_from(page).unwrap_or(usize::MAX) >= pages {
                return Ok(all);
            }
            previous = Some(answer.data);
        }
        Err(ApiError::Paging(format!(
            "more than {MAX_PAGES} pages (totalCount says there are more records than a paging \
             helper reads)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    #[test]
    fn windows_cover_the_period_exactly_once() {
        let (from, to) = (day(1, 1), day(12, 31));
        let windows: Vec<_> = date_windows(from, to).collect();
        assert_eq!(windows.len(), 13); // 365 days = 12 * 30 + 5
        assert_eq!(windows[0], (day(1, 1), day(1, 30)));
        assert_eq!(windows[12], (day(12, 27), day(12, 31)));
        for pair in windows.windows(2) {
            assert_eq!(pair[0].1.succ_opt().unwrap(), pair[1].0, "gap or overlap");
        }
        for (start, end) in &windows {
            assert!((*end - *start).num_days() < WINDOW_DAYS as i64);
        }
    }

    #[test]
    fn short_and_empty_periods() {
        assert_eq!(
            date_windows(day(3, 5), day(3, 5)).collect::<Vec<_>>(),
            [(day(3, 5), day(3, 5))]
        );
        assert_eq!(
            date_windows(day(3, 1), day(3, 30)).collect::<Vec<_>>(),
            [(day(3, 1), day(3, 30))]
        );
        assert_eq!(date_windows(day(3, 6), day(3, 5)).count(), 0);
        assert_eq!(date_windows(NaiveDate::MAX, NaiveDate::MAX).count(), 1);
    }
}
