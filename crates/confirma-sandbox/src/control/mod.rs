//! The sandbox control API under `/sandbox/...`, outside the Partner API: move the clock, make a
//! distribution fail, expire a token, reset. Protected by the admin token; described with utoipa
//! (code first) and merged into the served `/openapi.json` and `/docs`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use confirma_server::{ApiError, json_response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::Sandbox;
use crate::faults::Fault;
use crate::journal::Entry;
use crate::world::clock::Happened;
use crate::world::{Change, SpaceId, commands};

pub mod spaces;

/// The sandbox clock.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Clock {
    /// Current sandbox time.
    pub now: DateTime<Utc>,
}

/// The clock after an advance, and what happened on the way.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Advanced {
    /// Current sandbox time.
    pub now: DateTime<Utc>,
    pub happened: Happened,
}

/// Move the clock forward: by a number of days/hours/minutes, or to a given time.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Advance {
    #[serde(default)]
    pub days: i64,
    #[serde(default)]
    pub hours: i64,
    #[serde(default)]
    pub minutes: i64,
    /// Absolute target time; exclusive with the relative fields.
    pub to: Option<DateTime<Utc>>,
}

/// Make the next distribution of an invoice fail.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FailDistribution {
    pub client_id: i64,
    pub invoice_number: i64,
}

/// Give a client's token an expiry (null removes it).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenExpiry {
    pub client_id: i64,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A debtor's payment arriving at the agency with a reference number.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IncomingPayment {
    /// The invoice's payment reference (Finnish or RF).
    pub reference: String,
    /// Amount in cents precision, e.g. 250.75.
    #[schema(value_type = f64, format = "decimal")]
    pub amount: rust_decimal::Decimal,
    /// Payment date; today in sandbox time when omitted.
    pub date: Option<chrono::NaiveDate>,
    /// The payer's name as the bank reports it.
    pub payer: Option<String>,
}

/// Which case an incoming payment credited, and how it was allocated.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentCredited {
    pub client_id: i64,
    pub case_id: i64,
    pub invoice_number: i64,
    pub allocation_id: i64,
    #[schema(value_type = f64, format = "decimal")]
    pub amount: rust_decimal::Decimal,
    /// The part of the amount that went to capital, interest and costs.
    #[schema(value_type = f64, format = "decimal")]
    pub capital_amount: rust_decimal::Decimal,
    #[schema(value_type = f64, format = "decimal")]
    pub interest_amount: rust_decimal::Decimal,
    #[schema(value_type = f64, format = "decimal")]
    pub costs_amount: rust_decimal::Decimal,
    /// What the case still has to receive.
    #[schema(value_type = f64, format = "decimal")]
    pub outstanding_amount: rust_decimal::Decimal,
    /// The case's status after the payment (`PAID` once nothing is outstanding).
    pub case_status: String,
    /// Current sandbox time.
    pub now: DateTime<Utc>,
}

/// The longest a single clock move may be: ten years (every day in between is processed).
const MAX_ADVANCE_DAYS: i64 = 3660;

type Shared = Arc<Sandbox>;

/// The `X-Admin-Token` of a request, as sent (empty when absent or not text).
fn admin_token(headers: &HeaderMap) -> &str {
    headers
        .get("x-admin-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The space whose admin token the request sends: the sandbox admin token acts on the default
/// space, a space's admin token on that space only.
async fn admin(sandbox: &Sandbox, headers: &HeaderMap) -> Result<SpaceId, ApiError> {
    sandbox
        .administered_by(admin_token(headers))
        .await?
        .ok_or_else(|| {
            ApiError::unauthorized(
                "Send the sandbox admin token, or a space's admin token, in the X-Admin-Token header.",
            )
        })
}

/// A request body as `T`, or 400 in the error format.
fn body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "Invalid body: {}",
            confirma_server::clip(&e.to_string())
        ))
    })
}

/// The body of an admin request, and the space it acts on: the admin token is checked first,
/// so that an unauthenticated caller learns nothing about the body.
async fn admin_body<T: serde::de::DeserializeOwned>(
    sandbox: &Sandbox,
    headers: &HeaderMap,
    raw: &[u8],
) -> Result<(SpaceId, T), ApiError> {
    let space = admin(sandbox, headers).await?;
    Ok((space, body(raw)?))
}

async fn clock(sandbox: &Sandbox, space: SpaceId) -> Response {
    match sandbox.now_in(space).await {
        Ok(now) => json_response(200, &Clock { now }),
        Err(e) => e.into_response(),
    }
}

/// Applies an admin's change to the space and answers with its clock.
async fn run_in(sandbox: &Sandbox, space: SpaceId, change: impl Change) -> Response {
    match sandbox.execute(space, change).await {
        Ok(_) => clock(sandbox, space).await,
        Err(e) => e.into_response(),
    }
}

/// Applies an admin's change (to the space of the admin token) and answers with the clock.
async fn run(sandbox: &Sandbox, headers: &HeaderMap, change: impl Change) -> Response {
    match admin(sandbox, headers).await {
        Ok(space) => run_in(sandbox, space, change).await,
        Err(e) => e.into_response(),
    }
}

/// The sandbox clock.
#[utoipa::path(get, path = "/sandbox/clock", tag = "Sandbox control", security(("AdminToken" = [])),
    responses((status = 200, body = Clock), (status = 401, description = "Missing or wrong admin token")))]
async fn get_clock(State(sandbox): State<Shared>, headers: HeaderMap) -> Response {
    match admin(&sandbox, &headers).await {
        Ok(space) => clock(&sandbox, space).await,
        Err(e) => e.into_response(),
    }
}

/// Advance the sandbox clock; everything due meanwhile happens (distribution, overdue, ...).
#[utoipa::path(post, path = "/sandbox/clock/advance", tag = "Sandbox control", security(("AdminToken" = [])), request_body = Advance,
    responses((status = 200, body = Advanced, description = "The clock after the advance, and what happened on the way"), (status = 400, description = "Invalid request, or more than ten years at once"),
        (status = 401, description = "Missing or wrong admin token"), (status = 402, description = "The target is in the past")))]
async fn advance(
    State(sandbox): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (space, advance): (_, Advance) = match admin_body(&sandbox, &headers, &body).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let now = match sandbox.now_in(space).await {
        Ok(now) => now,
        Err(e) => return e.into_response(),
    };
    let to = match advance.to {
        Some(_) if advance.days != 0 || advance.hours != 0 || advance.minutes != 0 => {
            return ApiError::bad_request("Give either `to` or days/hours/minutes, not both.")
                .into_response();
        }
        Some(to) => Some(to),
        None => chrono::Duration::try_days(advance.days)
            .zip(chrono::Duration::try_hours(advance.hours))
            .zip(chrono::Duration::try_minutes(advance.minutes))
            .and_then(|((d, h), m)| d.checked_add(&h)?.checked_add(&m))
            .and_then(|step| now.checked_add_signed(step)),
    };
    // The same cap for both forms: every day in between is processed.
    match to {
        Some(to) if to < now => ApiError::business_rule(format!(
            "The sandbox clock is at {} and cannot go back to {to}.",
            now.to_rfc3339()
        ))
        .into_response(),
        Some(to) if to.signed_duration_since(now) <= chrono::Duration::days(MAX_ADVANCE_DAYS) => {
            advance_in_steps(&sandbox, space, to).await
        }
        _ => ApiError::bad_request(format!(
            "The clock moves at most ten years ({MAX_ADVANCE_DAYS} days) at a time."
        ))
        .into_response(),
    }
}

/// Moves the clock to `to` in bounded steps, each a change of its own, so that other requests
/// are served during a long advance; answers with what happened on the way.
async fn advance_in_steps(
    sandbox: &Sandbox,
    space: SpaceId,
    to: chrono::DateTime<chrono::Utc>,
) -> Response {
    let mut happened = Happened::default();
    let mut batch = 0;
    loop {
        match sandbox
            .execute(space, commands::AdvanceClock { to, batch })
            .await
        {
            Ok(step) => {
                happened += step.happened;
                batch = step.batch;
                if step.done {
                    break;
                }
            }
            Err(e) => return e.into_response(),
        }
    }
    match sandbox.now_in(space).await {
        Ok(now) => json_response(200, &Advanced { now, happened }),
        Err(e) => e.into_response(),
    }
}

/// Make the next distribution of an invoice fail (the invoice may not exist yet).
#[utoipa::path(post, path = "/sandbox/distribution/fail-next", tag = "Sandbox control", security(("AdminToken" = [])), request_body = FailDistribution,
    responses((status = 200, body = Clock), (status = 401, description = "Missing or wrong admin token"), (status = 404, description = "Unknown client")))]
async fn fail_next(
    State(sandbox): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    match admin_body::<FailDistribution>(&sandbox, &headers, &body).await {
        Ok((space, f)) => {
            run_in(
                &sandbox,
                space,
                commands::FailNextDistribution {
                    client_id: f.client_id,
                    invoice_number: f.invoice_number,
                },
            )
            .await
        }
        Err(e) => e.into_response(),
    }
}

/// Set or clear the expiry of a client's token.
#[utoipa::path(post, path = "/sandbox/token/expiry", tag = "Sandbox control", security(("AdminToken" = [])), request_body = TokenExpiry,
    responses((status = 200, body = Clock), (status = 401, description = "Missing or wrong admin token"), (status = 404, description = "Unknown client")))]
async fn token_expiry(
    State(sandbox): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    match admin_body::<TokenExpiry>(&sandbox, &headers, &body).await {
        Ok((space, t)) => {
            run_in(
                &sandbox,
                space,
                commands::SetTokenExpiry {
                    client_id: t.client_id,
                    expires_at: t.expires_at,
                },
            )
            .await
        }
        Err(e) => e.into_response(),
    }
}

/// Simulate a debtor's payment by reference number: allocated to costs, interest and capital,
/// listed by retrieve payments, and settled at the next settlement run.
#[utoipa::path(post, path = "/sandbox/payments", tag = "Sandbox control", security(("AdminToken" = [])), request_body = IncomingPayment,
    responses((status = 200, body = PaymentCredited, description = "The case the payment credited"), (status = 401, description = "Missing or wrong admin token"),
        (status = 402, description = "Closed case or amount above the outstanding balance"), (status = 404, description = "No invoice has this reference")))]
async fn incoming_payment(
    State(sandbox): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (space, p): (_, IncomingPayment) = match admin_body(&sandbox, &headers, &body).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let command = commands::ReceivePayment {
        reference: p.reference,
        amount: p.amount,
        date: p.date,
        payer: p.payer,
    };
    let answer = match sandbox.execute(space, command).await {
        Ok(receipt) => sandbox.now_in(space).await.map(|now| (receipt, now)),
        Err(e) => Err(e),
    };
    match answer {
        Ok((receipt, now)) => json_response(
            200,
            &PaymentCredited {
                client_id: receipt.client_id,
                case_id: receipt.case_id,
                invoice_number: receipt.invoice_number,
                allocation_id: receipt.allocation_id,
                amount: receipt.amount,
                capital_amount: receipt.capital,
                interest_amount: receipt.interest,
                costs_amount: receipt.costs,
                outstanding_amount: receipt.outstanding,
                case_status: receipt.case_status.to_string(),
                now,
            },
        ),
        Err(e) => e.into_response(),
    }
}

/// Run a settlement now (otherwise settlements run every Monday).
#[utoipa::path(post, path = "/sandbox/settlements/run", tag = "Sandbox control", security(("AdminToken" = [])),
    responses((status = 200, body = Clock), (status = 401, description = "Missing or wrong admin token")))]
async fn run_settlement(State(sandbox): State<Shared>, headers: HeaderMap) -> Response {
    run(&sandbox, &headers, commands::RunSettlement {}).await
}

/// Back to the seeded state (the log keeps the history; the world starts over).
#[utoipa::path(post, path = "/sandbox/reset", tag = "Sandbox control", security(("AdminToken" = [])),
    responses((status = 200, body = Clock), (status = 401, description = "Missing or wrong admin token")))]
async fn reset(State(sandbox): State<Shared>, headers: HeaderMap) -> Response {
    run(&sandbox, &headers, commands::Reset {}).await
}

/// Make the next calls of an operation fail with a status, or stall first: for partners' retry
/// and timeout code. Faults apply in the order they were added and are this process's only.
#[utoipa::path(post, path = "/sandbox/faults", tag = "Sandbox control", security(("AdminToken" = [])), request_body = Fault,
    responses((status = 200, body = Vec<Fault>, description = "Every fault still waiting"), (status = 400, description = "Invalid fault"),
        (status = 401, description = "Missing or wrong admin token")))]
async fn add_fault(
    State(sandbox): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (space, fault) = match admin_body::<Fault>(&sandbox, &headers, &body)
        .await
        .and_then(|(space, f)| Ok((space, f.checked()?)))
    {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let faults = sandbox.spaces.faults(space);
    faults.add(fault);
    json_response(200, &faults.list())
}

/// The faults still waiting for their calls.
#[utoipa::path(get, path = "/sandbox/faults", tag = "Sandbox control", security(("AdminToken" = [])),
    responses((status = 200, body = Vec<Fault>), (status = 401, description = "Missing or wrong admin token")))]
async fn list_faults(State(sandbox): State<Shared>, headers: HeaderMap) -> Response {
    match admin(&sandbox, &headers).await {
        Ok(space) => json_response(200, &sandbox.spaces.faults(space).list()),
        Err(e) => e.into_response(),
    }
}

/// Remove every fault.
#[utoipa::path(delete, path = "/sandbox/faults", tag = "Sandbox control", security(("AdminToken" = [])),
    responses((status = 200, body = Vec<Fault>, description = "None left"), (status = 401, description = "Missing or wrong admin token")))]
async fn clear_faults(State(sandbox): State<Shared>, headers: HeaderMap) -> Response {
    match admin(&sandbox, &headers).await {
        Ok(space) => {
            let faults = sandbox.spaces.faults(space);
            faults.clear();
            json_response(200, &faults.list())
        }
        Err(e) => e.into_response(),
    }
}

/// Which requests the journal lists.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RequestsQuery {
    /// How many, newest first (default 50, at most 1000).
    pub limit: Option<usize>,
    /// Only requests of this operationId.
    pub operation: Option<String>,
}

/// The last Partner API requests this sandbox answered: time, operation, client, status,
/// duration and any field problems. Credentials are never recorded.
#[utoipa::path(get, path = "/sandbox/requests", tag = "Sandbox control", security(("AdminToken" = [])), params(RequestsQuery),
    responses((status = 200, body = Vec<Entry>), (status = 400, description = "Invalid query"), (status = 401, description = "Missing or wrong admin token")))]
async fn requests(
    State(sandbox): State<Shared>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let space = match admin(&sandbox, &headers).await {
        Ok(space) => space,
        Err(e) => return e.into_response(),
    };
    let query: RequestsQuery = match serde_urlencoded_query(uri.query().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let limit = query.limit.unwrap_or(50).min(crate::journal::CAPACITY);
    json_response(
        200,
        &sandbox
            .spaces
            .journal(space)
            .recent(limit, query.operation.as_deref()),
    )
}

/// A query string as `T`, or 400 in the error format.
fn serde_urlencoded_query<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{raw}")
            .parse()
            .map_err(|_| ApiError::bad_request("The query string is not valid."))?,
    )
    .map(|q| q.0)
    .map_err(|e| {
        ApiError::bad_request(format!(
            "Invalid query: {}",
            confirma_server::clip(&e.body_text())
        ))
    })
}

/// Adds the admin token as a security scheme, so that `/docs` can send it.
struct AdminTokenScheme;

impl utoipa::Modify for AdminTokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "AdminToken",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Admin-Token",
                "The sandbox admin token printed on start.",
            ))),
        );
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    modifiers(&AdminTokenScheme),
    tags((name = "Sandbox control", description = "Outside the Partner API: drive the sandbox (clock, payments, failures, settlements, reset), inject faults, read the request journal."))
)]
struct ControlDoc;

/// The control routes with their descriptions.
pub fn router(sandbox: Shared) -> OpenApiRouter {
    OpenApiRouter::with_openapi(<ControlDoc as utoipa::OpenApi>::openapi())
        .routes(routes!(get_clock))
        .routes(routes!(advance))
        .routes(routes!(fail_next))
        .routes(routes!(token_expiry))
        .routes(routes!(incoming_payment))
        .routes(routes!(run_settlement))
        .routes(routes!(reset))
        .routes(routes!(add_fault, list_faults, clear_faults))
        .routes(routes!(requests))
        .merge(spaces::routes())
        .with_state(sandbox)
}
