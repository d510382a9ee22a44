//! What the examples share: configuration from the environment, a client for it, and the
//! sandbox's control API (`/sandbox/...`, outside the Partner API), which moves the sandbox
//! clock and plays the debtor's bank. Only the sandbox has a control API; against staging or
//! production the examples' `Sandbox` calls have no counterpart — time passes by itself there.

// Each example uses its own part of this module.
#![allow(dead_code)]

use std::env;
use std::error::Error;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use confirma_client::{ApiError, ApiKey, Client, Environment, types};
use reqwest::Url;
use rust_decimal::Decimal;
use serde_json::{Value, json};

pub type Result<T, E = Box<dyn Error>> = std::result::Result<T, E>;

/// `CONFIRMA_BASE_URL`, by default the sandbox's default address.
pub fn base_url() -> String {
    env::var("CONFIRMA_BASE_URL").unwrap_or_else(|_| confirma_client::SANDBOX_URL.to_string())
}

/// The sandbox itself, for its control API: `CONFIRMA_SANDBOX_URL`, or the
/// base URL (they differ when the Partner API is reached through a proxy).
pub fn sandbox_url() -> String {
    env::var("CONFIRMA_SANDBOX_URL")
        .unwrap_or_else(|_| base_url())
        .trim_end_matches('/')
        .to_string()
}

/// An environment variable the example cannot run without.
pub fn required(name: &str, what: &str) -> Result<String> {
    match env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(format!("set {name} to {what} (the sandbox prints it when it starts)").into()),
    }
}

/// A client for `CONFIRMA_BASE_URL` authenticating with `key`: timeouts and retries included.
pub fn connect(key: ApiKey) -> Result<Client> {
    let environment = Environment::Custom(Url::parse(&base_url())?);
    Ok(Client::connect(environment, key)?)
}

/// A client for `CONFIRMA_BASE_URL` with the client token in `CONFIRMA_API_KEY`.
pub fn connect_from_env() -> Result<Client> {
    connect(ApiKey::new(required(
        "CONFIRMA_API_KEY",
        "a client's access token",
    )?))
}

/// The sandbox's control API, with the admin token in `CONFIRMA_SANDBOX_ADMIN_TOKEN`.
pub struct Sandbox {
    http: reqwest::Client,
    base: String,
    admin_token: String,
}

impl Sandbox {
    pub fn from_env() -> Result<Self> {
        Ok(Self {
            http: reqwest::Client::new(),
            base: sandbox_url(),
            admin_token: required("CONFIRMA_SANDBOX_ADMIN_TOKEN", "the sandbox's admin token")?,
        })
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value> {
        let response = request
            .header("X-Admin-Token", &self.admin_token)
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            return Err(format!("sandbox control API answered {status}: {text}").into());
        }
        Ok(serde_json::from_str(&text)?)
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        self.call(self.http.post(format!("{}{path}", self.base)).json(&body))
            .await
    }

    /// The sandbox clock.
    pub async fn now(&self) -> Result<DateTime<Utc>> {
        let clock = self
            .call(self.http.get(format!("{}/sandbox/clock", self.base)))
            .await?;
        clock_of(clock)
    }

    /// Today in sandbox time: invoices are dated by it, not by the computer's clock.
    pub async fn today(&self) -> Result<NaiveDate> {
        Ok(self.now().await?.date_naive())
    }

    /// Moves the sandbox clock forward (`{"days": 1}`, `{"minutes": 5}`, ...); everything
    /// due meanwhile happens. Returns the new sandbox time.
    pub async fn advance(&self, step: Value) -> Result<DateTime<Utc>> {
        clock_of(self.post("/sandbox/clock/advance", step).await?)
    }

    /// Advances to the next Monday, when the sandbox runs its weekly settlement.
    pub async fn advance_to_monday(&self) -> Result<DateTime<Utc>> {
        let weekday = self.today().await?.weekday().num_days_from_monday();
        let days = 7 - weekday; // from a Monday, the next one
        self.advance(json!({ "days": days })).await
    }

    /// A debtor's payment arriving at the collection agency with the invoice's reference.
    pub async fn pay(&self, reference: &str, amount: Decimal) -> Result<()> {
        self.post(
            "/sandbox/payments",
            json!({ "reference": reference, "amount": amount, "payer": "Rakennusliike Virtanen Oy" }),
        )
        .await?;
        Ok(())
    }
}

fn clock_of(answer: Value) -> Result<DateTime<Utc>> {
    Ok(answer["now"]
        .as_str()
        .ok_or("the sandbox clock answer has no `now`")?
        .parse()?)
}

/// The spec's request example of `operation_id`, as the crate embeds it: complete, valid data
/// to start from, whatever server the example talks to.
pub fn spec_example(operation_id: &str) -> Result<Value> {
    let operation = confirma_client::operation(operation_id)
        .ok_or_else(|| format!("no operation {operation_id} in the spec"))?;
    let example = operation
        .request_example
        .ok_or_else(|| format!("{operation_id} has no request example"))?;
    Ok(serde_json::from_str(example)?)
}

/// The spec's example invoice (912.39 EUR, e-mailed, in payment control) under `number`,
/// dated `date` and due two weeks later, with the payment reference left to the service.
pub async fn example_invoice(number: i64, date: NaiveDate) -> Result<types::SalesInvoiceRequest> {
    let mut invoice = spec_example("createInvoice")?;
    let header = &mut invoice["invoice"]["header"];
    header["number"] = json!(number);
    header["date"] = json!(date);
    header["dueDate"] = json!(date + chrono::Days::new(14));
    invoice["invoice"]["references"]["payment"] = Value::Null;
    Ok(serde_json::from_value(invoice)?)
}

/// Submits the example invoice dated `date` under `number` as a new invoice, or under the next
/// free number if this client already used it, so that an example can run again against the
/// same sandbox. (A real integration takes its numbers from its billing system, where a
/// duplicate is a bug.)
pub async fn submit_invoice(
    client: &Client,
    number: i64,
    date: NaiveDate,
) -> Result<types::CreateInvoiceResponse> {
    let mut invoice = example_invoice(number, date).await?;
    for number in number..number + 100 {
        invoice.invoice.header.number = number;
        match client.create_invoice().body(invoice.clone()).call().await {
            // The very same invoice sent again is answered with the original and `DUPLICATE`.
            Ok(created) if created.status == types::InvoiceStatus::Duplicate => {
                println!("   invoice {number} was submitted before, trying the next number");
            }
            Ok(created) => return Ok(created),
            Err(error) => match error {
                ApiError::Api { body, .. }
                    if body.code == types::ErrorCode::BusinessRuleViolation
                        && body
                            .field_errors
                            .iter()
                            .any(|f| f.path == "$.invoice.header.number") =>
                {
                    println!("   invoice number {number} is taken, trying the next one");
                }
                other => return Err(other.into()),
            },
        }
    }
    Err(format!("invoice numbers {number}.. are all taken: reset the sandbox").into())
}
