//! The accounting add-on: ledgers, payments and invoices submitted for the client's accounting
//! system are checked, queued as pending, and synced (or failed, with a reason) as time passes.

use chrono::{DateTime, NaiveDate, Utc};
use confirma_server::types;
use rust_decimal::Decimal;

use super::clock::Happened;
pub use super::records::accounting::{AccountingItem, Kind, SYNC_DELAY, SyncStatus};
use super::refusal::{Failure, Problem, Refusal};
use super::{World, tables};

/// What a submission is, before the accounting system has seen it.
struct Submission {
    kind: Kind,
    source: String,
    date: NaiveDate,
    name: String,
    invoice: String,
    failure: Option<String>,
}

impl Submission {
    fn pending(self, client_id: i64, now: DateTime<Utc>) -> AccountingItem {
        AccountingItem {
            seq: 0,
            client_id,
            kind: self.kind,
            source_identifier: self.source,
            document_date: self.date,
            document_name: self.name,
            invoice_number: self.invoice,
            submitted_at: now,
            status: SyncStatus::Pending,
            sync_date: None,
            description: "Pending".into(),
            failure: self.failure,
        }
    }
}

/// Chart-of-accounts numbers are three to six digits in the simulated accounting system.
fn account_ok(account: &str) -> bool {
    (3..=6).contains(&account.len()) && account.bytes().all(|b| b.is_ascii_digit())
}

impl World<'_> {
    async fn accounting_client(&mut self, client_id: i64) -> Result<(), Failure> {
        match self.client(client_id).await?.accounting_system {
            Some(_) => Ok(()),
            None => Err(Refusal::business_rule(
                "The client has no accounting integration (set service.accountingSystem when onboarding).",
            )
            .into()),
        }
    }

    /// 402 listing every submission (field path, identifier) that was already made.
    async fn refuse_resubmissions<'a>(
        &mut self,
        client_id: i64,
        kind: Kind,
        submissions: impl Iterator<Item = (String, &'a str)>,
    ) -> Result<(), Failure> {
        let mut problems = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (path, id) in submissions {
            if !seen.insert(id) {
                problems.push(Problem::new(
                    path,
                    "business",
                    "is repeated in this request",
                ));
            } else if tables::accounting_submitted(self.db(), client_id, kind, id).await? {
                problems.push(Problem::new(path, "business", "was already submitted"));
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(
            Refusal::business_rule("Some of these were already submitted.")
                .with_problems(problems)
                .into(),
        )
    }

    /// Stores new submissions and answers with their receipt.
    async fn queue(
        &mut self,
        mut items: Vec<AccountingItem>,
    ) -> Result<types::AccountingSubmitResponse, Failure> {
        for item in &mut items {
            tables::insert_accounting(self.db(), item).await?;
        }
        Self::receipt(&items)
    }

    fn receipt(items: &[AccountingItem]) -> Result<types::AccountingSubmitResponse, Failure> {
        Ok(types::AccountingSubmitResponse {
            accepted_count: super::stored::int32("an accepted count", items.len())?,
            items: items
                .iter()
                .map(|i| types::AccountingSubmitItem {
                    description: i.description.clone(),
                    source_identifier: i.source_identifier.clone(),
                    status: SyncStatus::Pending.code(),
                })
                .collect(),
        })
    }

    pub(super) async fn submit_ledger(
        &mut self,
        client_id: i64,
        request: &types::LedgerRequest,
    ) -> Result<types::AccountingSubmitResponse, Failure> {
        self.accounting_client(client_id).await?;
        let ledger = &request.ledgers;
        let net: Decimal = ledger.ledger_rows.iter().map(|r| r.net_amount).sum();
        if !net.is_zero() {
            return Err(Refusal::business_rule(format!(
                "The ledger does not balance: its net amounts sum to {net}, not 0."
            ))
            .with_problems(vec![Problem::new(
                "$.ledgers.ledgerRows",
                "business",
                "net amounts must sum to 0",
            )])
            .into());
        }
        let source = ledger.ledger_identifier.to_string();
        self.refuse_resubmissions(
            client_id,
            Kind::Ledger,
            std::iter::once(("$.ledgers.ledgerIdentifier".to_string(), source.as_str())),
        )
        .await?;
        let failure = ledger
            .ledger_rows
            .iter()
            .find(|r| !account_ok(&r.account_number))
            .map(|r| {
                format!(
                    "Failed: account {} is not in the chart of accounts",
                    r.account_number.as_str()
                )
            });
        let name = ledger
            .document_name
            .as_ref()
            .map(|n| n.to_string())
            .unwrap_or_default();
        let item = Submission {
            kind: Kind::Ledger,
            source,
            date: ledger.document_date,
            name,
            invoice: String::new(),
            failure,
        }
        .pending(client_id, self.now);
        self.queue(vec![item]).await
    }

    pub(super) async fn submit_accounting_payments(
        &mut self,
        client_id: i64,
        request: &types::AccountingPaymentRequest,
    ) -> Result<types::AccountingSubmitResponse, Failure> {
        self.accounting_client(client_id).await?;
        self.refuse_resubmissions(
            client_id,
            Kind::Payment,
            request.payments.iter().enumerate().map(|(i, p)| {
                (
                    format!("$.payments[{i}].paymentIdentifier"),
                    p.payment_identifier.as_str(),
                )
            }),
        )
        .await?;
        let mut items = Vec::new();
        for p in &request.payments {
            let known = match p.invoice_number.parse::<i64>() {
                Ok(n) => tables::invoice(self.db(), client_id, n).await?.is_some(),
                Err(_) => false,
            };
            items.push({
                let failure = (!known).then(|| {
                    format!(
                        "Failed: invoice {} is not in the accounting system",
                        p.invoice_number.as_str()
                    )
                });
                Submission {
                    kind: Kind::Payment,
                    source: p.payment_identifier.to_string(),
                    date: p.payment_date,
                    name: String::new(),
                    invoice: p.invoice_number.to_string(),
                    failure,
                }
                .pending(client_id, self.now)
            });
        }
        self.queue(items).await
    }

    pub(super) async fn submit_accounting_invoices(
        &mut self,
        client_id: i64,
        request: &types::AccountingInvoiceRequest,
    ) -> Result<types::AccountingSubmitResponse, Failure> {
        self.accounting_client(client_id).await?;
        let mut problems = Vec::new();
        for (i, inv) in request.invoices.iter().enumerate() {
            let sum = |f: fn(&types::AccountingInvoiceRow) -> Decimal| {
                inv.rows.iter().map(f).sum::<Decimal>()
            };
            for (name, total, rows) in [
                (
                    "totalNetAmount",
                    inv.total_net_amount,
                    sum(|r| r.net_amount),
                ),
                (
                    "totalVatAmount",
                    inv.total_vat_amount,
                    sum(|r| r.vat_amount),
                ),
                (
                    "totalGrossAmount",
                    inv.total_gross_amount,
                    sum(|r| r.gross_amount),
                ),
            ] {
                if total != rows {
                    problems.push(Problem::new(
                        format!("$.invoices[{i}].{name}"),
                        "business",
                        format!("is {total}, but the rows sum to {rows}"),
                    ));
                }
            }
        }
        if !problems.is_empty() {
            return Err(Refusal::invalid("The accounting invoices are invalid.", problems).into());
        }
        self.refuse_resubmissions(
            client_id,
            Kind::Invoice,
            request.invoices.iter().enumerate().map(|(i, inv)| {
                (
                    format!("$.invoices[{i}].invoiceIdentifier"),
                    inv.invoice_identifier.as_str(),
                )
            }),
        )
        .await?;
        let items: Vec<AccountingItem> = request
            .invoices
            .iter()
            .map(|inv| {
                let failure = inv
                    .rows
                    .iter()
                    .find(|r| !account_ok(&r.account_number))
                    .map(|r| {
                        format!(
                            "Failed: account {} is not in the chart of accounts",
                            r.account_number.as_str()
                        )
                    });
                Submission {
                    kind: Kind::Invoice,
                    source: inv.invoice_identifier.to_string(),
                    date: inv.invoice_date,
                    name: inv.invoice_number.to_string(),
                    invoice: inv.invoice_number.to_string(),
                    failure,
                }
                .pending(client_id, self.now)
            })
            .collect();
        self.queue(items).await
    }

    /// Settles up to `limit` of the submissions whose sync is due by `to`; returns how many.
    pub(super) async fn sync_accounting(
        &mut self,
        to: DateTime<Utc>,
        limit: i64,
        happened: &mut Happened,
    ) -> Result<usize, Failure> {
        let mut due = tables::accounting_to_sync(self.db(), to, limit).await?;
        let count = due.len();
        for item in &mut due {
            let at = (item.submitted_at + SYNC_DELAY).date_naive();
            item.sync_date = Some(at);
            happened.accounting_processed += 1;
            match item.failure.take() {
                Some(reason) => {
                    item.status = SyncStatus::Failed;
                    item.description = reason;
                }
                None => {
                    item.status = SyncStatus::Synced;
                    item.description = "Successfully synced".into();
                }
            }
            tables::update_accounting(self.db(), item).await?;
        }
        Ok(count)
    }
}
