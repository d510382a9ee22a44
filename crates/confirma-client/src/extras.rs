//! Helpers for the API's quirks: token renewal that swaps the key in place, status endpoints
//! that answer `204 No Content` for "nothing", incremental settlement sync.
#![warn(missing_docs)]

use reqwest::StatusCode;

use crate::{ApiError, ApiKey, Client, builder, types};

impl Client {
    /// Renews the access token and makes this client (and every clone of its state) use the new
    /// one from the next request on; returns the new token so that it can be stored.
    ///
    /// Every renewal this client sends swaps its key so (`renew_token().call()`,
    /// `renew_token().send()` and [`send_json`](Self::send_json) alike): no call leaves it
    /// holding the key the renewal revoked. This one also hands back the new key.
    ///
    /// The old token stops working once the service has issued the new one, so store the
    /// returned key before the process ends. Renewal changes state on the service, so it is
    /// never retried automatically; if it fails with a transport error the outcome is unknown:
    /// check the old token with `validate_token` before renewing again.
    ///
    /// The new token is taken from the response's `accessToken`, falling back to the documented
    /// `Message` field.
    ///
    /// ```no_run
    /// # async fn demo(client: &confirma_client::Client) -> Result<(), confirma_client::ApiError> {
    /// let new_key = client.renew_api_key().await?;
    /// std::fs::write("token.secret", new_key.expose()).expect("store the new token");
    /// # Ok(()) }
    /// ```
    pub async fn renew_api_key(&self) -> Result<ApiKey, ApiError> {
        let renewed = self.renew_token().call().await?;
        let answer = serde_json::to_value(&renewed).unwrap_or_default();
        match crate::hooks::renewed_token(&answer) {
            // The hook has put it in place already.
            Some(token) => Ok(ApiKey::new(token)),
            None => Err(ApiError::InvalidRequest(
                "token renewal answered without a token; the current key is kept".into(),
            )),
        }
    }

    /// Settlements not fetched by this integration before (`unfetchedOnly=true`): call it on a
    /// schedule and each settlement arrives once. The service marks what it returns as fetched
    /// (`apiFetchDate`), so persist the result before the next call.
    ///
    /// ```no_run
    /// # async fn demo(client: &confirma_client::Client) -> Result<(), confirma_client::ApiError> {
    /// for settlement in client.sync_new_settlements().await? {
    ///     println!("{} {} {}", settlement.settlement_id, settlement.settlement_amount, settlement.currency.as_str());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn sync_new_settlements(&self) -> Result<Vec<types::Settlement>, ApiError> {
        Ok(self
            .get_settlements()
            .unfetched_only(true)
            .send()
            .await?
            .into_inner()
            .settlements)
    }
}

/// Runs `send` and turns the real service's `204 No Content` ("no records") into `empty`.
async fn or_empty<T>(
    send: impl Future<
        Output = Result<progenitor_client::ResponseValue<T>, crate::Error<types::ErrorResponse>>,
    >,
    empty: T,
) -> Result<T, ApiError> {
    match send.await {
        Ok(value) => Ok(value.into_inner()),
        Err(crate::Error::UnexpectedResponse(response))
            if response.status() == StatusCode::NO_CONTENT =>
        {
            Ok(empty)
        }
        Err(error) => Err(ApiError::read(error).await),
    }
}

impl builder::GetLedgerStatus<'_> {
    /// Sends the request like `send`, but answers the real service's `204 No Content` (which
    /// it sends instead of an empty list) with an empty `ledgers` list.
    ///
    /// ```no_run
    /// # async fn demo(client: &confirma_client::Client) -> Result<(), confirma_client::ApiError> {
    /// let since = chrono::NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
    /// let status = client.get_ledger_status().from_date(since).send_or_empty().await?;
    /// for ledger in &status.ledgers {
    ///     println!("{} {}", ledger.source_identifier, ledger.description);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn send_or_empty(self) -> Result<types::LedgerStatusResponse, ApiError> {
        or_empty(
            self.send(),
            types::LedgerStatusResponse {
                ledgers: Vec::new(),
            },
        )
        .await
    }
}

impl builder::GetAccountingPaymentStatus<'_> {
    /// Sends the request like `send`, but answers a `204 No Content` with an empty `payments`
    /// list (undocumented for this endpoint, but the ledger status sends it, so be ready).
    ///
    /// ```no_run
    /// # async fn demo(client: &confirma_client::Client) -> Result<(), confirma_client::ApiError> {
    /// let status = client.get_accounting_payment_status().send_or_empty().await?;
    /// println!("{} payments", status.payments.len());
    /// # Ok(()) }
    /// ```
    pub async fn send_or_empty(self) -> Result<types::AccountingPaymentStatusResponse, ApiError> {
        or_empty(
            self.send(),
            types::AccountingPaymentStatusResponse {
                payments: Vec::new(),
            },
        )
        .await
    }
}
