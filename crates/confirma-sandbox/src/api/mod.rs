//! The sandbox as the generated [`PartnerApi`]: each operation checks its caller
//! ([`auth`](self::auth)), asks the domain (reads here in [`reads`](self::reads), changes as
//! commands), and answers on the wire ([`wire`](self::wire), refusals through [`errors`](self::errors)).

mod auth;
mod errors;
mod reads;
mod wire;

use std::sync::Arc;

use confirma_server::{self as server, ApiError, ApiKey, PartnerApi, types};

use crate::app::Sandbox;
use crate::world::{AccountingKind, commands};

/// The sandbox as a [`PartnerApi`].
#[derive(Clone)]
pub struct SandboxApi(pub Arc<Sandbox>);

/// A refusal becomes the operation's error answer (each response enum converts from `ApiError`).
fn answer<T, R: From<ApiError>>(result: Result<T, ApiError>, ok: impl FnOnce(T) -> R) -> R {
    result.map_or_else(R::from, ok)
}

impl SandboxApi {
    async fn renew(&self, key: Option<&ApiKey>) -> Result<types::RenewTokenResponse, ApiError> {
        let caller = self.renew_caller(key).await?;
        self.0
            .execute(commands::RenewToken {
                client_id: caller.client_id,
            })
            .await
    }
}

impl PartnerApi for SandboxApi {
    /// The same credential checks each operation makes, before its query or body is read.
    async fn authorize(
        &self,
        operation: server::Operation,
        key: Option<&ApiKey>,
    ) -> Result<(), ApiError> {
        match operation {
            server::Operation::CreateClient => self.onboard_caller(key).await,
            server::Operation::ValidateToken => self.validate(key).await.map(drop),
            server::Operation::RenewToken => self.renew_caller(key).await.map(drop),
            _ => self.client(key).await.map(drop),
        }
    }

    async fn create_client(
        &self,
        request: server::CreateClientRequest,
    ) -> server::CreateClientResponse {
        let result = async {
            self.onboard_caller(request.api_key.as_ref()).await?;
            self.0
                .execute(commands::CreateClient {
                    request: Box::new(request.body),
                })
                .await
        };
        answer(result.await, server::CreateClientResponse::Ok)
    }

    async fn validate_token(
        &self,
        request: server::ValidateTokenRequest,
    ) -> server::ValidateTokenResponse {
        answer(
            self.validate(request.api_key.as_ref()).await,
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
            let client_id = self.client(request.api_key.as_ref()).await?.client_id;
            self.0
                .execute(commands::CreateInvoice {
                    client_id,
                    request: Box::new(request.body),
                })
                .await
        };
        answer(result.await, server::CreateInvoiceResponse::Ok)
    }

    async fn create_invoice_actions(
        &self,
        request: server::CreateInvoiceActionsRequest,
    ) -> server::CreateInvoiceActionsResponse {
        let result = async {
            let client_id = self.client(request.api_key.as_ref()).await?.client_id;
            self.0
                .execute(commands::InvoiceActions {
                    client_id,
                    request: Box::new(request.body),
                })
                .await
        };
        answer(result.await, server::CreateInvoiceActionsResponse::Ok)
    }

    async fn get_case_details(
        &self,
        request: server::GetCaseDetailsRequest,
    ) -> server::GetCaseDetailsResponse {
        answer(
            self.case_details(request.api_key.as_ref(), request.query)
                .await,
            server::GetCaseDetailsResponse::Ok,
        )
    }

    async fn get_distribution_information(
        &self,
        request: server::GetDistributionInformationRequest,
    ) -> server::GetDistributionInformationResponse {
        answer(
            self.distribution(request.api_key.as_ref(), request.query)
                .await,
            server::GetDistributionInformationResponse::Ok,
        )
    }

    async fn get_distribution_information_v2(
        &self,
        request: server::GetDistributionInformationV2Request,
    ) -> server::GetDistributionInformationV2Response {
        answer(
            self.distribution_page(request.api_key.as_ref(), request.query)
                .await,
            server::GetDistributionInformationV2Response::Ok,
        )
    }

    async fn get_payments(
        &self,
        request: server::GetPaymentsRequest,
    ) -> server::GetPaymentsResponse {
        answer(
            self.payments(request.api_key.as_ref(), request.query).await,
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
            let client_id = self.client(request.api_key.as_ref()).await?.client_id;
            self.0
                .execute(commands::SubmitAccountingInvoice {
                    client_id,
                    request: Box::new(request.body),
                })
                .await
        };
        answer(result.await, server::SubmitAccountingInvoiceResponse::Ok)
    }

    async fn submit_ledger(
        &self,
        request: server::SubmitLedgerRequest,
    ) -> server::SubmitLedgerResponse {
        let result = async {
            let client_id = self.client(request.api_key.as_ref()).await?.client_id;
            self.0
                .execute(commands::SubmitLedger {
                    client_id,
                    request: Box::new(request.body),
                })
                .await
        };
        answer(result.await, server::SubmitLedgerResponse::Ok)
    }

    async fn get_ledger_status(
        &self,
        request: server::GetLedgerStatusRequest,
    ) -> server::GetLedgerStatusResponse {
        let q = request.query;
        let ledgers = self
            .accounting(
                request.api_key.as_ref(),
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
        request: server::SubmitAccountingPaymentsRequest,
    ) -> server::SubmitAccountingPaymentsResponse {
        let result = async {
            let client_id = self.client(request.api_key.as_ref()).await?.client_id;
            self.0
                .execute(commands::SubmitAccountingPayments {
                    client_id,
                    request: Box::new(request.body),
                })
                .await
        };
        answer(result.await, server::SubmitAccountingPaymentsResponse::Ok)
    }

    async fn get_accounting_payment_status(
        &self,
        request: server::GetAccountingPaymentStatusRequest,
    ) -> server::GetAccountingPaymentStatusResponse {
        let q = request.query;
        let payments = self
            .accounting(
                request.api_key.as_ref(),
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
        request: server::GetFinvoiceCredentialsRequest,
    ) -> server::GetFinvoiceCredentialsResponse {
        answer(
            self.finvoice(request.api_key.as_ref(), &request.query.business_id)
                .await,
            server::GetFinvoiceCredentialsResponse::Ok,
        )
    }
}
