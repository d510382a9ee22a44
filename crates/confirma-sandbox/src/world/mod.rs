//! The sandbox's world: every client, token, invoice and distribution, and the sandbox clock.
//!
//! The world changes only by executing a [`Command`]. Execution is deterministic (sandbox time,
//! ids and secrets derived from the seed, ordered maps), so replaying the persisted commands on
//! start rebuilds exactly the same world, and the same seed, start date and requests give the
//! same responses byte for byte. A command either fails without changing anything or succeeds.

pub mod accounting;
pub mod cases;
pub mod checks;
mod clients;
mod invoices;
pub mod money;
pub mod queries;
mod refusal;
mod seed;
pub mod settlements;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use confirma_server::types;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use accounting::{AccountingItem, Kind as AccountingKind};
pub use cases::{CaseRecord, PaymentReceipt, PaymentRecord};
pub use clients::{Caller, ClientRecord};
pub use invoices::{DistributionRecord, InvoiceRecord};
pub use money::cents;
pub use refusal::{Problem, Refusal};
pub use settlements::{SettlementRecord, SettlementWindow};

/// Everything that changes the world. Persisted as JSON, one record per accepted command.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "camelCase")]
pub enum Command {
    /// The demo data a fresh sandbox starts with.
    Seed,
    CreateClient {
        request: Box<types::CreateClientRequest>,
    },
    RenewToken {
        client_id: i64,
    },
    CreateInvoice {
        client_id: i64,
        request: Box<types::SalesInvoiceRequest>,
    },
    /// Moves the sandbox clock forward to `to`, running everything due on the way.
    AdvanceClock {
        to: DateTime<Utc>,
    },
    /// Makes the next distribution of the client's invoice fail (or, with no invoice yet, the
    /// distribution of the invoice with that number when it is created).
    FailNextDistribution {
        client_id: i64,
        invoice_number: i64,
    },
    InvoiceActions {
        client_id: i64,
        request: Box<types::InvoiceActionsRequest>,
    },
    /// A debtor's payment arrives at the agency with a reference number.
    ReceivePayment {
        reference: String,
        amount: rust_decimal::Decimal,
        date: Option<NaiveDate>,
        payer: Option<String>,
    },
    /// Runs a settlement for every client now.
    RunSettlement,
    /// The client's integration fetched these settlements (sets `apiFetchDate`). Logged by
    /// earlier versions, replayed for their logs; now [`Command::FetchSettlements`].
    MarkSettlementsFetched {
        client_id: i64,
        settlement_ids: Vec<i64>,
    },
    /// The client's integration fetches its settlements in a window: those never fetched before
    /// are marked fetched (`apiFetchDate`) in the same step.
    FetchSettlements {
        client_id: i64,
        window: SettlementWindow,
    },
    SubmitLedger {
        client_id: i64,
        request: Box<types::LedgerRequest>,
    },
    SubmitAccountingPayments {
        client_id: i64,
        request: Box<types::AccountingPaymentRequest>,
    },
    SubmitAccountingInvoice {
        client_id: i64,
        request: Box<types::AccountingInvoiceRequest>,
    },
    /// Gives a client's token an expiry (`None` removes it).
    SetTokenExpiry {
        client_id: i64,
        expires_at: Option<DateTime<Utc>>,
    },
    /// Back to the seeded state.
    Reset,
}

/// What a successful command produced, for the caller's answer.
#[derive(Clone, Debug)]
pub enum Effect {
    ClientCreated(types::CreateClientResponse),
    TokenRenewed(types::RenewTokenResponse),
    InvoiceCreated(types::CreateInvoiceResponse),
    ActionsApplied(types::InvoiceActionsResponse),
    Accounting(types::AccountingSubmitResponse),
    Settlements(Vec<types::Settlement>),
    /// The case a debtor's payment was allocated to.
    PaymentReceived(PaymentReceipt),
    Done,
}

/// Fixed facts of a sandbox run: the seed and the start of time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Genesis {
    pub seed: u64,
    pub start: DateTime<Utc>,
}

pub struct World {
    pub genesis: Genesis,
    pub now: DateTime<Utc>,
    /// Counter behind every generated id and secret.
    counter: u64,
    pub clients: BTreeMap<i64, ClientRecord>,
    /// SHA-256 of each live token → its owner and expiry. Tokens themselves are never stored.
    tokens: HashMap<[u8; 32], clients::TokenRecord>,
    /// (client id, invoice number) → invoice.
    pub invoices: BTreeMap<(i64, i64), InvoiceRecord>,
    /// Normalized payment reference → the (client id, invoice number) it belongs to.
    references: HashMap<String, (i64, i64)>,
    pub cases: BTreeMap<i64, CaseRecord>,
    /// Every allocated payment, in the order received.
    pub payments: Vec<PaymentRecord>,
    pub settlements: Vec<SettlementRecord>,
    pub accounting: Vec<AccountingItem>,
    /// Invoices whose next distribution is to fail, by (client id, invoice number).
    failing_distributions: std::collections::BTreeSet<(i64, i64)>,
    /// The demo client the seed created, and its current token (shown on start, kept current
    /// through renewals).
    pub demo_client: Option<i64>,
    pub demo_token: Option<String>,
}

impl World {
    pub fn new(genesis: Genesis) -> Self {
        Self {
            now: genesis.start,
            genesis,
            counter: 0,
            clients: BTreeMap::new(),
            tokens: HashMap::new(),
            invoices: BTreeMap::new(),
            references: HashMap::new(),
            cases: BTreeMap::new(),
            payments: Vec::new(),
            settlements: Vec::new(),
            accounting: Vec::new(),
            failing_distributions: Default::default(),
            demo_client: None,
            demo_token: None,
        }
    }

    /// Executes one command: all checks first, then the change. On `Err` nothing has changed.
    pub fn execute(&mut self, command: &Command) -> Result<Effect, Refusal> {
        match command {
            Command::Seed => {
                self.seed();
                Ok(Effect::Done)
            }
            Command::CreateClient { request } => {
                self.create_client(request).map(Effect::ClientCreated)
            }
            Command::RenewToken { client_id } => {
                self.renew_token(*client_id).map(Effect::TokenRenewed)
            }
            Command::CreateInvoice { client_id, request } => self
                .submit_invoice(*client_id, request)
                .map(Effect::InvoiceCreated),
            Command::InvoiceActions { client_id, request } => self
                .invoice_actions(*client_id, request)
                .map(Effect::ActionsApplied),
            Command::ReceivePayment {
                reference,
                amount,
                date,
                payer,
            } => self
                .receive_payment(reference, *amount, *date, payer.clone())
                .map(Effect::PaymentReceived),
            Command::RunSettlement => {
                self.run_settlement(self.today());
                Ok(Effect::Done)
            }
            Command::MarkSettlementsFetched {
                client_id,
                settlement_ids,
            } => {
                self.mark_fetched(*client_id, settlement_ids, self.now);
                Ok(Effect::Done)
            }
            Command::FetchSettlements { client_id, window } => Ok(Effect::Settlements(
                self.fetch_settlements(*client_id, window),
            )),
            Command::SubmitLedger { client_id, request } => self
                .submit_ledger(*client_id, request)
                .map(Effect::Accounting),
            Command::SubmitAccountingPayments { client_id, request } => self
                .submit_accounting_payments(*client_id, request)
                .map(Effect::Accounting),
            Command::SubmitAccountingInvoice { client_id, request } => self
                .submit_accounting_invoices(*client_id, request)
                .map(Effect::Accounting),
            Command::AdvanceClock { to } => {
                if *to < self.now {
                    return Err(Refusal::business_rule(format!(
                        "The sandbox clock is at {} and cannot go back to {to}.",
                        self.now.to_rfc3339()
                    )));
                }
                self.advance_to(*to);
                Ok(Effect::Done)
            }
            Command::FailNextDistribution {
                client_id,
                invoice_number,
            } => {
                self.client(*client_id)?;
                self.failing_distributions
                    .insert((*client_id, *invoice_number));
                Ok(Effect::Done)
            }
            Command::SetTokenExpiry {
                client_id,
                expires_at,
            } => {
                self.client(*client_id)?;
                self.set_token_expiry(*client_id, *expires_at);
                Ok(Effect::Done)
            }
            Command::Reset => {
                *self = World::new(self.genesis.clone());
                self.seed();
                Ok(Effect::Done)
            }
        }
    }

    /// The next value of the world's counter.
    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// A secret derived from the seed and the counter: deterministic, yet unguessable without
    /// the seed.
    fn secret(&mut self, purpose: &str) -> String {
        let n = self.next();
        hex(&Sha256::digest(format!(
            "{}:{purpose}:{n}",
            self.genesis.seed
        )))
    }

    pub fn client(&self, id: i64) -> Result<&ClientRecord, Refusal> {
        self.clients
            .get(&id)
            .ok_or_else(|| Refusal::not_found(format!("No client {id}.")))
    }

    pub fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }

    /// Runs everything that falls due between now and `to`, in time order, then sets the clock.
    fn advance_to(&mut self, to: DateTime<Utc>) {
        self.complete_distributions(to);
        self.sync_accounting(to);
        // Day by day, so that each day's processes see the state the previous day left.
        let mut day = self.today();
        while day < to.date_naive() {
            day += Duration::days(1);
            self.run_daily(day);
        }
        self.now = to;
    }

    fn run_daily(&mut self, day: NaiveDate) {
        self.mark_overdue(day);
        self.escalate(day);
        if Self::is_settlement_day(day) {
            self.run_settlement(day);
        }
    }

    /// An invoice submitted by a client: checked and recorded, and its case opened when it is
    /// payment-controlled (a DUPLICATE re-submission opens nothing).
    fn submit_invoice(
        &mut self,
        client_id: i64,
        request: &types::SalesInvoiceRequest,
    ) -> Result<types::CreateInvoiceResponse, Refusal> {
        let accepted = self.create_invoice(client_id, request)?;
        if accepted.status != types::InvoiceStatus::Duplicate
            && let Some(case_id) = accepted.case_id
        {
            let terms = cases::CaseTerms::of(&request.invoice);
            self.open_case(case_id, client_id, accepted.invoice_number, terms);
        }
        Ok(accepted)
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a token, the only form in which tokens are kept.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}
