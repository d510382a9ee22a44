//! Every operation through the typed client against Prism mocking the spec with random answers
//! (`prism mock -d`): each answer Prism makes up from the spec's schemas, success or error, must
//! decode. CI's `.ci/prism-dynamic` starts Prism and runs this with
//! `CONFIRMA_PRISM_MOCK_URL` set.

use confirma_client::{ApiKey, Client, ClientState, RetryPolicy};

use crate::spec::operations;

/// Answers per operation: a few hundred in all.
const ROUNDS: usize = 20;

#[tokio::test]
#[ignore = "needs Prism's dynamic mock (CONFIRMA_PRISM_MOCK_URL): CI's .ci/prism-dynamic runs it"]
async fn every_operation_decodes_prisms_random_answers() {
    let base = std::env::var("CONFIRMA_PRISM_MOCK_URL")
        .expect("set CONFIRMA_PRISM_MOCK_URL to a `prism mock -d` of openapi/partner-api.yaml");
    let client = Client::new(
        &base,
        ClientState::new(ApiKey::new("prism-key")).with_retry_policy(RetryPolicy::none()),
    );
    let mut failures = Vec::new();
    let mut answers = 0;
    for _ in 0..ROUNDS {
        for (_, _, op) in operations() {
            let id = op["operationId"].as_str().unwrap();
            answers += 1;
            match crate::calls::call(&client, id).await {
                Ok(_) => {}
                // A documented error status, its body decoded.
                Err(e) if e.starts_with("Error Response") => {}
                Err(e) => {
                    failures.push(format!("{id}: {}", e.chars().take(400).collect::<String>()))
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {answers} answers did not decode:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
