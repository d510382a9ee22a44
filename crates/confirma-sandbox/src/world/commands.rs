//! Every change to the world as a type of its own: what it needs (its fields), what it answers
//! ([`Change::Output`]) and how it applies. [`Command`] is any of them in the JSON form earlier
//! versions logged (the change's fields with a `command` tag), so that a database holding such
//! a log is brought over into tables on its first start.

use chrono::{DateTime, NaiveDate, Utc};
use confirma_server::types;
use serde::{Deserialize, Serialize};

pub use super::clock::Progress;
use super::{Failure, PaymentReceipt, SettlementWindow, World};

/// A change to the world, applied inside one transaction. `apply` checks everything first and
/// writes nothing when it refuses; it is deterministic.
pub trait Change: Send + Sync + 'static {
    type Output: Send + 'static;
    fn apply(
        &self,
        world: &mut World<'_>,
    ) -> impl Future<Output = Result<Self::Output, Failure>> + Send;

    /// The genesis of a space this change applies to even though the space has no row of its
    /// own: its creation, or the removal of its rows once deleted. `None` (every other change):
    /// the space must exist, and a change for one that does not is refused.
    fn without_space(&self) -> Option<super::Genesis> {
        None
    }

    /// Whether the change may hold its new rows back for its group to write together, when
    /// applied in a [`World::deferring`] world. Such a change takes no savepoint until its first
    /// other write, so it must make every such write through `World::writing` (the create of an
    /// invoice does).
    fn defers_writes(&self) -> bool {
        false
    }

    /// What the change looks for when it is a create of an invoice, so that the creates of a
    /// group may look for theirs together ([`super::World::looking_ahead`]).
    fn probe(&self) -> Option<super::Probe> {
        None
    }

    /// Applies the change as a logged command, dropping its answer.
    fn replay(&self, world: &mut World<'_>) -> impl Future<Output = Result<(), Failure>> + Send {
        async move { self.apply(world).await.map(drop) }
    }
}

macro_rules! commands {
    ($($name:ident),* $(,)?) => {
        /// Any change, as earlier versions logged it (one record per accepted change).
        #[derive(Clone, Debug, Serialize, Deserialize)]
        #[serde(tag = "command", rename_all = "camelCase")]
        pub enum Command {
            $($name($name),)*
        }

        $(impl From<$name> for Command {
            fn from(change: $name) -> Self {
                Command::$name(change)
            }
        })*

        impl Command {
            /// Applies the logged change again, dropping its answer (an advance of the clock
            /// runs to its end).
            pub async fn replay(&self, world: &mut World<'_>) -> Result<(), Failure> {
                match self {
                    $(Command::$name(change) => change.replay(world).await,)*
                }
            }
        }
    };
}

commands!(
    Seed,
    CreateClient,
    RenewToken,
    CreateInvoice,
    AdvanceClock,
    FailNextDistribution,
    InvoiceActions,
    ReceivePayment,
    RunSettlement,
    MarkSettlementsFetched,
    FetchSettlements,
    SubmitLedger,
    SubmitAccountingPayments,
    SubmitAccountingInvoice,
    SetTokenExpiry,
    Reset,
);

/// The demo data a fresh sandbox starts with.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Seed {}

impl Change for Seed {
    type Output = ();
    async fn apply(&self, world: &mut World<'_>) -> Result<(), Failure> {
        world.seed().await
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreateClient {
    pub request: Box<types::CreateClientRequest>,
}

impl Change for CreateClient {
    type Output = types::CreateClientResponse;
    async fn apply(&self, world: &mut World<'_>) -> Result<Self::Output, Failure> {
        world.create_client(&self.request).await
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RenewToken {
    pub client_id: i64,
}

impl Change for RenewToken {
    type Output = types::RenewTokenResponse;
    async fn apply(&self, world: &mut World<'_>) -> Result<Self::Output, Failure> {
        world.renew_token(self.client_id).await
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreateInvoice {
    pub client_id: i64,
    pub request: Box<types::SalesInvoiceRequest>,
    /// The request as received, in a log of an earlier version (none in the oldest logs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<Box<serde_json::Value>>,
    /// The digest of the request as received, which recognises its re-submission: taken where
    /// the request arrived ([`CreateInvoice::received`]), not by the writer.
    #[serde(skip)]
    pub request_sha256: Option<String>,
}

impl CreateInvoice {
    /// The create of `request`, as the client sent it (`received`).
    pub fn received(
        client_id: i64,
        request: types::SalesInvoiceRequest,
        received: &serde_json::Value,
    ) -> Self {
        Self {
            client_id,
            request: Box::new(request),
            received: None,
            request_sha256: Some(super::records::invoices::request_sha256(received)),
        }
    }
}

impl Change for CreateInvoice {
    type Output = types::CreateInvoiceResponse;
    async fn apply(&self, world: &mut World<'_>) -> Result<Self::Output, Failure> {
        let received = self.request_sha256.clone().or_else(|| {
            let logged = self.received.as_deref()?;
            Some(super::records::invoices::request_sha256(logged))
        });
        world
            .submit_invoice(self.client_id, &self.request, received)
            .await
    }

    fn defers_writes(&self) -> bool {
        true
    }

    fn probe(&self) -> Option<super::Probe> {
        Some(super::Probe::of(self.client_id, &self.request))
    }
}

/// Moves the sandbox clock forward towards `to`, running everything due on the way: one
/// bounded step (see [`World::advance_towards`]); applied again until it answers `done`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdvanceClock {
    pub to: DateTime<Utc>,
    /// The rows of the step's first batch: the [`Progress::batch`] of the step before, or 0 for
    /// [`super::clock::BATCH`]. Not in the command's JSON (earlier logs have none): it changes
    /// how an advance is cut, not what it does.
    #[serde(skip)]
    pub batch: i64,
}

impl Change for AdvanceClock {
    type Output = Progress;
    async fn apply(&self, world: &mut World<'_>) -> Result<Self::Output, Failure> {
        // Another advance may already have gone past `to`: what is due still runs, and the
        // clock never goes back.
        world.advance_towards(self.to, self.batch).await
    }

    /// A logged advance ran to its end in one go.
    async fn replay(&self, world: &mut World<'_>) -> Result<(), Failure> {
        let mut batch = self.batch;
        loop {
            let step = world.advance_towards(self.to, batch).await?;
            if step.done {
                return Ok(());
            }
            batch = step.batch;
        }
    }
}

/// Makes the next distribution of the client's invoice fail (or, with no invoice yet, the
/// distribution of the invoice with that number when it is created).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FailNextDistribution {
    pub client_id: i64,
    pub invoice_number: i64,
}

impl Change for FailNextDistribution {
    type Output = ();
    async fn apply(&self, world: &mut World<'_>) -> Result<(), Failure> {
        world.client(self.client_id).await?;
        world
            .fail_next_distribution(self.client_id, self.invoice_number)
            .await
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InvoiceActions {
    pub client_id: i64,
    pub request: Box<types::InvoiceActionsRequest>,
}

impl Change for InvoiceActions {
    type Output = types::InvoiceActionsResponse;
    async fn apply(&self, world: &mut World<'_>) -> Result<Self::Output, Failure> {
        world.invoice_actions(self.client_id, &self.request).await
    }
}

/// A debtor's payment arrives at the agency with a reference number.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReceivePayment {
    pub reference: String,
    pub amount: rust_decimal::Decimal,
    pub date: Option<NaiveDate>,
    pub payer: Option<String>,
}

impl Change for ReceivePayment {
    type Output = PaymentReceipt;
    async fn apply(&self, world: &mut World<'_>) -> Result<Self::Output, Failure> {
        world
            .receive_payment(&self.reference, self.amount, self.date, self.payer.clone())
            .await
    }
}

/// Runs a settlement for every client now.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RunSettlement {}

impl Change for RunSettlement {
    type Output = ();
    async fn apply(&self, world: &mut World<'_>) -> Result<(), Failure> {
        let today = world.today();
        world.run_settlement(today).await.map(drop)
    }
}

/// The client's integration fetched these settlements (sets `apiFetchDate`). Logged by
/// earlier versions, replayed for their logs; now [`FetchSettlements`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MarkSettlementsFetched {
    pub client_id: i64,
    pub settlement_ids: Vec<i64>,
}

impl Change for MarkSettlementsFetched {
    type Output = ();
    async fn apply(&self, world: &mut World<'_>) -> Result<(), Failure> {
        let now = world.now;
        world
            .mark_fetched(self.client_id, &self.settlement_ids, now)
            .await
    }
}

/// The client's integration fetches its settlements in a window: those never fetched before
/// are marked fetched (`apiFetchDate`) in the same step.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FetchSettlements {
    pub client_id: i64,
    pub window: SettlementWindow,
}

impl Change for FetchSettlements {
    type Output = Vec<types::Settlement>;
    async fn apply(&self, world: &mut World<'_>) -> Result<Self::Output, Failure> {
        world.fetch_settlements(self.client_id, &self.window).await
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubmitLedger {
    pub client_id: i64,
    pub request: Box<types::LedgerRequest>,
}

impl Change for SubmitLedger {
    type Output = types::AccountingSubmitResponse;
    async fn apply(&self, world: &mut World<'_>) -> Result<Self::Output, Failure> {
        world.submit_ledger(self.client_id, &self.request).await
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubmitAccountingPayments {
    pub client_id: i64,
    pub request: Box<types::AccountingPaymentRequest>,
}

impl Change for SubmitAccountingPayments {
    type Output = types::AccountingSubmitResponse;
    async fn apply(&self, world: &mut World<'_>) -> Result<Self::Output, Failure> {
        world
            .submit_accounting_payments(self.client_id, &self.request)
            .await
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubmitAccountingInvoice {
    pub client_id: i64,
    pub request: Box<types::AccountingInvoiceRequest>,
}

impl Change for SubmitAccountingInvoice {
    type Output = types::AccountingSubmitResponse;
    async fn apply(&self, world: &mut World<'_>) -> Result<Self::Output, Failure> {
        world
            .submit_accounting_invoices(self.client_id, &self.request)
            .await
    }
}

/// Gives a client's token an expiry (`None` removes it).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SetTokenExpiry {
    pub client_id: i64,
    pub expires_at: Option<DateTime<Utc>>,
}

impl Change for SetTokenExpiry {
    type Output = ();
    async fn apply(&self, world: &mut World<'_>) -> Result<(), Failure> {
        world.client(self.client_id).await?;
        world
            .set_token_expiry(self.client_id, self.expires_at)
            .await
    }
}

/// Back to the seeded state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Reset {}

impl Change for Reset {
    type Output = ();
    async fn apply(&self, world: &mut World<'_>) -> Result<(), Failure> {
        world.reset().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logs written by earlier versions read as the same commands.
    #[test]
    fn logged_commands_keep_their_json() {
        let cases = [
            r#"{"command":"seed"}"#,
            r#"{"command":"renewToken","client_id":1000}"#,
            r#"{"command":"advanceClock","to":"2026-03-05T08:00:00Z"}"#,
            r#"{"command":"runSettlement"}"#,
            r#"{"command":"markSettlementsFetched","client_id":1000,"settlement_ids":[1,2]}"#,
            r#"{"command":"reset"}"#,
        ];
        for json in cases {
            let command: Command = serde_json::from_str(json).unwrap();
            assert_eq!(serde_json::to_string(&command).unwrap(), json);
        }
        let renew = serde_json::to_string(&Command::from(RenewToken { client_id: 7 })).unwrap();
        assert_eq!(renew, r#"{"command":"renewToken","client_id":7}"#);
    }
}
