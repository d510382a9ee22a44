//! Every change to the world as a type of its own: what it needs (its fields), what it answers
//! ([`Change::Output`]) and how it applies. [`Command`] is the logged form of any of them; its
//! JSON is the change's fields with a `command` tag, so logs written before these types replay.

use chrono::{DateTime, NaiveDate, Utc};
use confirma_server::types;
use serde::{Deserialize, Serialize};

use super::clock::Happened;
use super::{PaymentReceipt, Refusal, SettlementWindow, World};

/// A change to the world. `apply` checks everything first and changes nothing when it refuses;
/// it is deterministic, so replaying the logged command rebuilds the same world.
pub trait Change: Logs {
    type Output;
    fn apply(&self, world: &mut World) -> Result<Self::Output, Refusal>;
}

/// What every change is logged as (implemented for each by [`commands!`]).
pub trait Logs {
    fn logged(&self) -> Logged<'_>;
}

macro_rules! commands {
    ($($name:ident),* $(,)?) => {
        /// Any change, as it is logged (one record per accepted change).
        #[derive(Clone, Debug, Serialize, Deserialize)]
        #[serde(tag = "command", rename_all = "camelCase")]
        pub enum Command {
            $($name($name),)*
        }

        /// Any change, borrowed, as it is logged: the JSON of [`Command`], without a copy.
        #[derive(Serialize)]
        #[serde(tag = "command", rename_all = "camelCase")]
        pub enum Logged<'a> {
            $($name(&'a $name),)*
        }

        $(impl Logs for $name {
            fn logged(&self) -> Logged<'_> {
                Logged::$name(self)
            }
        })*

        $(impl From<$name> for Command {
            fn from(change: $name) -> Self {
                Command::$name(change)
            }
        })*

        impl Command {
            /// Applies the logged change again, dropping its answer.
            pub fn replay(&self, world: &mut World) -> Result<(), Refusal> {
                match self {
                    $(Command::$name(change) => change.apply(world).map(drop),)*
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
    fn apply(&self, world: &mut World) -> Result<(), Refusal> {
        world.seed();
        Ok(())
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreateClient {
    pub request: Box<types::CreateClientRequest>,
}

impl Change for CreateClient {
    type Output = types::CreateClientResponse;
    fn apply(&self, world: &mut World) -> Result<Self::Output, Refusal> {
        world.create_client(&self.request)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RenewToken {
    pub client_id: i64,
}

impl Change for RenewToken {
    type Output = types::RenewTokenResponse;
    fn apply(&self, world: &mut World) -> Result<Self::Output, Refusal> {
        world.renew_token(self.client_id)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreateInvoice {
    pub client_id: i64,
    pub request: Box<types::SalesInvoiceRequest>,
}

impl Change for CreateInvoice {
    type Output = types::CreateInvoiceResponse;
    fn apply(&self, world: &mut World) -> Result<Self::Output, Refusal> {
        world.submit_invoice(self.client_id, &self.request)
    }
}

/// Moves the sandbox clock forward to `to`, running everything due on the way.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdvanceClock {
    pub to: DateTime<Utc>,
}

impl Change for AdvanceClock {
    type Output = Happened;
    fn apply(&self, world: &mut World) -> Result<Happened, Refusal> {
        if self.to < world.now {
            return Err(Refusal::business_rule(format!(
                "The sandbox clock is at {} and cannot go back to {}.",
                world.now.to_rfc3339(),
                self.to
            )));
        }
        Ok(world.advance_to(self.to))
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
    fn apply(&self, world: &mut World) -> Result<(), Refusal> {
        world.client(self.client_id)?;
        world.fail_next_distribution(self.client_id, self.invoice_number);
        Ok(())
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InvoiceActions {
    pub client_id: i64,
    pub request: Box<types::InvoiceActionsRequest>,
}

impl Change for InvoiceActions {
    type Output = types::InvoiceActionsResponse;
    fn apply(&self, world: &mut World) -> Result<Self::Output, Refusal> {
        world.invoice_actions(self.client_id, &self.request)
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
    fn apply(&self, world: &mut World) -> Result<Self::Output, Refusal> {
        world.receive_payment(&self.reference, self.amount, self.date, self.payer.clone())
    }
}

/// Runs a settlement for every client now.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RunSettlement {}

impl Change for RunSettlement {
    type Output = ();
    fn apply(&self, world: &mut World) -> Result<(), Refusal> {
        world.run_settlement(world.today());
        Ok(())
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
    fn apply(&self, world: &mut World) -> Result<(), Refusal> {
        world.mark_fetched(self.client_id, &self.settlement_ids, world.now);
        Ok(())
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
    fn apply(&self, world: &mut World) -> Result<Self::Output, Refusal> {
        Ok(world.fetch_settlements(self.client_id, &self.window))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubmitLedger {
    pub client_id: i64,
    pub request: Box<types::LedgerRequest>,
}

impl Change for SubmitLedger {
    type Output = types::AccountingSubmitResponse;
    fn apply(&self, world: &mut World) -> Result<Self::Output, Refusal> {
        world.submit_ledger(self.client_id, &self.request)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubmitAccountingPayments {
    pub client_id: i64,
    pub request: Box<types::AccountingPaymentRequest>,
}

impl Change for SubmitAccountingPayments {
    type Output = types::AccountingSubmitResponse;
    fn apply(&self, world: &mut World) -> Result<Self::Output, Refusal> {
        world.submit_accounting_payments(self.client_id, &self.request)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubmitAccountingInvoice {
    pub client_id: i64,
    pub request: Box<types::AccountingInvoiceRequest>,
}

impl Change for SubmitAccountingInvoice {
    type Output = types::AccountingSubmitResponse;
    fn apply(&self, world: &mut World) -> Result<Self::Output, Refusal> {
        world.submit_accounting_invoices(self.client_id, &self.request)
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
    fn apply(&self, world: &mut World) -> Result<(), Refusal> {
        world.client(self.client_id)?;
        world.set_token_expiry(self.client_id, self.expires_at);
        Ok(())
    }
}

/// Back to the seeded state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Reset {}

impl Change for Reset {
    type Output = ();
    fn apply(&self, world: &mut World) -> Result<(), Refusal> {
        world.reset();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logs written with the earlier struct-variant enum read as the same commands.
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
        // The borrowed form the sandbox logs writes the very same JSON.
        let logged = serde_json::to_string(&RenewToken { client_id: 7 }.logged()).unwrap();
        assert_eq!(logged, renew);
        assert_eq!(
            serde_json::to_string(&Seed {}.logged()).unwrap(),
            r#"{"command":"seed"}"#
        );
    }
}
