//! Clients (creditors) and their access tokens: onboarding, authentication, renewal, expiry.

use chrono::{DateTime, Duration, Utc};
use confirma_server::types;

use super::checks::{business_id_valid, iban_valid, vat_number_matches};

pub use super::records::clients::{ClientRecord, TokenRecord};
use super::refusal::{Failure, Problem, Refusal};
use super::{World, tables, token_hash};

/// Who is calling, once the token checked out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The space the client (and so every request it makes) belongs to.
    pub space: super::SpaceId,
    pub client_id: i64,
    pub expires_at: Option<DateTime<Utc>>,
    pub expired: bool,
    /// The space's clock when the token was checked. A read that depends on the day may start
    /// from it, checking in its own statement that the clock is still there.
    pub checked_at: DateTime<Utc>,
}

/// The refusal of a request without a token.
pub fn missing_token() -> Refusal {
    Refusal::unauthenticated("Send the access token in the X-Api-Key header.")
}

/// The refusal of a key that is no token of this sandbox.
pub fn unknown_token() -> Refusal {
    Refusal::unauthenticated("The access token is not valid.")
}

/// The stored token with this SHA-256, and the sandbox time the database holds, in one indexed
/// statement outside any transaction: `Err(401)` for a token nobody has. (Found by its hash, so
/// the answer's timing says nothing about how much of a guess was right.)
pub async fn stored_token(
    db: &mut sqlx::AnyConnection,
    hash: &[u8; 32],
) -> Result<(TokenRecord, DateTime<Utc>), Failure> {
    tables::token_at_now(db, hash)
        .await?
        .ok_or_else(|| unknown_token().into())
}

impl Caller {
    /// Who a stored token is, at sandbox time `now`.
    pub fn of(record: &TokenRecord, now: DateTime<Utc>) -> Self {
        Self {
            space: record.space,
            client_id: record.client_id,
            expires_at: record.expires_at,
            expired: record.expires_at.is_some_and(|at| at <= now),
            checked_at: now,
        }
    }
}

impl World<'_> {
    pub(super) async fn create_client(
        &mut self,
        request: &types::CreateClientRequest,
    ) -> Result<types::CreateClientResponse, Failure> {
        let client = &request.client;
        let mut problems = Vec::new();
        let business_code = client.business_code.to_string();
        if !business_id_valid(&business_code) {
            problems.push(Problem::new(
                "$.client.businessCode",
                "business",
                "is not a valid Finnish business ID (NNNNNNN-C with a correct check digit)",
            ));
        }
        if let Some(vat) = &client.vat_reg_nbr {
            let vat = vat.to_string();
            if !vat.is_empty() && vat.starts_with("FI") && !vat_number_matches(&vat, &business_code)
            {
                problems.push(Problem::new(
                    "$.client.vatRegNbr",
                    "business",
                    "a Finnish VAT number is FI followed by the business ID's digits",
                ));
            }
        }
        if let Some(iban) = &client.iban {
            let iban = iban.to_string();
            if !iban.is_empty() && !iban_valid(&iban) {
                problems.push(Problem::new(
                    "$.client.iban",
                    "business",
                    "is not a valid IBAN",
                ));
            }
        }
        if !request
            .contacts
            .iter()
            .any(|c| c.role == types::ContactRole::Primary)
        {
            problems.push(Problem::new(
                "$.contacts",
                "business",
                "needs a PRIMARY contact",
            ));
        }
        if !problems.is_empty() {
            return Err(Refusal::invalid("The client data is invalid.", problems).into());
        }
        if tables::business_id_taken(self.db(), &business_code).await? {
            return Err(Refusal::business_rule(format!(
                "A client with business ID {business_code} is already onboarded."
            ))
            .with_problems(vec![Problem::new(
                "$.client.businessCode",
                "business",
                "is already onboarded",
            )])
            .into());
        }

        // The seeded demo client is 1000 with prefix 1044, so that the first client a partner
        // onboards is 1001 with prefix 1045, as in the spec's examples; ids follow one another.
        let id = tables::last_client_id(self.db())
            .await?
            .map_or(1000, |last| last + 1);
        let record = ClientRecord {
            id,
            name: client.name.to_string(),
            business_id: business_code,
            customer_code: format!("CF{id:06}"),
            payment_reference_prefix: format!("{}", id + 44),
            service: request.service.type_.into(),
            accounting_system: request.service.accounting_system.map(Into::into),
            iban: client
                .iban
                .as_ref()
                .map(|i| i.to_string())
                .filter(|i| !i.is_empty()),
            bic: client
                .bic
                .as_ref()
                .map(|b| b.to_string())
                .filter(|b| !b.is_empty()),
            created_at: self.now,
        };
        let token = self.issue_token(id, None).await?;
        tables::insert_client(self.db(), &record).await?;
        Ok(types::CreateClientResponse {
            access_token: token,
            client_id: id,
            customer_code: record.customer_code,
            expires_at: None,
            payment_reference_prefix: record.payment_reference_prefix,
        })
    }

    /// A new token for `client_id`; every earlier token of the client stops working.
    async fn issue_token(
        &mut self,
        client_id: i64,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<String, Failure> {
        let token = format!("cfsb_{}", self.secret("token"));
        let record = TokenRecord {
            space: self.space,
            client_id,
            hash: token_hash(&token),
            expires_at,
        };
        tables::replace_token(self.db(), &record).await?;
        self.tokens_changed = true;
        Ok(token)
    }

    pub(super) async fn renew_token(
        &mut self,
        client_id: i64,
    ) -> Result<types::RenewTokenResponse, Failure> {
        self.client(client_id).await?;
        // A token that had an expiry gets a new one a year out; one without keeps none.
        let had_expiry = tables::token_has_expiry(self.db(), client_id).await?;
        let expires_at = had_expiry.then(|| self.now + Duration::days(365));
        let token = self.issue_token(client_id, expires_at).await?;
        if self.demo_client == Some(client_id) {
            self.demo_token = Some(token.clone());
        }
        Ok(types::RenewTokenResponse {
            access_token: Some(token.clone()),
            expires_at,
            message: token,
        })
    }

    pub(super) async fn set_token_expiry(
        &mut self,
        client_id: i64,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(), Failure> {
        self.tokens_changed = true;
        tables::set_token_expiry(self.db(), client_id, expires_at).await
    }
}
