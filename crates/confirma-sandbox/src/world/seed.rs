//! The demo data a fresh sandbox starts with: one lifecycle client (the spec's example creditor
//! under a business ID of its own) and three of the spec's example invoices.

use chrono::Duration;
use confirma_server::{Operation, types};

use super::World;
use super::refusal::Failure;

/// The demo client's business ID (valid check digit; not the spec's example company's).
pub const DEMO_BUSINESS_ID: &str = "1234567-1";

/// The demo client's invoice numbers (not the spec's example number, so that the example can
/// be posted on a fresh sandbox).
pub const DEMO_INVOICE_NUMBERS: [i64; 3] = [202600101, 202600102, 202600103];

impl World<'_> {
    /// The demo data: one lifecycle client with a few invoices.
    pub(super) async fn seed(&mut self) -> Result<(), Failure> {
        let (client_id, token) = self.seed_demo_client().await?;
        self.demo_client = Some(client_id);
        self.demo_token = Some(token);
        Ok(())
    }

    /// Onboards the demo client (the spec's example creditor under a business ID of its own,
    /// so that the spec's onboarding example still works on a fresh sandbox); returns its id and
    /// token.
    async fn seed_demo_client(&mut self) -> Result<(i64, String), Failure> {
        let mut request: types::CreateClientRequest =
            confirma_server::runtime::example_request(Operation::CreateClient)
                .expect("createClient has a request example");
        request.client.business_code = DEMO_BUSINESS_ID.parse().expect("a valid business ID");
        request.client.vat_reg_nbr = Some(
            format!("FI{}", DEMO_BUSINESS_ID.replace('-', ""))
                .parse()
                .expect("a valid VAT number"),
        );
        let response = self.create_client(&request).await?;
        self.seed_demo_invoices(response.client_id).await?;
        Ok((response.client_id, response.access_token))
    }

    /// The demo client's invoices: the spec's example invoice, under three numbers.
    async fn seed_demo_invoices(&mut self, client_id: i64) -> Result<(), Failure> {
        let example: types::SalesInvoiceRequest =
            confirma_server::runtime::example_request(Operation::CreateInvoice)
                .expect("createInvoice has a request example");
        let start = self.today();
        for (i, number) in DEMO_INVOICE_NUMBERS.into_iter().enumerate() {
            let mut request = example.clone();
            request.invoice.header.number = number;
            request.invoice.header.date = start - Duration::days(14 - 7 * i as i64);
            request.invoice.header.due_date = request.invoice.header.date + Duration::days(14);
            if let Some(references) = request.invoice.references.as_mut() {
                references.payment = None;
            }
            self.submit_invoice(client_id, &request, None).await?;
        }
        Ok(())
    }
}
