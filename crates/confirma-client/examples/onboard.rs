//! Onboard a new client (creditor) with the partner provisioning token, then check its access
//! token with `validate_token` and renew it with [`Client::renew_api_key`], which swaps the
//! key inside the running client.
//!
//! Against a local sandbox (`cargo run -p confirma-sandbox -- --in-memory`, which prints the
//! tokens):
//!
//! ```sh
//! CONFIRMA_BASE_URL=http://127.0.0.1:8080 CONFIRMA_PROVISIONING_TOKEN=<printed token> \
//!     cargo run -p confirma-client --example onboard
//! ```
//!
//! `CONFIRMA_BUSINESS_ID` picks the business ID (default `1572860-0`); a sandbox onboards each
//! business ID once.

mod common;

use std::error::Error;

use confirma_client::types::{self, ErrorCode};
use confirma_client::{ApiError, ApiKey, Client};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let business_id =
        std::env::var("CONFIRMA_BUSINESS_ID").unwrap_or_else(|_| "1572860-0".to_string());
    let provisioning = common::required(
        "CONFIRMA_PROVISIONING_TOKEN",
        "the partner provisioning token",
    )?;
    let partner = common::connect(ApiKey::new(provisioning))?;

    // 1. Onboard: the spec's example client data under our own business ID and name.
    println!("== Onboarding business ID {business_id}");
    let mut request: types::CreateClientRequest =
        serde_json::from_value(common::spec_example("createClient")?)?;
    request.client.business_code = business_id.parse()?;
    request.client.vat_reg_nbr = Some(format!("FI{}", business_id.replace('-', "")).parse()?);
    request.client.name = "Pohjanmaan Putkityö Oy".parse()?;
    let created = match partner.create_client().body(request).call().await {
        Ok(created) => created,
        Err(error) => {
            eprintln!("onboarding refused: {error}");
            for problem in error.field_errors() {
                eprintln!("  {}: {}", problem.path, problem.message);
            }
            if error.code() == Some(ErrorCode::BusinessRuleViolation) {
                eprintln!(
                    "hint: this sandbox already onboarded {business_id}; set CONFIRMA_BUSINESS_ID \
                     to another valid business ID (e.g. 0112038-9) or reset the sandbox"
                );
            }
            return Err(format!("onboarding {business_id} failed").into());
        }
    };
    println!(
        "   client {} ({}), payment references start with {}",
        created.client_id, created.customer_code, created.payment_reference_prefix
    );
    // The token is a secret: store it in your secret store, never in logs. `ApiKey`'s Debug
    // output is redacted for that reason.
    let key = ApiKey::new(created.access_token);
    println!(
        "   access token issued: {key:?} ({} characters)",
        key.expose().len()
    );

    // 2. Work as the new client.
    let client = common::connect(key.clone())?;
    let status = client.validate_token().call().await?;
    println!(
        "== validate_token: valid={} ({})",
        status.is_valid, status.message
    );
    if !status.is_valid {
        return Err("the fresh token is not valid".into());
    }

    // 3. Renew: the client keeps working with the new key, without being rebuilt.
    let renewed = client.renew_api_key().await?;
    println!("== renew_api_key: new token issued and now in use by the client");
    if renewed == key {
        return Err("renewal returned the old token".into());
    }
    let status = client.validate_token().call().await?;
    println!(
        "   validate_token with the renewed key: valid={}",
        status.is_valid
    );

    // 4. The old token stopped working at once: a typed 401.
    check_old_token_refused(&common::connect(key)?).await?;
    println!("onboard: OK");
    Ok(())
}

async fn check_old_token_refused(old: &Client) -> Result<(), Box<dyn Error>> {
    match old.validate_token().call().await {
        Err(ApiError::Api { status, body }) if status.as_u16() == 401 => {
            println!(
                "   the old token is refused: {status} {} ({})",
                body.message, body.code
            );
            Ok(())
        }
        Err(other) => Err(other.into()),
        Ok(answer) if !answer.is_valid => {
            println!("   the old token is reported invalid: {}", answer.message);
            Ok(())
        }
        Ok(_) => Err("the old token still works after renewal".into()),
    }
}
