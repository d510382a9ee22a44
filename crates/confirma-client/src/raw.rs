//! Sending an operation with its JSON body as given, for tools that pass bodies through (the
//! `confirma` CLI's `--body`): the same key, headers and retry policy as the typed builders, and
//! the same [`ApiError`], so that the service's field problems (every one, with its path) reach
//! the caller instead of a local deserialization error.
#![warn(missing_docs)]

use progenitor_client::{ClientHooks, OperationInfo};
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

use crate::operations::{method_name, operation};
use crate::types::ErrorResponse;
use crate::{ApiError, Client};

impl Client {
    /// Sends `operation_id` with `body` exactly as given (it is not checked here: the service
    /// validates it) and `query` as the query string; returns the answer as JSON (`null` for an
    /// empty one).
    ///
    /// ```no_run
    /// # async fn demo(client: &confirma_client::Client) -> Result<(), confirma_client::ApiError> {
    /// let answer = client
    ///     .send_json("createInvoice", &[], Some(std::fs::read("invoice.json").unwrap()))
    ///     .await?;
    /// println!("{}", answer["status"]);
    /// # Ok(()) }
    /// ```
    pub async fn send_json(
        &self,
        operation_id: &str,
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> Result<Value, ApiError> {
        let op = operation(operation_id).ok_or_else(|| {
            ApiError::InvalidRequest(format!("no operation {operation_id} in the spec"))
        })?;
        let method = op
            .method
            .parse()
            .map_err(|_| ApiError::InvalidRequest(format!("bad method {}", op.method)))?;
        let mut request = self
            .client
            .request(method, format!("{}{}", self.baseurl, op.path))
            .query(query);
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }
        let mut request = request.build()?;
        // The typed builders' name for it (`renew_token`), so that hooks and the retry policy
        // treat both paths alike (a renewal is never sent twice).
        let info = OperationInfo {
            operation_id: method_name(op.operation_id).unwrap_or(op.operation_id),
        };
        self.pre::<ErrorResponse>(&mut request, &info).await?;
        let response = self.exec(request, &info).await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        if status.is_success() {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&bytes).map_err(|source| ApiError::InvalidBody {
                body: String::from_utf8_lossy(&bytes).into_owned(),
                source,
            });
        }
        match serde_json::from_slice::<ErrorResponse>(&bytes) {
            Ok(body) if status.is_client_error() || status.is_server_error() => {
                Err(ApiError::Api { status, body })
            }
            _ => Err(ApiError::UnexpectedResponse {
                status,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            }),
        }
    }
}
