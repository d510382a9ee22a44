//! Invoices: creation with the data validation and business rules, payment references,
//! statuses, and distribution as sandbox time passes.

use chrono::{DateTime, NaiveDate, Utc};
use confirma_server::types;
use rust_decimal::Decimal;
use sha2::Digest;

use super::checks::{
    business_id_valid, finnish_reference, normalized_reference, payment_reference_valid,
    reference_on_prefix,
};
use super::clock::Happened;
use super::money::cents;
use super::records::clients::ServiceType;
pub use super::records::invoices::{DISTRIBUTION_DELAY, DistributionRecord, InvoiceRecord};
use super::records::invoices::{
    DistributionMethod, DistributionStatus, InvoiceStatus, InvoiceType, RequestDigest,
    canonical_json,
};
use super::refusal::{Failure, Problem, Refusal};
use super::{World, tables};

fn problem(path: &str, message: impl Into<String>) -> Problem {
    Problem::new(path, "business", message)
}

/// net = quantity × (unit price − discount), with a percentage discount applied to the product.
fn row_net(row: &types::InvoiceRowData) -> Decimal {
    let gross = row.quantity * row.unit_price;
    let after_percent = match row.discount_percentage {
        Some(p) => gross - (gross * p / Decimal::ONE_HUNDRED),
        None => gross,
    };
    cents(after_percent - row.discount_amount.unwrap_or_default())
}

fn row_vat(row: &types::InvoiceRowData, net: Decimal) -> Decimal {
    cents(net * row.vat_percentage / Decimal::ONE_HUNDRED)
}

/// Row amounts that were sent must match the row's own arithmetic, and the totals the rows.
fn check_amounts(invoice: &types::InvoiceContentData, problems: &mut Vec<Problem>) {
    let (mut net_sum, mut vat_sum) = (Decimal::ZERO, Decimal::ZERO);
    for (i, row) in invoice.rows.iter().enumerate() {
        let net = row_net(row);
        let vat = row_vat(row, net);
        for (name, sent, expected) in [
            ("netAmount", row.net_amount, net),
            ("vatAmount", row.vat_amount, vat),
            ("grossAmount", row.gross_amount, net + vat),
        ] {
            if let Some(sent) = sent
                && sent != expected
            {
                problems.push(problem(
                    &format!("$.invoice.rows[{i}].{name}"),
                    format!("is {sent}, but the row's quantity, unit price, discount and VAT give {expected}"),
                ));
            }
        }
        net_sum += net;
        vat_sum += vat;
    }
    let amounts = &invoice.amounts;
    let rounding = amounts.rounding_amount.unwrap_or_default();
    for (name, sent, expected) in [
        ("totalNetAmount", amounts.total_net_amount, net_sum),
        ("totalVatAmount", amounts.total_vat_amount, vat_sum),
        (
            "totalGrossAmount",
            amounts.total_gross_amount,
            net_sum + vat_sum + rounding,
        ),
    ] {
        if sent != expected {
            problems.push(problem(
                &format!("$.invoice.amounts.{name}"),
                format!("is {sent}, but the rows sum to {expected}"),
            ));
        }
    }
}

/// What recognises this request when it is sent again: the SHA-256 of the canonical JSON of the
/// request as received (so regenerating the types changes no digest; without one, as the seed
/// makes invoices, of the typed request), and for invoices stored before, the hash they were
/// stored with (of the typed request as then serialized).
fn request_digest(
    request: &types::SalesInvoiceRequest,
    received: Option<&serde_json::Value>,
) -> Result<RequestDigest, Failure> {
    let unserializable = |e: serde_json::Error| {
        tracing::error!(error = %e, "an invoice request does not serialize");
        Failure::Internal
    };
    let typed = serde_json::to_vec(request).map_err(unserializable)?;
    let canonical = match received {
        Some(value) => canonical_json(value),
        None => canonical_json(&serde_json::to_value(request).map_err(unserializable)?),
    };
    Ok(RequestDigest {
        canonical: super::hex(&sha2::Sha256::digest(canonical.as_bytes())),
        legacy: sha2::Sha256::digest(typed).into(),
    })
}

/// Where the invoice goes by its method, and why it cannot be delivered, if it cannot:
/// (recipient, reason).
fn undeliverable(request: &types::SalesInvoiceRequest) -> (Option<String>, Option<String>) {
    let parties = &request.invoice.parties;
    let recipient = parties.invoice_recipient_party.as_ref();
    let buyer = &parties.buyer_party;
    match request.distribution.method.into() {
        DistributionMethod::Email => {
            let email = recipient
                .and_then(|r| r.email.as_ref().map(|e| e.to_string()))
                .or_else(|| {
                    buyer
                        .contact
                        .as_ref()
                        .and_then(|c| c.email.as_ref())
                        .map(|e| e.to_string())
                });
            match email {
                Some(e) => (Some(e), None),
                None => (
                    None,
                    Some("No e-mail address for the recipient or the buyer.".into()),
                ),
            }
        }
        DistributionMethod::Letter => {
            let address = recipient
                .and_then(|r| r.address.as_ref())
                .or(buyer.address.as_ref());
            let Some(address) = address else {
                return (
                    None,
                    Some("No postal address for the recipient or the buyer.".into()),
                );
            };
            let code = address
                .postal_code
                .as_ref()
                .map(|c| c.to_string())
                .unwrap_or_default();
            let country = address
                .country_code
                .as_ref()
                .map(|c| c.to_string())
                .unwrap_or_else(|| "FI".into());
            let code_ok = match country.as_str() {
                "FI" => code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit()),
                "SE" => code.replace(' ', "").len() == 5,
                _ => !code.is_empty(),
            };
            let street = address
                .street
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default();
            let district = address
                .postal_district
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default();
            if street.is_empty() || district.is_empty() || !code_ok {
                return (
                    None,
                    Some(format!(
                        "The postal address is incomplete or the postal code `{code}` is not valid for {country}; the letter was not dispatched."
                    )),
                );
            }
            (Some(format!("{street}, {code} {district}")), None)
        }
        DistributionMethod::Einvoice => {
            let account = recipient
                .and_then(|r| r.electronic_invoice_account.as_ref().map(|a| a.to_string()))
                .or_else(|| {
                    buyer
                        .electronic_invoice_account
                        .as_ref()
                        .map(|a| a.to_string())
                });
            match account {
                Some(a) => (Some(a), None),
                None => (None, Some("No e-invoice address (electronicInvoiceAccount) for the recipient or the buyer.".into())),
            }
        }
    }
}

impl World<'_> {
    /// Checks and records an invoice (its case, if it gets one, is opened by the caller:
    /// [`World::submit_invoice`]). A re-submission of the same invoice is answered as DUPLICATE
    /// and changes nothing.
    pub(super) async fn create_invoice(
        &mut self,
        client_id: i64,
        request: &types::SalesInvoiceRequest,
        received: Option<&serde_json::Value>,
    ) -> Result<(types::CreateInvoiceResponse, Option<InvoiceRecord>), Failure> {
        let client = self.client(client_id).await?;
        let invoice = &request.invoice;
        let header = &invoice.header;
        let invoice_type = header.type_.map_or(InvoiceType::Invoice, Into::into);

        // Data that is invalid whatever the state: 400 with every problem.
        let mut problems = Vec::new();
        if header.due_date < header.date {
            problems.push(problem(
                "$.invoice.header.dueDate",
                "is before the invoice date",
            ));
        }
        if !business_id_valid(&invoice.parties.seller_party.business_id) {
            problems.push(problem(
                "$.invoice.parties.sellerParty.businessId",
                "is not a valid Finnish business ID",
            ));
        }
        if let Some(id) = &invoice.parties.buyer_party.business_id
            && !id.is_empty()
            && !business_id_valid(id)
        {
            problems.push(problem(
                "$.invoice.parties.buyerParty.businessId",
                "is not a valid Finnish business ID",
            ));
        }
        let given_reference = invoice
            .references
            .as_ref()
            .and_then(|r| r.payment.as_ref())
            .map(|p| p.to_string());
        if let Some(reference) = &given_reference
            && !payment_reference_valid(reference)
        {
            problems.push(problem(
                "$.invoice.references.payment",
                "is not a valid Finnish (7-3-1 check digit) or RF (ISO 11649) reference",
            ));
        }
        if invoice.rows.is_empty() {
            problems.push(Problem::new(
                "$.invoice.rows",
                "minItems",
                "needs at least one row",
            ));
        }
        check_amounts(invoice, &mut problems);
        if !problems.is_empty() {
            return Err(Refusal::invalid("The invoice is invalid.", problems).into());
        }

        // Rules that depend on what the sandbox already holds: 402. Sending the very same
        // invoice again (a retry after a lost answer, say) is not an error: it is answered
        // with the original's data and the status DUPLICATE, and nothing changes.
        let digest = request_digest(request, received)?;
        // Incoming payments find their invoice by reference, so a reference belongs to one
        // invoice of one client: on the client's own prefix, and not used before. The invoice
        // with this number and the one with this reference are looked up together.
        let prefix = &client.payment_reference_prefix;
        let payment_reference = match &given_reference {
            Some(given) => normalized_reference(given),
            None => finnish_reference(&format!("{prefix}{}", header.number)),
        };
        let (same_number, same_reference) =
            tables::invoices_clashing(self.db(), client_id, header.number, &payment_reference)
                .await?;
        if let Some(existing) = same_number {
            if existing.is_same_request(&digest) {
                let answer = types::CreateInvoiceResponse {
                    case_id: existing.case_id,
                    invoice_number: existing.number,
                    payment_reference: existing.payment_reference.parse().ok(),
                    received_at: existing.received_at,
                    status: types::InvoiceStatus::Duplicate,
                };
                return Ok((answer, None));
            }
            return Err(Refusal::business_rule(format!(
                "Invoice number {} is already used by this client for a different invoice.",
                header.number
            ))
            .with_problems(vec![problem("$.invoice.header.number", "is already used")])
            .into());
        }
        let credited = invoice
            .references
            .as_ref()
            .and_then(|r| r.credited_invoice_number);
        let mut credited_invoice = None;
        if invoice_type == InvoiceType::CreditNote {
            let Some(n) = credited else {
                return Err(Refusal::business_rule(
                    "A credit note must reference the invoice it credits.",
                )
                .with_problems(vec![problem(
                    "$.invoice.references.creditedInvoiceNumber",
                    "is required for a CREDIT_NOTE",
                )])
                .into());
            };
            let Some(original) = tables::invoice(self.db(), client_id, n).await? else {
                return Err(Refusal::business_rule(format!(
                    "The credited invoice {n} does not exist."
                ))
                .with_problems(vec![problem(
                    "$.invoice.references.creditedInvoiceNumber",
                    "is not an invoice of this client",
                )])
                .into());
            };
            credited_invoice = Some(original);
        }

        if given_reference.is_some() && !reference_on_prefix(&payment_reference, prefix) {
            return Err(Refusal::business_rule(format!(
                "The payment reference is not on this client's payment-reference prefix {prefix}."
            ))
            .with_problems(vec![problem(
                "$.invoice.references.payment",
                format!("must start with the client's prefix {prefix} (after RF and its check digits for an RF reference)"),
            )]).into());
        }
        if let Some(user) = same_reference {
            let (owner, number) = (user.client_id, user.number);
            // Another client's use is not described: its invoices are none of this caller's
            // business.
            let used_by = if owner == client_id {
                format!("invoice {number}")
            } else {
                "another invoice".to_string()
            };
            let field = if given_reference.is_some() {
                problem(
                    "$.invoice.references.payment",
                    format!("is already used by {used_by}"),
                )
            } else {
                problem(
                    "$.invoice.header.number",
                    format!(
                        "yields the payment reference {payment_reference}, which {used_by} already uses; give a reference in invoice.references.payment"
                    ),
                )
            };
            return Err(Refusal::business_rule(format!(
                "The payment reference {payment_reference} is already used by {used_by}."
            ))
            .with_problems(vec![field])
            .into());
        }

        // Accepted: decide status and distribution.
        let intermediation_only = client.service == ServiceType::Intermediation;
        let payment_control = request.processing.payment_control_enabled && !intermediation_only;
        let status = if request.processing.manual_approval_enabled {
            InvoiceStatus::Manual
        } else {
            InvoiceStatus::Accepted
        };
        let distributed = request.distribution.enabled && status == InvoiceStatus::Accepted;
        let forced = distributed
            && self
                .take_failing_distribution(client_id, header.number)
                .await?;
        let distribution = distributed.then(|| {
            let (recipient, reason) = undeliverable(request);
            DistributionRecord {
                method: request.distribution.method.into(),
                status: DistributionStatus::Pending,
                created_at: self.now,
                distributed_at: None,
                error_message: None,
                recipient,
                undeliverable: reason.or_else(|| {
                    forced.then(|| "Delivery failed (simulated by the sandbox).".to_string())
                }),
            }
        });
        let case_id = (payment_control && invoice_type != InvoiceType::CreditNote)
            .then(|| 481_000 + self.next() as i64);
        if let Some(mut original) = credited_invoice {
            self.case_credited(&original).await?;
            original.status = InvoiceStatus::Credited;
            tables::put_invoice(self.db(), &original).await?;
        }
        let record = InvoiceRecord {
            client_id,
            number: header.number,
            invoice_type,
            date: header.date,
            due_date: header.due_date,
            currency: header.currency_code.to_string(),
            total: cents(invoice.amounts.total_gross_amount),
            payment_reference: payment_reference.clone(),
            status,
            payment_control,
            buyer_name: invoice.parties.buyer_party.name.to_string(),
            received_at: self.now,
            case_id,
            distribution,
            request_sha256: Some(digest.canonical),
            request_hash: None,
            stored_status: None,
        };
        tables::put_invoice(self.db(), &record).await?;
        let answer = types::CreateInvoiceResponse {
            case_id,
            invoice_number: header.number,
            payment_reference: payment_reference.parse().ok(),
            received_at: self.now,
            status: status.into(),
        };
        Ok((answer, Some(record)))
    }

    /// Delivers (or fails) up to `limit` of the distributions due by `to`; returns how many.
    pub(super) async fn complete_distributions(
        &mut self,
        to: DateTime<Utc>,
        limit: i64,
        happened: &mut Happened,
    ) -> Result<usize, Failure> {
        let mut due = tables::invoices_to_distribute(self.db(), to, limit).await?;
        for invoice in &mut due {
            let Some(d) = invoice.distribution.as_mut() else {
                continue;
            };
            let at = d.created_at + DISTRIBUTION_DELAY;
            match d.undeliverable.take() {
                Some(reason) => {
                    d.status = DistributionStatus::Failed;
                    d.error_message = Some(reason);
                    // An undelivered invoice does not move on to payment monitoring.
                    invoice.status = InvoiceStatus::Error;
                    happened.distribution_failed += 1;
                }
                None => {
                    d.status = match d.method {
                        DistributionMethod::Letter => DistributionStatus::Sent,
                        _ => DistributionStatus::Delivered,
                    };
                    d.distributed_at = Some(at);
                    happened.distributed += 1;
                    invoice.status = if invoice.payment_control {
                        InvoiceStatus::Invoiced
                    } else {
                        InvoiceStatus::Intermediated
                    };
                }
            }
        }
        // Their cases knew the day from the start (`CaseRecord::delivered_on`).
        tables::put_invoices(self.db(), &due).await?;
        Ok(due.len())
    }

    /// Up to `limit` payment-controlled invoices still unpaid the day after their due date
    /// become overdue (as of `day`); returns how many.
    pub(super) async fn mark_overdue(
        &mut self,
        day: NaiveDate,
        limit: i64,
        happened: &mut Happened,
    ) -> Result<usize, Failure> {
        let mut due = tables::invoices_to_overdue(self.db(), day, limit).await?;
        for invoice in &mut due {
            invoice.status = InvoiceStatus::Overdue;
            happened.overdue += 1;
        }
        tables::put_invoices(self.db(), &due).await?;
        Ok(due.len())
    }
}
