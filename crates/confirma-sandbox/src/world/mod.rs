//! The sandbox's world: every client, token, invoice and distribution, and the sandbox clock.
//!
//! The world changes only by applying a [`Change`] (logged as a [`Command`]). Application is
//! deterministic (sandbox time, ids and secrets derived from the seed, ordered maps), so
//! replaying the persisted commands on start rebuilds exactly the same world, and the same seed,
//! start date and requests give the same responses byte for byte. A change either is refused
//! without changing anything or succeeds.

pub mod accounting;
pub mod cases;
pub mod checks;
mod clients;
pub mod clock;
pub mod commands;
mod invoices;
pub mod money;
pub mod queries;
mod refusal;
mod seed;
pub mod settlements;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use confirma_server::types;
use sha2::{Digest, Sha256};

pub use accounting::{AccountingItem, Kind as AccountingKind};
pub use cases::{CaseRecord, PaymentReceipt, PaymentRecord};
pub use clients::{Caller, ClientRecord};
pub use commands::{Change, Command};
pub use invoices::{DistributionRecord, InvoiceRecord};
pub use money::cents;
pub use refusal::{Problem, Refusal};
pub use settlements::{SettlementRecord, SettlementWindow};

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

    /// Back to the seeded state (same genesis, fresh world).
    fn reset(&mut self) {
        *self = World::new(self.genesis.clone());
        self.seed();
    }

    /// The next distribution of the client's invoice `number` fails.
    fn fail_next_distribution(&mut self, client_id: i64, number: i64) {
        self.failing_distributions.insert((client_id, number));
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
