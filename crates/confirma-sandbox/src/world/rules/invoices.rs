//! The rules of a new invoice, as pure functions: its request checked on its own (400), then
//! against what the sandbox holds (402, or DUPLICATE), deciding the records to write. The caller
//! loads what [`decide`] needs and writes what it decides; nothing here touches storage.

use chrono::{DateTime, Utc};
use confirma_server::types;
use rust_decimal::Decimal;

use crate::world::checks::{
    business_id_valid, finnish_reference, normalized_reference, payment_reference_valid,
    reference_on_prefix,
};
use crate::world::money::cents;
use crate::world::records::clients::{ClientRecord, ServiceType};
use crate::world::records::invoices::{
    DistributionMethod, DistributionRecord, DistributionStatus, InvoiceRecord, InvoiceStatus,
    InvoiceType, RequestDigest,
};
use crate::world::refusal::{Problem, Refusal};

/// A request that passed the checks of its own data, and what it asks of the state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub invoice_type: InvoiceType,
    /// The payment reference it gave (normalized), or the one made of the client's prefix and
    /// the invoice number.
    pub payment_reference: String,
    pub reference_given: bool,
    /// For a credit note, the number of the invoice it credits, to be loaded.
    pub credits: Option<i64>,
}

/// What the sandbox holds that a new invoice's rules look at.
#[derive(Clone, Debug, Default)]
pub struct Held {
    /// The client's invoice of this number.
    pub same_number: Option<InvoiceRecord>,
    /// The invoice (of any client) with this payment reference.
    pub same_reference: Option<InvoiceRecord>,
    /// The invoice a credit note credits, if the client has it.
    pub credited: Option<InvoiceRecord>,
    /// Whether the sandbox was told to fail this invoice's next distribution.
    pub fails_next: bool,
}

/// What a submitted invoice comes to.
#[derive(Clone, Debug)]
pub enum Decision {
    /// The very same invoice sent again: answered with the original's data, nothing changes.
    Duplicate(types::CreateInvoiceResponse),
    /// A new invoice to store.
    New(Box<NewInvoice>),
}

/// The writes of a new invoice, and its answer.
#[derive(Clone, Debug)]
pub struct NewInvoice {
    pub record: InvoiceRecord,
    /// The invoice a credit note credits, now CREDITED (its case stops accruing).
    pub credited: Option<InvoiceRecord>,
    /// The told failure of its distribution is used up.
    pub takes_failing: bool,
    pub answer: types::CreateInvoiceResponse,
}

/// The payment reference of the client's invoice `number`: the one it gave (normalized), or the
/// one made of the client's prefix and the number.
pub fn payment_reference(given: Option<&str>, number: i64, client: &ClientRecord) -> String {
    match given {
        Some(given) => normalized_reference(given),
        None => finnish_reference(&format!("{}{number}", client.payment_reference_prefix)),
    }
}

/// The payment reference a request gives, as given (not yet checked or normalized).
pub fn given_reference(request: &types::SalesInvoiceRequest) -> Option<String> {
    request
        .invoice
        .references
        .as_ref()
        .and_then(|r| r.payment.as_ref())
        .map(|p| p.to_string())
}

/// The request's own data: every problem at once, as a 400.
pub fn check(
    request: &types::SalesInvoiceRequest,
    client: &ClientRecord,
) -> Result<Checked, Refusal> {
    let invoice = &request.invoice;
    let header = &invoice.header;
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
    let given_reference = given_reference(request);
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
        return Err(Refusal::invalid("The invoice is invalid.", problems));
    }
    let invoice_type = header.type_.map_or(InvoiceType::Invoice, Into::into);
    Ok(Checked {
        invoice_type,
        payment_reference: payment_reference(given_reference.as_deref(), header.number, client),
        reference_given: given_reference.is_some(),
        credits: (invoice_type == InvoiceType::CreditNote)
            .then(|| {
                invoice
                    .references
                    .as_ref()
                    .and_then(|r| r.credited_invoice_number)
            })
            .flatten(),
    })
}

/// The request against what the sandbox holds: DUPLICATE for the very same invoice again, a 402
/// for a used number or reference, a credit note without its invoice or a reference off the
/// client's prefix; else the new invoice (a case id taken from `new_case_id` when it is
/// payment-controlled), received `now`.
pub fn decide(
    request: &types::SalesInvoiceRequest,
    checked: Checked,
    client: &ClientRecord,
    held: Held,
    digest: RequestDigest,
    now: DateTime<Utc>,
    new_case_id: impl FnOnce() -> i64,
) -> Result<Decision, Refusal> {
    let invoice = &request.invoice;
    let header = &invoice.header;
    let Checked {
        invoice_type,
        payment_reference,
        reference_given,
        credits,
    } = checked;
    // Sending the very same invoice again (a retry after a lost answer, say) is not an error.
    if let Some(existing) = held.same_number {
        if existing.is_same_request(&digest) {
            return Ok(Decision::Duplicate(types::CreateInvoiceResponse {
                case_id: existing.case_id,
                invoice_number: existing.number,
                payment_reference: existing.payment_reference.parse().ok(),
                received_at: existing.received_at,
                status: types::InvoiceStatus::Duplicate,
            }));
        }
        return Err(Refusal::business_rule(format!(
            "Invoice number {} is already used by this client for a different invoice.",
            header.number
        ))
        .with_problems(vec![problem("$.invoice.header.number", "is already used")]));
    }
    let mut credited = None;
    if invoice_type == InvoiceType::CreditNote {
        let Some(n) = credits else {
            return Err(Refusal::business_rule(
                "A credit note must reference the invoice it credits.",
            )
            .with_problems(vec![problem(
                "$.invoice.references.creditedInvoiceNumber",
                "is required for a CREDIT_NOTE",
            )]));
        };
        let Some(mut original) = held.credited else {
            return Err(Refusal::business_rule(format!(
                "The credited invoice {n} does not exist."
            ))
            .with_problems(vec![problem(
                "$.invoice.references.creditedInvoiceNumber",
                "is not an invoice of this client",
            )]));
        };
        original.status = InvoiceStatus::Credited;
        credited = Some(original);
    }
    // Incoming payments find their invoice by reference, so a reference belongs to one invoice
    // of one client: on the client's own prefix, and not used before.
    let prefix = &client.payment_reference_prefix;
    if reference_given && !reference_on_prefix(&payment_reference, prefix) {
        return Err(Refusal::business_rule(format!(
            "The payment reference is not on this client's payment-reference prefix {prefix}."
        ))
        .with_problems(vec![problem(
            "$.invoice.references.payment",
            format!("must start with the client's prefix {prefix} (after RF and its check digits for an RF reference)"),
        )]));
    }
    if let Some(user) = held.same_reference {
        let (owner, number) = (user.client_id, user.number);
        // Another client's use is not described: its invoices are none of this caller's business.
        let used_by = if owner == client.id {
            format!("invoice {number}")
        } else {
            "another invoice".to_string()
        };
        let field = if reference_given {
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
        .with_problems(vec![field]));
    }

    // Accepted: its status, distribution and case.
    let intermediation_only = client.service == ServiceType::Intermediation;
    let payment_control = request.processing.payment_control_enabled && !intermediation_only;
    let status = if request.processing.manual_approval_enabled {
        InvoiceStatus::Manual
    } else {
        InvoiceStatus::Accepted
    };
    let distributed = request.distribution.enabled && status == InvoiceStatus::Accepted;
    let takes_failing = distributed && held.fails_next;
    let distribution = distributed.then(|| {
        let (recipient, reason) = undeliverable(request);
        DistributionRecord {
            method: request.distribution.method.into(),
            status: DistributionStatus::Pending,
            created_at: now,
            distributed_at: None,
            error_message: None,
            recipient,
            undeliverable: reason.or_else(|| {
                takes_failing.then(|| "Delivery failed (simulated by the sandbox).".to_string())
            }),
        }
    });
    let case_id = (payment_control && invoice_type != InvoiceType::CreditNote).then(new_case_id);
    let record = InvoiceRecord {
        client_id: client.id,
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
        received_at: now,
        case_id,
        distribution,
        request_sha256: Some(digest.canonical),
        request_hash: None,
        stored_status: None,
    };
    let answer = types::CreateInvoiceResponse {
        case_id,
        invoice_number: header.number,
        payment_reference: payment_reference.parse().ok(),
        received_at: now,
        status: status.into(),
    };
    Ok(Decision::New(Box::new(NewInvoice {
        record,
        credited,
        takes_failing,
        answer,
    })))
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::checks::finnish_reference;

    /// The spec's example invoice, as the client `client()` sends it.
    fn request() -> types::SalesInvoiceRequest {
        let example = confirma_server::Operation::CreateInvoice
            .info()
            .request_example
            .unwrap();
        serde_json::from_str(example).unwrap()
    }

    use crate::world::records::clients::tests::client;

    fn now() -> DateTime<Utc> {
        "2026-03-02T08:00:00Z".parse().unwrap()
    }

    fn digest(canonical: &str) -> RequestDigest {
        RequestDigest {
            canonical: canonical.into(),
            legacy: Some([0; 32]),
        }
    }

    /// The paths of a refusal's problems, and whether it is a 400 (invalid) or a 402.
    fn refused<T: std::fmt::Debug>(result: Result<T, Refusal>) -> (&'static str, Vec<String>) {
        match result.unwrap_err() {
            Refusal::Invalid { problems, .. } => {
                ("invalid", problems.into_iter().map(|p| p.path).collect())
            }
            Refusal::BusinessRule { problems, .. } => {
                ("business", problems.into_iter().map(|p| p.path).collect())
            }
            other => panic!("unexpected refusal {other:?}"),
        }
    }

    /// `decide` on the request with what `held` says the sandbox holds; a case id is 481001.
    fn decided(request: &types::SalesInvoiceRequest, held: Held) -> Result<Decision, Refusal> {
        let checked = check(request, &client())?;
        decide(
            request,
            checked,
            &client(),
            held,
            digest("this"),
            now(),
            || 481_001,
        )
    }

    fn new_invoice(decision: Result<Decision, Refusal>) -> NewInvoice {
        match decision.unwrap() {
            Decision::New(new) => *new,
            Decision::Duplicate(answer) => panic!("a duplicate: {answer:?}"),
        }
    }

    /// A stored invoice of the client: the example's, created from `canonical`.
    fn stored(number: i64, canonical: &str) -> InvoiceRecord {
        let mut record = new_invoice(decided(&request(), Held::default())).record;
        record.number = number;
        record.request_sha256 = Some(canonical.into());
        record
    }

    #[test]
    fn an_invoice_s_own_data_is_checked_with_every_problem_at_once() {
        let mut bad = request();
        bad.invoice.header.due_date = "2026-01-01".parse().unwrap();
        bad.invoice.parties.seller_party.business_id = "2942108-1".parse().unwrap();
        bad.invoice.parties.buyer_party.business_id = Some("3120495-5".parse().unwrap());
        bad.invoice.references.as_mut().unwrap().payment = Some("12345".parse().unwrap());
        bad.invoice.rows[0].net_amount = Some(Decimal::ONE);
        bad.invoice.amounts.total_gross_amount += Decimal::ONE;
        assert_eq!(
            refused(check(&bad, &client())),
            (
                "invalid",
                vec![
                    "$.invoice.header.dueDate".to_string(),
                    "$.invoice.parties.sellerParty.businessId".into(),
                    "$.invoice.parties.buyerParty.businessId".into(),
                    "$.invoice.references.payment".into(),
                    "$.invoice.rows[0].netAmount".into(),
                    "$.invoice.amounts.totalGrossAmount".into(),
                ]
            )
        );
        let mut rowless = request();
        rowless.invoice.rows.clear();
        let (kind, paths) = refused(check(&rowless, &client()));
        assert_eq!(kind, "invalid");
        assert!(paths.contains(&"$.invoice.rows".to_string()), "{paths:?}");
    }

    #[test]
    fn a_valid_invoice_gets_the_client_s_reference_or_keeps_its_own() {
        let checked = check(&request(), &client()).unwrap();
        assert_eq!(
            checked.payment_reference,
            finnish_reference("1044202600145")
        );
        assert!(!checked.reference_given && checked.credits.is_none());
        assert_eq!(checked.invoice_type, InvoiceType::Invoice);
        let mut given = request();
        let reference = finnish_reference("10449");
        given.invoice.references.as_mut().unwrap().payment = Some(
            format!("{} {}", &reference[..3], &reference[3..])
                .parse()
                .unwrap(),
        );
        let checked = check(&given, &client()).unwrap();
        assert_eq!(
            (checked.payment_reference, checked.reference_given),
            (reference, true)
        );
    }

    #[test]
    fn the_same_invoice_again_is_a_duplicate_and_another_under_its_number_is_refused() {
        let held = |canonical| Held {
            same_number: Some(stored(202600145, canonical)),
            ..Held::default()
        };
        match decided(&request(), held("this")).unwrap() {
            Decision::Duplicate(answer) => {
                assert_eq!(answer.status, types::InvoiceStatus::Duplicate);
                assert_eq!(answer.case_id, Some(481_001));
            }
            Decision::New(_) => panic!("not recognised"),
        }
        assert_eq!(
            refused(decided(&request(), held("another"))),
            ("business", vec!["$.invoice.header.number".to_string()])
        );
        // Stored before the canonical digest: its legacy hash decides.
        let mut old = stored(202600145, "this");
        (old.request_sha256, old.request_hash) = (None, Some([0; 32]));
        let held = Held {
            same_number: Some(old),
            ..Held::default()
        };
        assert!(matches!(
            decided(&request(), held),
            Ok(Decision::Duplicate(_))
        ));
    }

    #[test]
    fn a_credit_note_needs_an_invoice_of_the_client_which_it_credits_without_a_case() {
        let mut note = request();
        note.invoice.header.type_ = Some(types::InvoiceHeaderType::CreditNote);
        assert_eq!(
            refused(decided(&note, Held::default())),
            (
                "business",
                vec!["$.invoice.references.creditedInvoiceNumber".to_string()]
            )
        );
        note.invoice
            .references
            .as_mut()
            .unwrap()
            .credited_invoice_number = Some(7);
        assert_eq!(check(&note, &client()).unwrap().credits, Some(7));
        assert_eq!(
            refused(decided(&note, Held::default())),
            (
                "business",
                vec!["$.invoice.references.creditedInvoiceNumber".to_string()]
            )
        );
        let held = Held {
            credited: Some(stored(7, "original")),
            ..Held::default()
        };
        let new = new_invoice(decided(&note, held));
        let credited = new.credited.unwrap();
        assert_eq!(
            (credited.number, credited.status),
            (7, InvoiceStatus::Credited)
        );
        assert_eq!(new.record.case_id, None, "a credit note opens no case");
        assert_eq!(new.record.invoice_type, InvoiceType::CreditNote);
    }

    #[test]
    fn a_payment_reference_is_on_the_client_s_prefix_and_used_once() {
        let mut off_prefix = request();
        off_prefix.invoice.references.as_mut().unwrap().payment =
            Some(finnish_reference("20449").parse().unwrap());
        assert_eq!(
            refused(decided(&off_prefix, Held::default())),
            ("business", vec!["$.invoice.references.payment".to_string()])
        );
        let used = |client_id| Held {
            same_reference: Some(InvoiceRecord {
                client_id,
                ..stored(5, "other")
            }),
            ..Held::default()
        };
        // The reference made from the number is taken: the number is at fault.
        let own = decided(&request(), used(1000)).unwrap_err();
        assert!(own.to_string().contains("invoice 5"), "{own}");
        assert_eq!(
            refused(decided(&request(), used(1000))),
            ("business", vec!["$.invoice.header.number".to_string()])
        );
        // Another client's invoice is not described.
        let other = decided(&request(), used(2000)).unwrap_err();
        assert!(other.to_string().contains("another invoice"), "{other}");
        let mut given = request();
        given.invoice.references.as_mut().unwrap().payment =
            Some(finnish_reference("10449").parse().unwrap());
        assert_eq!(
            refused(decided(&given, used(2000))),
            ("business", vec!["$.invoice.references.payment".to_string()])
        );
    }

    #[test]
    fn an_accepted_invoice_s_status_distribution_and_case_follow_its_processing() {
        let new = new_invoice(decided(&request(), Held::default()));
        assert_eq!(new.record.status, InvoiceStatus::Accepted);
        assert_eq!(new.record.case_id, Some(481_001));
        assert!(new.record.payment_control && !new.takes_failing);
        let d = new.record.distribution.as_ref().unwrap();
        assert_eq!(
            (d.method, d.status),
            (DistributionMethod::Email, DistributionStatus::Pending)
        );
        assert_eq!(d.undeliverable, None);
        assert_eq!(new.answer.status, types::InvoiceStatus::Accepted);
        assert_eq!(new.record.request_sha256.as_deref(), Some("this"));

        // Manual approval: MANUAL, and nothing is distributed (a told failure stays).
        let mut manual = request();
        manual.processing.manual_approval_enabled = true;
        let held = Held {
            fails_next: true,
            ..Held::default()
        };
        let new = new_invoice(decided(&manual, held.clone()));
        assert_eq!(new.record.status, InvoiceStatus::Manual);
        assert!(new.record.distribution.is_none() && !new.takes_failing);

        // Distributed with a told failure: it is used up and the delivery will fail.
        let new = new_invoice(decided(&request(), held));
        assert!(new.takes_failing);
        assert!(new.record.distribution.unwrap().undeliverable.is_some());

        // An intermediation client: no payment control, so no case.
        let intermediation = ClientRecord {
            service: ServiceType::Intermediation,
            ..client()
        };
        let checked = check(&request(), &intermediation).unwrap();
        let new = match decide(
            &request(),
            checked,
            &intermediation,
            Held::default(),
            digest("this"),
            now(),
            || unreachable!("no case"),
        )
        .unwrap()
        {
            Decision::New(new) => new,
            Decision::Duplicate(_) => panic!("a duplicate"),
        };
        assert!(!new.record.payment_control && new.record.case_id.is_none());

        // No address for the method: the delivery will fail, saying why.
        let mut letter = request();
        letter.distribution.method = types::DistributionMethod::Letter;
        letter.invoice.parties.buyer_party.address = None;
        let new = new_invoice(decided(&letter, Held::default()));
        let reason = new.record.distribution.unwrap().undeliverable.unwrap();
        assert!(reason.contains("No postal address"), "{reason}");
    }
}
