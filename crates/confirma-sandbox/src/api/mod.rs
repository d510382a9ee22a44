//! The sandbox as the generated [`PartnerApi`]: each operation checks its caller
//! ([`auth`](self::auth)), asks the domain (reads here in [`reads`](self::reads), changes as
//! commands), and answers on the wire (through `world::wire`, refusals through
//! [`errors`](self::errors)).

mod auth;
mod errors;
mod reads;

use std::sync::Arc;

use confirma_server::{self as server, ApiError, ApiKey, PartnerApi, types};

use crate::app::{Identified, Sandbox};
use crate::world::{AccountingKind, commands, wire};
use auth::Who;

/// The sandbox as a [`PartnerApi`].
#[derive(Clone)]
pub struct SandboxApi(pub Arc<Sandbox>);

/// A refusal becomes the operation's error answer (each response enum converts from `ApiError`).
fn answer<T, R: From<ApiError>>(result: Result<T, ApiError>, ok: impl FnOnce(T) -> R) -> R {
    result.map_or_else(R::from, ok)
}

impl PartnerApi for SandboxApi {
    type Caller = Who;

    /// Each operation's rule ([`auth::admit`]) over the credential the `identify` middleware
    /// found, before the operation's query or body is read.
    async fn authorize(
        &self,
        operation: server::Operation,
        key: Option<&ApiKey>,
        extensions: &axum::http::Extensions,
    ) -> Result<Who, ApiError> {
        let credential = match extensions.get::<Identified>() {
            Some(identified) => identified.credential.clone(),
            // Served without the sandbox's middleware (its router always has it).
            None => self.0.identify(key).await,
        };
        auth::admit(operation, credential)
    }

    /// Admitted for the provisioning token only ([`auth::admit`]).
    async fn create_client(
        &self,
        caller: Who,
        request: server::CreateClientRequest,
    ) -> server::CreateClientResponse {
        let result = async {
            self.0
                .execute(
                    caller.space(),
                    commands::CreateClient {
                        request: Box::new(request.body),
                    },
                )
                .await
        };
        answer(result.await, server::CreateClientResponse::Ok)
    }

    /// The provisioning token or a live client token: the caller, as admitted, is the answer.
    async fn validate_token(
        &self,
        caller: Who,
        _request: server::ValidateTokenRequest,
    ) -> server::ValidateTokenResponse {
        server::ValidateTokenResponse::Ok(match caller {
            Who::Provisioning(_) => types::ValidateTokenResponse {
                expires_at: None,
                is_valid: true,
                message: "Partner provisioning token is valid".into(),
            },
            Who::Client(caller) => types::ValidateTokenResponse {
                expires_at: caller.expires_at,
                is_valid: true,
                message: "Token is valid".into(),
            },
        })
    }

    async fn renew_token(
        &self,
        caller: Who,
        _request: server::RenewTokenRequest,
    ) -> server::RenewTokenResponse {
        let result = async {
            let client_id = caller.client()?.client_id;
            self.0
                .execute(caller.space(), commands::RenewToken { client_id })
                .await
        };
        answer(result.await, server::RenewTokenResponse::Ok)
    }

    async fn create_invoice(
        &self,
        caller: Who,
        request: server::CreateInvoiceRequest,
    ) -> server::CreateInvoiceResponse {
        let result = async {
            let client_id = caller.client()?.client_id;
            self.0
                .execute(
                    caller.space(),
                    commands::CreateInvoice::received(client_id, request.body, &request.received),
                )
                .await
        };
        answer(result.await, server::CreateInvoiceResponse::Ok)
    }

    async fn create_invoice_actions(
        &self,
        caller: Who,
        request: server::CreateInvoiceActionsRequest,
    ) -> server::CreateInvoiceActionsResponse {
        let result = async {
            let client_id = caller.client()?.client_id;
            self.0
                .execute(
                    caller.space(),
                    commands::InvoiceActions {
                        client_id,
                        request: Box::new(request.body),
                    },
                )
                .await
        };
        answer(result.await, server::CreateInvoiceActionsResponse::Ok)
    }

    async fn get_case_details(
        &self,
        caller: Who,
        request: server::GetCaseDetailsRequest,
    ) -> server::GetCaseDetailsResponse {
        answer(
            self.case_details(&caller, request.query).await,
            server::GetCaseDetailsResponse::Ok,
        )
    }

    async fn get_distribution_information(
        &self,
        caller: Who,
        request: server::GetDistributionInformationRequest,
    ) -> server::GetDistributionInformationResponse {
        answer(
            self.distribution(&caller, request.query).await,
            server::GetDistributionInformationResponse::Ok,
        )
    }

    async fn get_distribution_information_v2(
        &self,
        caller: Who,
        request: server::GetDistributionInformationV2Request,
    ) -> server::GetDistributionInformationV2Response {
        answer(
            self.distribution_page(&caller, request.query).await,
            server::GetDistributionInformationV2Response::OkEncoded,
        )
    }

    async fn get_payments(
        &self,
        caller: Who,
        request: server::GetPaymentsRequest,
    ) -> server::GetPaymentsResponse {
        answer(
            self.payments(&caller, request.query).await,
            server::GetPaymentsResponse::Ok,
        )
    }

    async fn get_settlements(
        &self,
        caller: Who,
        request: server::GetSettlementsRequest,
    ) -> server::GetSettlementsResponse {
        answer(
            self.settlements(&caller, request.query).await,
            server::GetSettlementsResponse::Ok,
        )
    }

    async fn submit_accounting_invoice(
        &self,
        caller: Who,
        request: server::SubmitAccountingInvoiceRequest,
    ) -> server::SubmitAccountingInvoiceResponse {
        let result = async {
            let client_id = caller.client()?.client_id;
            self.0
                .execute(
                    caller.space(),
                    commands::SubmitAccountingInvoice {
                        client_id,
                        request: Box::new(request.body),
                    },
                )
                .await
        };
        answer(result.await, server::SubmitAccountingInvoiceResponse::Ok)
    }

    async fn submit_ledger(
        &self,
        caller: Who,
        request: server::SubmitLedgerRequest,
    ) -> server::SubmitLedgerResponse {
        let result = async {
            let client_id = caller.client()?.client_id;
            self.0
                .execute(
                    caller.space(),
                    commands::SubmitLedger {
                        client_id,
                        request: Box::new(request.body),
                    },
                )
                .await
        };
        answer(result.await, server::SubmitLedgerResponse::Ok)
    }

    async fn get_ledger_status(
        &self,
        caller: Who,
        request: server::GetLedgerStatusRequest,
    ) -> server::GetLedgerStatusResponse {
        let q = request.query;
        let ledgers = self
            .accounting(
                &caller,
                AccountingKind::Ledger,
                (q.from_date, q.to_date),
                q.ledger_identifier.as_deref().map(String::as_str),
                |a| Some(wire::ledger_status(a)),
            )
            .await;
        answer(ledgers, |ledgers| {
            server::GetLedgerStatusResponse::Ok(types::LedgerStatusResponse { ledgers })
        })
    }

    async fn submit_accounting_payments(
        &self,
        caller: Who,
        request: server::SubmitAccountingPaymentsRequest,
    ) -> server::SubmitAccountingPaymentsResponse {
        let result = async {
            let client_id = caller.client()?.client_id;
            self.0
                .execute(
                    caller.space(),
                    commands::SubmitAccountingPayments {
                        client_id,
                        request: Box::new(request.body),
                    },
                )
                .await
        };
        answer(result.await, server::SubmitAccountingPaymentsResponse::Ok)
    }

    async fn get_accounting_payment_status(
        &self,
        caller: Who,
        request: server::GetAccountingPaymentStatusRequest,
    ) -> server::GetAccountingPaymentStatusResponse {
        let q = request.query;
        let payments = self
            .accounting(
                &caller,
                AccountingKind::Payment,
                (q.from_date, q.to_date),
                q.payment_identifier.as_deref().map(String::as_str),
                wire::accounting_payment_status,
            )
            .await;
        answer(payments, |payments| {
            server::GetAccountingPaymentStatusResponse::Ok(types::AccountingPaymentStatusResponse {
                payments,
            })
        })
    }

    async fn get_finvoice_credentials(
        &self,
        caller: Who,
        request: server::GetFinvoiceCredentialsRequest,
    ) -> server::GetFinvoiceCredentialsResponse {
        answer(
            self.finvoice(&caller, &request.query.business_id).await,
            server::GetFinvoiceCredentialsResponse::Ok,
        )
    }
}
