//! Values converted into the generated types through their builders: a refusal names the
//! field's whole path.

use confirma_client::types;

fn example_invoice() -> types::SalesInvoiceRequest {
    let operation = confirma_client::operation("createInvoice").unwrap();
    serde_json::from_str(operation.request_example.unwrap()).unwrap()
}

#[test]
fn a_refused_value_deep_in_a_body_names_its_path() {
    let example = example_invoice();
    let header =
        types::builder::InvoiceHeader::from(example.invoice.header.clone()).currency_code("euro");
    let invoice = types::builder::InvoiceContentData::from(example.invoice.clone()).header(header);
    let error = types::SalesInvoiceRequest::try_from(
        types::builder::SalesInvoiceRequest::from(example).invoice(invoice),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invoice.header.currency_code: doesn't match pattern \"^[A-Z]{3}$\""
    );
}

#[test]
fn a_missing_required_value_names_its_path() {
    let example = example_invoice();
    let invoice = types::builder::InvoiceContentData::from(example.invoice.clone())
        .header(types::builder::InvoiceHeader::default());
    let error = types::SalesInvoiceRequest::try_from(
        types::builder::SalesInvoiceRequest::from(example).invoice(invoice),
    )
    .unwrap_err();
    let shown = error.to_string();
    assert!(shown.starts_with("invoice.header."), "{shown}");
    assert!(shown.ends_with(": no value supplied"), "{shown}");
}
