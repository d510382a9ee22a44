//! The Partner API operations, implemented on the sandbox's world.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use confirma_server::{self as server, ApiError, ApiKey, PartnerApi, types};

use crate::app::Sandbox;
use crate::world::{Caller, Command, Effect, InvoiceRecord, World};

/// The sandbox as a [`PartnerApi`].
#[derive(Clone)]
pub struct SandboxApi(pub Arc<Sandbox>);

/// The default window of the list operations: the last 30 days.
const DEFAULT_WINDOW_DAYS: i64 = 30;

fn not_simulated(operation: &str) -> ApiError {
    ApiError::unavailable(format!(
        "{operation} is not simulated by this version of the sandbox yet."
    ))
}

impl SandboxApi {
    fn is_provisioning_token(&self, key: Option<&ApiKey>) -> bool {
        key.is_some_and(|k| {
            constant_time_eq::constant_time_eq(
                k.expose().as_bytes(),
                self.0.config.provisioning_token.as_bytes(),
            )
        })
    }

    /// The calling client, for every operation but onboarding, renew and validate.
    fn client(&self, key: Option<&ApiKey>) -> Result<Caller, ApiError> {
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

impl PartnerApi for SandboxApi {
    async fn create_client(
        &self,
        request: server::CreateClientRequest,
    ) -> server::CreateClientResponse {
        if !self.is_provisioning_token(request.api_key.as_ref()) {
            return match request.api_key {
                Some(key) if self.0.read().authenticate(Some(&key)).is_ok() => ApiError::forbidden(
                    "Onboarding needs the partner provisioning token, not a client token.",
                )
                .into(),
                _ => ApiError::unauthorized(
                    "Send the partner provisioning token in the X-Api-Key header.",
                )
                .into(),
            };
        }
        match self
            .0
            .execute(Command::CreateClient {
                request: Box::new(request.body),
            })
            .await
        {
            Ok(Effect::ClientCreated(created)) => server::CreateClientResponse::Ok(created),
            Ok(_) => ApiError::internal().into(),
            Err(e) => e.into(),
        }
    }

    async fn validate_token(
        &self,
        request: server::ValidateTokenRequest,
    ) -> server::ValidateTokenResponse {
        if self.is_provisioning_token(request.api_key.as_ref()) {
            return server::ValidateTokenResponse::Ok(types::ValidateTokenResponse {
                expires_at: None,
                is_valid: true,
                message: "Partner provisioning token is valid".into(),
            });
        }
        match self.0.read().authenticate(request.api_key.as_ref()) {
            Ok(caller) => server::ValidateTokenResponse::Ok(types::ValidateTokenResponse {
                expires_at: caller.expires_at,
                is_valid: !caller.expired,
                message: if caller.expired {
                    "Token has expired; renew it".into()
                } else {
                    "Token is valid".into()
                },
            }),
            Err(e) => e.into(),
        }
    }

    async fn renew_token(&self, request: server::RenewTokenRequest) -> server::RenewTokenResponse {
        if self.is_provisioning_token(request.api_key.as_ref()) {
            return ApiError::forbidden(
                "The partner provisioning token is not renewed through the API.",
            )
            .into();
        }
        // Renewal is the one thing an expired token may still do.
        let caller = match self.0.read().authenticate(request.api_key.as_ref()) {
            Ok(caller) => caller,
            Err(e) => return e.into(),
        };
        match self
            .0
            .execute(Command::RenewToken {
                client_id: caller.client_id,
            })
            .await
        {
            Ok(Effect::TokenRenewed(renewed)) => server::RenewTokenResponse::Ok(renewed),
            Ok(_) => ApiError::internal().into(),
            Err(e) => e.into(),
        }
    }

    async fn create_invoice(
        &self,
        request: server::CreateInvoiceRequest,
    ) -> server::CreateInvoiceResponse {
        let caller = match self.client(request.api_key.as_ref()) {
            Ok(c) => c,
            Err(e) => return e.into(),
        };
        match self
            .0
            .execute(Command::CreateInvoice {
                client_id: caller.client_id,
                request: Box::new(request.body),
            })
            .await
        {
            Ok(Effect::InvoiceCreated(created)) => server::CreateInvoiceResponse::Ok(created),
            Ok(_) => ApiError::internal().into(),
            Err(e) => e.into(),
        }
    }

    async fn create_invoice_actions(
        &self,
        request: server::CreateInvoiceActionsRequest,
    ) -> server::CreateInvoiceActionsResponse {
        match self.client(request.api_key.as_ref()) {
            Ok(_) => not_simulated("Invoice actions").into(),
            Err(e) => e.into(),
        }
    }

    async fn get_case_details(
        &self,
        request: server::GetCaseDetailsRequest,
    ) -> server::GetCaseDetailsResponse {
        match self.client(request.api_key.as_ref()) {
            Ok(_) => not_simulated("Case details").into(),
            Err(e) => e.into(),
        }
    }

    async fn get_distribution_information(
        &self,
        request: server::GetDistributionInformationRequest,
    ) -> server::GetDistributionInformationResponse {
        let caller = match self.client(request.api_key.as_ref()) {
            Ok(c) => c,
            Err(e) => return e.into(),
        };
        let q = request.query;
        if let Err(e) = check_window(q.from_inv_date, q.to_inv_date, "fromInvDate", "toInvDate") {
            return e.into();
        }
        let world = self.0.read();
        let (from, to, defaulted) = date_window(&world, q.from_inv_date, q.to_inv_date);
        // A lookup by invoice number is not limited to the default window.
        let (from, to, defaulted) = if q.invoice_number.is_some() && defaulted {
            (NaiveDate::MIN, NaiveDate::MAX, false)
        } else {
            (from, to, defaulted)
        };
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
        server::GetDistributionInformationResponse::Ok(types::DistributionInformationResponse {
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

    async fn get_distribution_information_v2(
        &self,
        request: server::GetDistributionInformationV2Request,
    ) -> server::GetDistributionInformationV2Response {
        let caller = match self.client(request.api_key.as_ref()) {
            Ok(c) => c,
            Err(e) => return e.into(),
        };
        let q = request.query;
        if let Err(e) = check_window(q.from_inv_date, q.to_inv_date, "fromInvDate", "toInvDate") {
            return e.into();
        }
        let world = self.0.read();
        let (from, to, defaulted) = date_window(&world, q.from_inv_date, q.to_inv_date);
        let (from, to) = if q.invoice_number.is_some() && defaulted {
            (NaiveDate::MIN, NaiveDate::MAX)
        } else {
            (from, to)
        };
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
        server::GetDistributionInformationV2Response::Ok(types::DistributionInformationPage {
            meta: types::PageMeta {
                count: data.len() as i32,
                page: std::num::NonZeroU32::new(page as u32).expect("page >= 1"),
                page_size: std::num::NonZeroU32::new(page_size as u32).expect("pageSize >= 1"),
                total_count: matching.len() as i32,
            },
            data,
        })
    }

    async fn get_payments(
        &self,
        request: server::GetPaymentsRequest,
    ) -> server::GetPaymentsResponse {
        match self.client(request.api_key.as_ref()) {
            Ok(_) => not_simulated("Payments").into(),
            Err(e) => e.into(),
        }
    }

    async fn get_settlements(
        &self,
        request: server::GetSettlementsRequest,
    ) -> server::GetSettlementsResponse {
        match self.client(request.api_key.as_ref()) {
            Ok(_) => not_simulated("Settlements").into(),
            Err(e) => e.into(),
        }
    }

    async fn submit_accounting_invoice(
        &self,
        request: server::SubmitAccountingInvoiceRequest,
    ) -> server::SubmitAccountingInvoiceResponse {
        match self.client(request.api_key.as_ref()) {
            Ok(_) => not_simulated("Accounting invoices").into(),
            Err(e) => e.into(),
        }
    }

    async fn submit_ledger(
        &self,
        request: server::SubmitLedgerRequest,
    ) -> server::SubmitLedgerResponse {
        match self.client(request.api_key.as_ref()) {
            Ok(_) => not_simulated("Ledgers").into(),
            Err(e) => e.into(),
        }
    }

    async fn get_ledger_status(
        &self,
        request: server::GetLedgerStatusRequest,
    ) -> server::GetLedgerStatusResponse {
        match self.client(request.api_key.as_ref()) {
            Ok(_) => not_simulated("Ledger status").into(),
            Err(e) => e.into(),
        }
    }

    async fn submit_accounting_payments(
        &self,
        request: server::SubmitAccountingPaymentsRequest,
    ) -> server::SubmitAccountingPaymentsResponse {
        match self.client(request.api_key.as_ref()) {
            Ok(_) => not_simulated("Accounting payments").into(),
            Err(e) => e.into(),
        }
    }

    async fn get_accounting_payment_status(
        &self,
        request: server::GetAccountingPaymentStatusRequest,
    ) -> server::GetAccountingPaymentStatusResponse {
        match self.client(request.api_key.as_ref()) {
            Ok(_) => not_simulated("Accounting payment status").into(),
            Err(e) => e.into(),
        }
    }

    async fn get_finvoice_credentials(
        &self,
        request: server::GetFinvoiceCredentialsRequest,
    ) -> server::GetFinvoiceCredentialsResponse {
        if let Err(e) = self.client(request.api_key.as_ref()) {
            return e.into();
        }
        let business_id = request.query.business_id.to_string();
        if !crate::world::checks::business_id_valid(&business_id) {
            return ApiError::validation(
                "The business ID is invalid.",
                vec![server::FieldProblem::new(
                    "query.businessId",
                    "business",
                    "is not a valid Finnish business ID",
                )],
            )
            .into();
        }
        server::GetFinvoiceCredentialsResponse::Ok(crate::registry::finvoice_credentials(
            &business_id,
        ))
    }
}
