//! The read operations: the caller, its query as a domain filter, the domain's answer on the
//! wire, all in one read transaction. (Fetching unfetched settlements also records the fetch, so
//! it is a change.)

use axum::body::Bytes;
use confirma_server::{self as server, ApiError, Encoded, types};

use super::SandboxApi;
use super::auth::Who;
use crate::world::queries::{self, DateWindow, DistributionFilter, Page};
use crate::world::records::filters::Fetch;
use crate::world::records::invoices::DistributionRecord;
use crate::world::stored::int32;
use crate::world::wire;
use crate::world::{AccountingItem, AccountingKind, commands};

impl SandboxApi {
    pub(super) async fn distribution(
        &self,
        who: &Who,
        q: server::GetDistributionInformationQuery,
    ) -> Result<types::DistributionInformationResponse, ApiError> {
        let caller = who.client()?;
        let mut conn = self.0.connection().await?;
        let mut reader = self.0.read(&mut conn, caller.space).await?;
        let mut world = reader.world();
        let window = world.invoice_window(q.invoice_number, q.from_inv_date, q.to_inv_date)?;
        let filter = DistributionFilter {
            invoice_number: q.invoice_number,
            window,
            fetch: q.fetch_type.unwrap_or(types::FetchType::All).into(),
            status: None,
            method: None,
        };
        let found = world.distributions(caller.client_id, filter).await?;
        let count = |admits: fn(&DistributionRecord) -> bool| {
            let n = found
                .iter()
                .filter(|i| i.distribution.as_ref().is_some_and(admits))
                .count();
            int32("a count of distributions", n)
        };
        let (successful, failed) = (count(|d| d.succeeded())?, count(|d| d.failed())?);
        let records: Vec<types::DistributionRecord> =
            found.iter().filter_map(wire::distribution_record).collect();
        let defaulted = window.defaulted;
        Ok(types::DistributionInformationResponse {
            meta_data: types::DistributionMetaData {
                total_count: int32("a count of distributions", records.len())?,
                successful_count: successful,
                failed_count: failed,
                filters_applied: types::DistributionFiltersApplied {
                    default_last30_days: Some(defaulted),
                    fetch_type: q.fetch_type.map(|f| Fetch::from(f).into()),
                    from_inv_date: defaulted.then_some(window.from).or(q.from_inv_date),
                    invoice_number: q.invoice_number,
                    to_inv_date: defaulted.then_some(window.to).or(q.to_inv_date),
                },
            },
            distributions: records,
        })
    }

    /// A page of distributions, from the answers storage keeps of each record: the page's
    /// records are joined by the database and copied into the body as they are.
    pub(super) async fn distribution_page(
        &self,
        who: &Who,
        q: server::GetDistributionInformationV2Query,
    ) -> Result<Encoded<types::DistributionInformationPage>, ApiError> {
        let caller = who.client()?;
        let filter = |window| DistributionFilter {
            invoice_number: q.invoice_number,
            window,
            fetch: q.fetch_type.unwrap_or(types::FetchType::All).into(),
            status: q.status.map(Into::into),
            method: q.method.map(Into::into),
        };
        // The spec bounds both (page >= 1, 1 <= pageSize <= 500); validation ran before.
        let page = q.page.unwrap_or(std::num::NonZeroU32::MIN);
        let page_size = q
            .page_size
            .unwrap_or(const { std::num::NonZeroU32::new(100).unwrap() });
        // A u32 always fits a usize where the sandbox runs (32 or 64 bits).
        let wide = |n: std::num::NonZeroU32| usize::try_from(n.get()).unwrap_or(usize::MAX);
        let meta = |count, total| -> Result<types::PageMeta, ApiError> {
            Ok(types::PageMeta {
                count: int32("a page's count", count)?,
                page,
                page_size,
                total_count: int32("a count of distributions", total)?,
            })
        };
        let (page_n, size_n) = (wide(page), wide(page_size));
        let encoded = |stored: Page<String>| -> Result<_, ApiError> {
            let meta = serde_json::to_string(&meta(stored.count, stored.total)?)
                .map_err(|_| ApiError::internal())?;
            // The fields in the order the generated type encodes them (debug builds check),
            // the records sent as the database joined them, between the parts before and after
            // (one vectored write): copying a page's 25 kB into a body, and that body into the
            // connection's buffer, took 9% of the sandbox's CPU under pages on SQLite (`perf`).
            Ok(Encoded::stored_parts(vec![
                Bytes::from_static(b"{\"data\":["),
                Bytes::from(stored.items),
                Bytes::from(format!("],\"meta\":{meta}}}")),
            ]))
        };
        // One statement, on the day the caller's token was checked at, while the clock is
        // still there; else a read transaction on the clock it finds.
        let window = |today| {
            queries::invoice_window(today, q.invoice_number, q.from_inv_date, q.to_inv_date)
        };
        if let Ok(window) = window(caller.checked_at.date_naive()) {
            let at = self
                .0
                .stored_distribution_page_at(caller, filter(window), (page_n, size_n))
                .await?;
            if let Some(stored) = at {
                return encoded(stored);
            }
        }
        let mut conn = self.0.connection().await?;
        let mut reader = self.0.read(&mut conn, caller.space).await?;
        let mut world = reader.world();
        let filter = filter(window(world.today())?);
        if let Some(stored) = world
            .stored_distribution_page(caller.client_id, filter, page_n, size_n)
            .await?
        {
            return encoded(stored);
        }
        let found = world
            .distribution_page(caller.client_id, filter, page_n, size_n)
            .await?;
        let data: Vec<types::DistributionRecord> = found
            .items
            .iter()
            .filter_map(wire::distribution_record)
            .collect();
        Encoded::of(&types::DistributionInformationPage {
            meta: meta(data.len(), found.total)?,
            data,
        })
        .map_err(|_| ApiError::internal())
    }

    pub(super) async fn case_details(
        &self,
        who: &Who,
        q: server::GetCaseDetailsQuery,
    ) -> Result<types::CaseDetailsResponse, ApiError> {
        let caller = who.client()?;
        let mut conn = self.0.connection().await?;
        let mut reader = self.0.read(&mut conn, caller.space).await?;
        let mut world = reader.world();
        let case = world
            .find_case(caller.client_id, q.case_id, q.invoice_number)
            .await?;
        Ok(types::CaseDetailsResponse {
            case: wire::case_details(world.case_view(case).await?)?,
        })
    }

    pub(super) async fn payments(
        &self,
        who: &Who,
        q: server::GetPaymentsQuery,
    ) -> Result<types::PaymentList, ApiError> {
        let caller = who.client()?;
        let mut conn = self.0.connection().await?;
        let mut reader = self.0.read(&mut conn, caller.space).await?;
        let mut world = reader.world();
        let window = DateWindow::new(
            q.from_date,
            q.to_date,
            ("fromDate", "toDate"),
            world.today(),
        )?
        .unless_named(q.invoice_number.is_some() || q.case_id.is_some());
        let payments = world
            .payments_of(
                caller.client_id,
                window,
                q.invoice_number.as_deref().map(String::as_str),
                q.case_id,
            )
            .await?;
        Ok(types::PaymentList(
            payments
                .iter()
                .map(wire::payment)
                .collect::<Result<_, _>>()?,
        ))
    }

    pub(super) async fn settlements(
        &self,
        who: &Who,
        q: server::GetSettlementsQuery,
    ) -> Result<types::SettlementsResponse, ApiError> {
        let unfetched_only = q.unfetched_only.unwrap_or(false);
        let (caller, window, settlements, now) = {
            let caller = who.client()?;
            let mut conn = self.0.connection().await?;
            let mut reader = self.0.read(&mut conn, caller.space).await?;
            let mut world = reader.world();
            let window = world.settlement_window(q.from_date, q.to_date, unfetched_only)?;
            let settlements = world.settlements(caller.client_id, &window).await?;
            (caller, window, settlements, world.now)
        };
        // A first fetch is recorded (it sets apiFetchDate): then the settlements are selected
        // and marked again in one change, so that concurrent fetches never both get one.
        if settlements.iter().all(|s| s.api_fetch_date.is_some()) {
            return Ok(types::SettlementsResponse {
                created_at: now,
                settlements,
            });
        }
        let settlements = self
            .0
            .execute(
                caller.space,
                commands::FetchSettlements {
                    client_id: caller.client_id,
                    window,
                },
            )
            .await?;
        Ok(types::SettlementsResponse {
            created_at: self.0.now_in(caller.space).await?,
            settlements,
        })
    }

    /// The accounting submissions of one kind, in a document-date window, as status rows.
    pub(super) async fn accounting<T>(
        &self,
        who: &Who,
        kind: AccountingKind,
        window: (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>),
        source: Option<&str>,
        row: impl Fn(&AccountingItem) -> Option<T>,
    ) -> Result<Vec<T>, ApiError> {
        let caller = who.client()?;
        let mut conn = self.0.connection().await?;
        let mut reader = self.0.read(&mut conn, caller.space).await?;
        let mut world = reader.world();
        let window = DateWindow::new(window.0, window.1, ("fromDate", "toDate"), world.today())?
            .unless_named(source.is_some());
        let items = world
            .accounting_items(caller.client_id, kind, window, source)
            .await?;
        Ok(items.iter().filter_map(row).collect())
    }

    pub(super) async fn finvoice(
        &self,
        who: &Who,
        business_id: &str,
    ) -> Result<types::FinvoiceCredentialsResponse, ApiError> {
        who.client()?;
        if !crate::world::checks::business_id_valid(business_id) {
            return Err(ApiError::validation(
                "The business ID is invalid.",
                vec![server::field_problem(
                    "query.businessId",
                    "business",
                    "is not a valid Finnish business ID",
                )],
            ));
        }
        Ok(crate::registry::finvoice_credentials(business_id))
    }
}
