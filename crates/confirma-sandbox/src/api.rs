//! The Partner API operations, implemented on the sandbox's world.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use confirma_server::{self as server, ApiError, ApiKey, PartnerApi, types};

use crate::app::Sandbox;
use crate::world::{
    AccountingItem, AccountingKind, Caller, CaseRecord, Command, Effect, InvoiceRecord,
    PaymentRecord, SettlementWindow, World,
};

/// The sandbox as a [`PartnerApi`].
#[derive(Clone)]
pub struct SandboxApi(pub Arc<Sandbox>);

/// The default window of the list operations: the last 30 days.
const DEFAULT_WINDOW_DAYS: i64 = 30;

impl SandboxApi {
    fn is_provisioning_token(&self, key: Option<&ApiKey>) -> bool {
        key.is_some_and(|k| self.0.is_provisioning_token(k))
    }

    /// The calling client, for every operation but onboarding, renew and validate.
    fn client(&self, key: Option<&ApiKey>) -> Result<Caller, ApiError> {
        self.0.check_healthy()?;
        if self.is_provisioning_token(key) {
            return Err(ApiError::forbidden(
                "The partner provisioning token works only for onboarding (POST /api/v1/partner/client).",
            ));
        }
        let caller = self.0.read().authenticate(key)?;
        if caller.expired {
            return Err(ApiError::token_expired());
        }
        Ok(caller)
    }
}

fn date_window(
    world: &World,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> (NaiveDate, NaiveDate, bool) {
    let today = world.today();
    match (from, to) {
        (None, None) => (today - Duration::days(DEFAULT_WINDOW_DAYS), today, true),
        (from, to) => (
            from.unwrap_or(NaiveDate::MIN),
            to.unwrap_or(NaiveDate::MAX),
            false,
        ),
    }
}

fn distribution_record(invoice: &InvoiceRecord) -> Option<types::DistributionRecord> {
    let d = invoice.distribution.as_ref()?;
    Some(types::DistributionRecord {
        case_id: invoice.case_id,
        created_at: d.created_at,
        distributed_at: d.distributed_at,
        error_message: d.error_message.clone(),
        invoice_number: invoice.number,
        invoice_status: invoice.status,
        method: d.method,
        payment_control_enabled: invoice.payment_control,
        payment_reference: invoice.payment_reference.parse().ok(),
        recipient: d.recipient.as_ref().and_then(|r| r.parse().ok()),
        status: d.status,
    })
}

fn payment(p: &PaymentRecord) -> types::Payment {
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    types::Payment {
        account_name: p.account_name.as_deref().and_then(|n| n.parse().ok()),
        agency: Some(crate::world::cases::AGENCY.parse().expect("agency")),
        allocation_id: Some(p.allocation_id),
        booking_date: Some(midnight(p.date)),
        capital_amount: Some(p.capital),
        case_id: p.case_id,
        costs_amount: Some(p.costs),
        currency: p.currency.parse().expect("ISO code"),
        interest_amount: Some(p.interest),
        invoice_number: p.invoice_number.to_string().parse().expect("digits"),
        invoice_payment_reference: p.invoice_reference.parse().ok(),
        original_payment_reference: p.original_reference.as_deref().and_then(|r| r.parse().ok()),
        payment_amount: p.amount,
        payment_date: midnight(p.date),
        payment_type: None,
    }
}

fn case_details(world: &World, case: &CaseRecord) -> types::CaseDetails {
    let (capital, interest, costs) = case.outstanding();
    let invoice = world.invoices.get(&(case.client_id, case.invoice_number));
    let end = case.closed_at.unwrap_or_else(|| world.today());
    types::CaseDetails {
        balance: types::CaseBalance {
            capital_amount: capital,
            costs_amount: costs,
            currency: case.currency.parse().ok(),
            interest_amount: interest,
            paid_amount: Some(crate::world::cents(case.paid)),
            total_amount: capital + interest + costs,
        },
        events: case.events.clone(),
        invoice: invoice.map(|i| types::CaseInvoice {
            buyer_name: Some(i.buyer_name.clone()),
            case_due_date: Some(case.due_date),
            currency: i.currency.parse().expect("ISO code"),
            due_date: i.due_date,
            invoice_date: i.date,
            invoice_number: i.number,
            payment_reference: i.payment_reference.parse().ok(),
            status: i.status,
            total_gross_amount: i.total,
        }),
        payments: case.payments.clone(),
        summary: types::CaseSummary {
            active_days: (end - case.created_at.date_naive()).num_days().max(0) as i32,
            agency: crate::world::cases::AGENCY.into(),
            case_id: case.id,
            closed_at: case.closed_at,
            created_at: case.created_at,
            creditor: world
                .clients
                .get(&case.client_id)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            currency: case.currency.parse().expect("ISO code"),
            stage: case.stage,
            status: case.status,
        },
        timeline: case.timeline.clone(),
    }
}

fn check_window(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    from_name: &str,
    to_name: &str,
) -> Result<(), ApiError> {
    match (from, to) {
        (Some(f), Some(t)) if f > t => Err(ApiError::validation(
            "The date window is empty.",
            vec![server::FieldProblem::new(
                format!("query.{from_name}"),
                "business",
                format!("is after {to_name}"),
            )],
        )),
        _ => Ok(()),
    }
}

/// A refusal becomes the operation's error answer (each response enum converts from `ApiError`).
fn answer<T, R: From<ApiError>>(result: Result<T, ApiError>, ok: impl FnOnce(T) -> R) -> R {
    result.map_or_else(R::from, ok)
}

/// The part of an [`Effect`] an operation expects; anything else is a bug, answered with 500.
macro_rules! effect {
    ($effect:expr, $variant:ident) => {
        match $effect {
            Effect::$variant(value) => Ok(value),
            _ => Err(ApiError::internal()),
        }
    };
}

impl SandboxApi {
    fn onboard_caller(&self, key: Option<&ApiKey>) -> Result<(), ApiError> {
        self.0.check_healthy()?;
        if self.is_provisioning_token(key) {
            return Ok(());
        }
        match key {
            Some(key) if self.0.read().authenticate(Some(key)).is_ok() => Err(ApiError::forbidden(
                "Onboarding needs the partner provisioning token, not a client token.",
            )),
            _ => Err(ApiError::unauthorized(
                "Send the partner provisioning token in the X-Api-Key header.",
            )),
        }
    }

    fn validate(&self, key: Option<&ApiKey>) -> Result<types::ValidateTokenResponse, ApiError> {
        self.0.check_healthy()?;
        if self.is_provisioning_token(key) {
            return Ok(types::ValidateTokenResponse {
                expires_at: None,
                is_valid: true,
                message: "Partner provisioning token is valid".into(),
            });
        }
        // An expired token is refused like everywhere else; only renew accepts it.
        let caller = self.client(key)?;
        Ok(types::ValidateTokenResponse {
            expires_at: caller.expires_at,
            is_valid: true,
            message: "Token is valid".into(),
        })
    }

    /// The caller of renew: any client token, expired or not (renewal is the one thing an
    /// expired token may still do).
    fn renew_caller(&self, key: Option<&ApiKey>) -> Result<Caller, ApiError> {
        self.0.check_healthy()?;
        if self.is_provisioning_token(key) {
            return Err(ApiError::forbidden(
                "The partner provisioning token is not renewed through the API.",
            ));
        }
        self.0.read().authenticate(key)
    }

    async fn renew(&self, key: Option<&ApiKey>) -> Result<types::RenewTokenResponse, ApiError> {
        let caller = self.renew_caller(key)?;
        effect!(
            self.0
                .execute(Command::RenewToken {
                    client_id: caller.client_id
                })
                .await?,
            TokenRenewed
        )
    }

    fn distribution(
        &self,
        key: Option<&ApiKey>,
        q: server::GetDistributionInformationQuery,
    ) -> Result<types::DistributionInformationResponse, ApiError> {
        let caller = self.client(key)?;
        check_window(q.from_inv_date, q.to_inv_date, "fromInvDate", "toInvDate")?;
        let world = self.0.read();
        let (from, to, defaulted) =
            invoice_window(&world, q.invoice_number, q.from_inv_date, q.to_inv_date);
        let fetch = q.fetch_type.unwrap_or(types::FetchType::All);
        let records: Vec<types::DistributionRecord> = world
            .distributions(caller.client_id, q.invoice_number, from, to, fetch)
            .filter_map(distribution_record)
            .collect();
        let successful = records
            .iter()
            .filter(|r| {
                matches!(
                    r.status,
                    types::DistributionStatus::Sent | types::DistributionStatus::Delivered
                )
            })
            .count();
        let failed = records
            .iter()
            .filter(|r| r.status == types::DistributionStatus::Failed)
            .count();
        Ok(types::DistributionInformationResponse {
            meta_data: types::DistributionMetaData {
                total_count: records.len() as i32,
                successful_count: successful as i32,
                failed_count: failed as i32,
                filters_applied: types::DistributionFiltersApplied {
                    default_last30_days: Some(defaulted),
                    fetch_type: q
                        .fetch_type
                        .map(|f| f.to_string().parse().expect("same values")),
                    from_inv_date: defaulted.then_some(from).or(q.from_inv_date),
                    invoice_number: q.invoice_number,
                    to_inv_date: defaulted.then_some(to).or(q.to_inv_date),
                },
            },
            distributions: records,
        })
    }

    fn distribution_page(
        &self,
        key: Option<&ApiKey>,
        q: server::GetDistributionInformationV2Query,
    ) -> Result<types::DistributionInformationPage, ApiError> {
        let caller = self.client(key)?;
        check_window(q.from_inv_date, q.to_inv_date, "fromInvDate", "toInvDate")?;
        let world = self.0.read();
        let (from, to, _) =
            invoice_window(&world, q.invoice_number, q.from_inv_date, q.to_inv_date);
        // The spec bounds both (page >= 1, 1 <= pageSize <= 500); validation ran before.
        let page = q.page.map_or(1, |p| p.max(1) as usize);
        let page_size = q.page_size.map_or(100, |p| p.max(1) as usize);
        let matching: Vec<&InvoiceRecord> = world
            .distributions(
                caller.client_id,
                q.invoice_number,
                from,
                to,
                q.fetch_type.unwrap_or(types::FetchType::All),
            )
            .filter(|i| {
                i.distribution.as_ref().is_some_and(|d| {
                    q.status.is_none_or(|s| s == d.status) && q.method.is_none_or(|m| m == d.method)
                })
            })
            .collect();
        let data: Vec<types::DistributionRecord> = matching
            .iter()
            .skip((page - 1) * page_size)
            .take(page_size)
            .filter_map(|i| distribution_record(i))
            .collect();
        Ok(types::DistributionInformationPage {
            meta: types::PageMeta {
                count: data.len() as i32,
                page: std::num::NonZeroU32::new(page as u32).ok_or_else(ApiError::internal)?,
                page_size: std::num::NonZeroU32::new(page_size as u32)
                    .ok_or_else(ApiError::internal)?,
                total_count: matching.len() as i32,
            },
            data,
        })
    }

    fn payments(
        &self,
        key: Option<&ApiKey>,
        q: server::GetPaymentsQuery,
    ) -> Result<types::PaymentList, ApiError> {
        let caller = self.client(key)?;
        check_window(q.from_date, q.to_date, "fromDate", "toDate")?;
        let world = self.0.read();
        let (from, to, _) = date_window(&world, q.from_date, q.to_date);
        Ok(types::PaymentList(
            world
                .payments
                .iter()
                .filter(|p| p.client_id == caller.client_id && p.date >= from && p.date <= to)
                .filter(|p| {
                    q.invoice_number
                        .as_ref()
                        .is_none_or(|n| *n == p.invoice_number.to_string())
                })
                .filter(|p| q.case_id.is_none_or(|c| c == p.case_id))
                .map(payment)
                .collect(),
        ))
    }

    async fn settlements(
        &self,
        key: Option<&ApiKey>,
        q: server::GetSettlementsQuery,
    ) -> Result<types::SettlementsResponse, ApiError> {
        let caller = self.client(key)?;
        check_window(q.from_date, q.to_date, "fromDate", "toDate")?;
        let unfetched_only = q.unfetched_only.unwrap_or(false);
        let (window, settlements, now) = {
            let world = self.0.read();
            // Incremental sync is not limited to the default window.
            let (from, to, _) = if unfetched_only && q.from_date.is_none() && q.to_date.is_none() {
                (NaiveDate::MIN, NaiveDate::MAX, false)
            } else {
                date_window(&world, q.from_date, q.to_date)
            };
            let window = SettlementWindow {
                from,
                to,
                unfetched_only,
            };
            let settlements: Vec<types::Settlement> = world
                .settlements(caller.client_id, &window)
                .cloned()
                .collect();
            (window, settlements, world.now)
        };
        // A first fetch is recorded (it sets apiFetchDate): then the settlements are selected
        // and marked again in one command, so that concurrent fetches never both get one.
        if settlements.iter().all(|s| s.api_fetch_date.is_some()) {
            return Ok(types::SettlementsResponse {
                created_at: now,
                settlements,
            });
        }
        let settlements = effect!(
            self.0
                .execute(Command::FetchSettlements {
                    client_id: caller.client_id,
                    window,
                })
                .await?,
            Settlements
        )?;
        Ok(types::SettlementsResponse {
            created_at: self.0.read().now,
            settlements,
        })
    }

    /// The accounting submissions of one kind, in a document-date window, as status rows.
    fn accounting<T>(
        &self,
        key: Option<&ApiKey>,
        kind: AccountingKind,
        window: (Option<NaiveDate>, Option<NaiveDate>),
        source: Option<&str>,
        row: impl Fn(&AccountingItem) -> Option<T>,
    ) -> Result<Vec<T>, ApiError> {
        let caller = self.client(key)?;
        check_window(window.0, window.1, "fromDate", "toDate")?;
        let world = self.0.read();
        let (from, to, _) = date_window(&world, window.0, window.1);
        Ok(world
            .accounting
            .iter()
            .filter(|a| a.client_id == caller.client_id && a.kind == kind)
            .filter(|a| a.document_date >= from && a.document_date <= to)
            .filter(|a| source.is_none_or(|s| s == a.source_identifier))
            .filter_map(row)
            .collect())
    }

    fn finvoice(
        &self,
        key: Option<&ApiKey>,
        business_id: &str,
    ) -> Result<types::FinvoiceCredentialsResponse, ApiError> {
        self.client(key)?;
        if !crate::world::checks::business_id_valid(business_id) {
            return Err(ApiError::validation(
                "The business ID is invalid.",
                vec![server::FieldProblem::new(
                    "query.businessId",
                    "business",
                    "is not a valid Finnish business ID",
                )],
            ));
        }
        Ok(crate::registry::finvoice_credentials(business_id))
    }
}

/// The invoice-date window of the distribution operations: the last 30 days by default, but a
/// lookup by invoice number is not limited to it.
fn invoice_window(
    world: &World,
    number: Option<i64>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> (NaiveDate, NaiveDate, bool) {
    match date_window(world, from, to) {
        (_, _, true) if number.is_some() => (NaiveDate::MIN, NaiveDate::MAX, false),
        window => window,
    }
}

impl PartnerApi for SandboxApi {
    /// The same credential checks each operation makes, before its query or body is read.
    fn authorize(
        &self,
        operation: server::Operation,
        key: Option<&ApiKey>,
    ) -> Result<(), ApiError> {
        match operation {
            server::Operation::CreateClient => self.onboard_caller(key),
            server::Operation::ValidateToken => self.validate(key).map(drop),
            server::Operation::RenewToken => self.renew_caller(key).map(drop),
            _ => self.client(key).map(drop),
        }
    }

    async fn create_client(
        &self,
        request: server::CreateClientRequest,
    ) -> server::CreateClientResponse {
        let result = async {
            self.onboard_caller(request.api_key.as_ref())?;
            effect!(
                self.0
                    .execute(Command::CreateClient {
                        request: Box::new(request.body)
                    })
                    .await?,
                ClientCreated
            )
        };
        answer(result.await, server::CreateClientResponse::Ok)
    }

    async fn validate_token(
        &self,
        request: server::ValidateTokenRequest,
    ) -> server::ValidateTokenResponse {
        answer(
            self.validate(request.api_key.as_ref()),
            server::ValidateTokenResponse::Ok,
        )
    }

    async fn renew_token(&self, request: server::RenewTokenRequest) -> server::RenewTokenResponse {
        answer(
            self.renew(request.api_key.as_ref()).await,
            server::RenewTokenResponse::Ok,
        )
    }

    async fn create_invoice(
        &self,
        request: server::CreateInvoiceRequest,
    ) -> server::CreateInvoiceResponse {
        let result = async {
            let client_id = self.client(request.api_key.as_ref())?.client_id;
            effect!(
                self.0
                    .execute(Command::CreateInvoice {
                        client_id,
                        request: Box::new(request.body)
                    })
                    .await?,
                InvoiceCreated
            )
        };
        answer(result.await, server::CreateInvoiceResponse::Ok)
    }

    async fn create_invoice_actions(
        &self,
        request: server::CreateInvoiceActionsRequest,
    ) -> server::CreateInvoiceActionsResponse {
        let result = async {
            let client_id = self.client(request.api_key.as_ref())?.client_id;
            effect!(
                self.0
                    .execute(Command::InvoiceActions {
                        client_id,
                        request: Box::new(request.body)
                    })
                    .await?,
                ActionsApplied
            )
        };
        answer(result.await, server::CreateInvoiceActionsResponse::Ok)
    }

    async fn get_case_details(
        &self,
        request: server::GetCaseDetailsRequest,
    ) -> server::GetCaseDetailsResponse {
        let result = self.client(request.api_key.as_ref()).and_then(|caller| {
            let world = self.0.read();
            let case = world.find_case(
                caller.client_id,
                request.query.case_id,
                request.query.invoice_number,
            )?;
            Ok(types::CaseDetailsResponse {
                case: case_details(&world, case),
            })
        });
        answer(result, server::GetCaseDetailsResponse::Ok)
    }

    async fn get_distribution_information(
        &self,
        request: server::GetDistributionInformationRequest,
    ) -> server::GetDistributionInformationResponse {
        answer(
            self.distribution(request.api_key.as_ref(), request.query),
            server::GetDistributionInformationResponse::Ok,
        )
    }

    async fn get_distribution_information_v2(
        &self,
        request: server::GetDistributionInformationV2Request,
    ) -> server::GetDistributionInformationV2Response {
        answer(
            self.distribution_page(request.api_key.as_ref(), request.query),
            server::GetDistributionInformationV2Response::Ok,
        )
    }

    async fn get_payments(
        &self,
        request: server::GetPaymentsRequest,
    ) -> server::GetPaymentsResponse {
        answer(
            self.payments(request.api_key.as_ref(), request.query),
            server::GetPaymentsResponse::Ok,
        )
    }

    async fn get_settlements(
        &self,
        request: server::GetSettlementsRequest,
    ) -> server::GetSettlementsResponse {
        answer(
            self.settlements(request.api_key.as_ref(), request.query)
                .await,
            server::GetSettlementsResponse::Ok,
        )
    }

    async fn submit_accounting_invoice(
        &self,
        request: server::SubmitAccountingInvoiceRequest,
    ) -> server::SubmitAccountingInvoiceResponse {
        let result = async {
            let client_id = self.client(request.api_key.as_ref())?.client_id;
            effect!(
                self.0
                    .execute(Command::SubmitAccountingInvoice {
                        client_id,
                        request: Box::new(request.body)
                    })
                    .await?,
                Accounting
            )
        };
        answer(result.await, server::SubmitAccountingInvoiceResponse::Ok)
    }

    async fn submit_ledger(
        &self,
        request: server::SubmitLedgerRequest,
    ) -> server::SubmitLedgerResponse {
        let result = async {
            let client_id = self.client(request.api_key.as_ref())?.client_id;
            effect!(
                self.0
                    .execute(Command::SubmitLedger {
                        client_id,
                        request: Box::new(request.body)
                    })
                    .await?,
                Accounting
            )
        };
        answer(result.await, server::SubmitLedgerResponse::Ok)
    }

    async fn get_ledger_status(
        &self,
        request: server::GetLedgerStatusRequest,
    ) -> server::GetLedgerStatusResponse {
        let q = request.query;
        let ledgers = self.accounting(
            request.api_key.as_ref(),
            AccountingKind::Ledger,
            (q.from_date, q.to_date),
            q.ledger_identifier.as_deref(),
            |a| {
                Some(types::LedgerStatus {
                    description: a.description.clone(),
                    document_date: a.document_date,
                    document_name: a.document_name.clone(),
                    document_status: (a.status == 1).then(|| "Approved".to_string()),
                    source_identifier: a.source_identifier.clone(),
                    status: a.status,
                    sync_date: a.sync_date,
                })
            },
        );
        answer(ledgers, |ledgers| {
            server::GetLedgerStatusResponse::Ok(types::LedgerStatusResponse { ledgers })
        })
    }

    async fn submit_accounting_payments(
        &self,
        request: server::SubmitAccountingPaymentsRequest,
    ) -> server::SubmitAccountingPaymentsResponse {
        let result = async {
            let client_id = self.client(request.api_key.as_ref())?.client_id;
            effect!(
                self.0
                    .execute(Command::SubmitAccountingPayments {
                        client_id,
                        request: Box::new(request.body)
                    })
                    .await?,
                Accounting
            )
        };
        answer(result.await, server::SubmitAccountingPaymentsResponse::Ok)
    }

    async fn get_accounting_payment_status(
        &self,
        request: server::GetAccountingPaymentStatusRequest,
    ) -> server::GetAccountingPaymentStatusResponse {
        let q = request.query;
        let payments = self.accounting(
            request.api_key.as_ref(),
            AccountingKind::Payment,
            (q.from_date, q.to_date),
            q.payment_identifier.as_deref(),
            |a| {
                Some(types::AccountingPaymentStatus {
                    description: a.description.clone(),
                    invoice_number: a.invoice_number.parse().ok()?,
                    payment_date: a.document_date,
                    source_identifier: a.source_identifier.clone(),
                    status: a.status,
                    sync_date: a.sync_date,
                })
            },
        );
        answer(payments, |payments| {
            server::GetAccountingPaymentStatusResponse::Ok(types::AccountingPaymentStatusResponse {
                payments,
            })
        })
    }

    async fn get_finvoice_credentials(
        &self,
        request: server::GetFinvoiceCredentialsRequest,
    ) -> server::GetFinvoiceCredentialsResponse {
        answer(
            self.finvoice(request.api_key.as_ref(), &request.query.business_id),
            server::GetFinvoiceCredentialsResponse::Ok,
        )
    }
}
