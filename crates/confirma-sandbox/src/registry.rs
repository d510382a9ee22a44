//! The sandbox's stand-in for the national Finvoice registry: the e-invoice addresses that a
//! few known companies registered for receiving e-invoices. Fixed data, so answers never vary.

use confirma_server::types;

/// (business ID, registered name, address, type, operator id, operator name)
const REGISTRY: &[(&str, &str, &str, types::EInvoiceAddressType, &str, &str)] = &[
    (
        "0646115-8",
        "Test Company Ltd",
        "003706461158",
        types::EInvoiceAddressType::Edi,
        "003721291126",
        "Maventa",
    ),
    (
        "2942108-7",
        "Vaasan Tekniikka Oy",
        "003729421087",
        types::EInvoiceAddressType::Edi,
        "003723327487",
        "Apix Messaging Oy",
    ),
    (
        "2942108-7",
        "Vaasan Tekniikka Oy",
        "FI5657122300048216",
        types::EInvoiceAddressType::Iban,
        "OKOYFIHH",
        "OP Osuuskunta",
    ),
    (
        "3120495-4",
        "Rakennusliike Virtanen Oy",
        "003731204954",
        types::EInvoiceAddressType::Edi,
        "003701011385",
        "TietoEvry Oyj",
    ),
];

/// Every registered address of `business_id`; empty when the company is not in the registry.
pub fn finvoice_credentials(business_id: &str) -> types::FinvoiceCredentialsResponse {
    let modified = "2026-01-15T06:00:00Z".parse().ok();
    types::FinvoiceCredentialsResponse(
        REGISTRY
            .iter()
            .filter(|entry| entry.0 == business_id)
            .map(
                |(_, name, address, kind, operator_id, operator)| types::FinvoiceCredential {
                    e_invoice_address: (*address).into(),
                    e_invoice_address_name: Some((*name).into()),
                    e_invoice_address_type: *kind,
                    e_invoice_operator_id: Some((*operator_id).into()),
                    e_invoice_operator_name: Some((*operator).into()),
                    last_modified: modified,
                },
            )
            .collect(),
    )
}
