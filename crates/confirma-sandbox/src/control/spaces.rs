//! `/sandbox/spaces`: many isolated sandboxes inside one. The sandbox's admin token manages every
//! space; a space's own admin token reads, forks and deletes that space only; the spaces token
//! (`--spaces-token`) creates spaces and does nothing else.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use confirma_server::{ApiError, json_response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Shared, admin_token, body};
use crate::app::Sandbox;
use crate::spaces::lifecycle::{Made, NewSpace};
use crate::world::spaces::ClientToken;
use crate::world::{SpaceId, SpaceRecord};

/// The longest name a space may have.
const MAX_NAME: usize = 200;

/// What a new space is made with; every member may be left out.
#[derive(Serialize, Deserialize, ToSchema, Default, Clone, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateSpace {
    /// A name to recognise it by (default: its id).
    pub name: Option<String>,
    /// Its clock's start (default: the sandbox's `--start`).
    pub start: Option<DateTime<Utc>>,
    /// The seed behind its ids (default: the sandbox's `--seed`).
    pub seed: Option<u64>,
    /// Whether it starts with the demo client and its invoices (default: true).
    pub demo: Option<bool>,
    /// How long it may go unused before it is deleted (default, and at most: the sandbox's
    /// `--space-max-idle`, a day unless set).
    pub idle_expiry_seconds: Option<i64>,
}

/// What a fork is made with; every member may be left out.
#[derive(Serialize, Deserialize, ToSchema, Default, Clone, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForkSpace {
    /// A name to recognise it by (default: its id).
    pub name: Option<String>,
    /// How long it may go unused (default: its origin's).
    pub idle_expiry_seconds: Option<i64>,
}

/// A client of a space and its access token.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SpaceClient {
    pub client_id: i64,
    pub access_token: String,
}

impl From<ClientToken> for SpaceClient {
    fn from(c: ClientToken) -> Self {
        Self {
            client_id: c.client_id,
            access_token: c.access_token,
        }
    }
}

/// A space just made, with its secrets: shown this once (only their hashes are kept).
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SpaceCreated {
    /// `sp_` and 16 hex digits.
    pub space_id: String,
    pub name: String,
    /// The space's clock.
    pub now: DateTime<Utc>,
    /// Its partner provisioning token: onboards clients into this space only.
    pub provisioning_token: String,
    /// Its admin token: every `/sandbox/...` call on this space only.
    pub admin_token: String,
    /// The demo client and its token, if the space has one.
    pub demo_client: Option<SpaceClient>,
    /// A fork's clients, each with its new token (left out for a new space).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clients: Option<Vec<SpaceClient>>,
    pub idle_expiry_seconds: i64,
    /// When it is deleted unless used before.
    pub expires_at: DateTime<Utc>,
}

/// A space as the registry holds it.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Space {
    pub space_id: String,
    pub name: String,
    pub seed: u64,
    /// Its clock's start.
    pub start: DateTime<Utc>,
    pub demo: bool,
    pub created_at: DateTime<Utc>,
    pub idle_expiry_seconds: i64,
    /// When it is deleted unless used before (uses are counted about once a second).
    pub expires_at: DateTime<Utc>,
    /// The space's clock (given for one space, left out of lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub now: Option<DateTime<Utc>>,
}

impl From<&SpaceRecord> for Space {
    fn from(r: &SpaceRecord) -> Self {
        Self {
            space_id: r.space.to_string(),
            name: r.name.clone(),
            seed: r.seed,
            start: r.start,
            demo: r.demo,
            created_at: r.created,
            idle_expiry_seconds: r.idle_expiry_seconds,
            expires_at: r.expires,
            now: None,
        }
    }
}

fn created(made: Made, fork: bool) -> SpaceCreated {
    SpaceCreated {
        space_id: made.record.space.to_string(),
        name: made.record.name,
        now: made.now,
        provisioning_token: made.provisioning_token,
        admin_token: made.admin_token,
        demo_client: made.demo.map(SpaceClient::from),
        clients: fork.then(|| made.clients.into_iter().map(SpaceClient::from).collect()),
        idle_expiry_seconds: made.record.idle_expiry_seconds,
        expires_at: made.record.expires,
    }
}

/// Who an `X-Admin-Token` is, as far as spaces go.
enum Authority {
    /// The sandbox's admin token: every space.
    Sandbox,
    /// The spaces token: creating spaces, nothing else.
    Creator,
    /// A space's admin token: that space only.
    Space(SpaceId),
}

async fn authority(sandbox: &Sandbox, headers: &HeaderMap) -> Result<Authority, ApiError> {
    let token = admin_token(headers);
    if let Some(spaces_token) = &sandbox.secrets.spaces_token
        && constant_time_eq::constant_time_eq(token.as_bytes(), spaces_token.as_bytes())
    {
        return Ok(Authority::Creator);
    }
    match sandbox.administered_by(token).await? {
        Some(space) if space.is_default() => Ok(Authority::Sandbox),
        Some(space) => Ok(Authority::Space(space)),
        None => Err(ApiError::unauthorized(
            "Send the sandbox admin token, the spaces token or a space's admin token in the X-Admin-Token header.",
        )),
    }
}

/// The space a path names, if the authority may act on it.
async fn named(
    sandbox: &Sandbox,
    headers: &HeaderMap,
    space_id: &str,
) -> Result<SpaceId, ApiError> {
    let authority = authority(sandbox, headers).await?;
    let space: SpaceId = space_id.parse().map_err(|()| {
        ApiError::not_found(format!(
            "No space {}: a space id is `sp_` and 16 hex digits.",
            confirma_server::clip(space_id)
        ))
    })?;
    match authority {
        Authority::Sandbox => Ok(space),
        Authority::Space(own) if own == space => Ok(space),
        Authority::Space(_) => Err(ApiError::forbidden(
            "This admin token is another space's: it acts on its own space only.",
        )),
        Authority::Creator => Err(ApiError::forbidden(
            "The spaces token creates spaces (POST /sandbox/spaces) and does nothing else: use the space's admin token.",
        )),
    }
}

fn name_checked(name: Option<String>) -> Result<Option<String>, ApiError> {
    match name {
        Some(name) if name.trim().is_empty() || name.chars().count() > MAX_NAME => {
            Err(ApiError::validation(
                "The space cannot be made.",
                vec![confirma_server::field_problem(
                    "$.name",
                    "business",
                    format!("must be 1 to {MAX_NAME} characters, not only spaces"),
                )],
            ))
        }
        name => Ok(name),
    }
}

/// The body of a space request; an empty body stands for `{}`.
fn optional_body<T: serde::de::DeserializeOwned + Default>(raw: &[u8]) -> Result<T, ApiError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        body(raw)
    }
}

/// Make a space: a whole sandbox of its own (clock, seed, clients, invoices, faults, journal),
/// reached by its tokens alone. The Partner API is the same in every space.
#[utoipa::path(post, path = "/sandbox/spaces", tag = "Sandbox control", security(("AdminToken" = [])), request_body = CreateSpace,
    responses((status = 201, body = SpaceCreated, description = "The space, with its tokens (shown this once)"), (status = 400, description = "Invalid request"),
        (status = 401, description = "Missing or wrong token"), (status = 403, description = "A space's admin token (it cannot make spaces)"),
        (status = 429, description = "As many spaces as the sandbox may hold (--max-spaces)")))]
async fn create_space(
    State(sandbox): State<Shared>,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> Response {
    let result = async {
        match authority(&sandbox, &headers).await? {
            Authority::Sandbox | Authority::Creator => {}
            Authority::Space(_) => {
                return Err(ApiError::forbidden(
                    "A space's admin token acts on its own space only: make spaces with the sandbox admin token or the spaces token.",
                ));
            }
        }
        let request: CreateSpace = optional_body(&raw)?;
        let made = sandbox
            .create_space(NewSpace {
                name: name_checked(request.name)?,
                start: request.start,
                seed: request.seed,
                demo: request.demo.unwrap_or(true),
                idle_expiry_seconds: request.idle_expiry_seconds,
            })
            .await?;
        Ok(created(made, false))
    };
    match result.await {
        Ok(made) => json_response(201, &made),
        Err(e) => e.into_response(),
    }
}

/// The spaces: every one for the sandbox admin token, its own for a space's admin token.
#[utoipa::path(get, path = "/sandbox/spaces", tag = "Sandbox control", security(("AdminToken" = [])),
    responses((status = 200, body = Vec<Space>, description = "In the order they expire"), (status = 401, description = "Missing or wrong token"),
        (status = 403, description = "The spaces token (it only makes spaces)")))]
async fn list_spaces(State(sandbox): State<Shared>, headers: HeaderMap) -> Response {
    let result = async {
        let records = match authority(&sandbox, &headers).await? {
            Authority::Sandbox => sandbox.space_records().await?,
            Authority::Space(own) => sandbox.space_record(own).await?.into_iter().collect(),
            Authority::Creator => {
                return Err(ApiError::forbidden(
                    "The spaces token makes spaces (POST /sandbox/spaces) and does nothing else.",
                ));
            }
        };
        Ok(records.iter().map(Space::from).collect::<Vec<_>>())
    };
    match result.await {
        Ok(spaces) => json_response(200, &spaces),
        Err(e) => e.into_response(),
    }
}

/// One space, with its clock.
#[utoipa::path(get, path = "/sandbox/spaces/{spaceId}", tag = "Sandbox control", security(("AdminToken" = [])),
    params(("spaceId" = String, Path, description = "`sp_` and 16 hex digits")),
    responses((status = 200, body = Space), (status = 401, description = "Missing or wrong token"),
        (status = 403, description = "Another space's admin token, or the spaces token"), (status = 404, description = "No such space")))]
async fn get_space(
    State(sandbox): State<Shared>,
    headers: HeaderMap,
    Path(space_id): Path<String>,
) -> Response {
    let result = async {
        let space = named(&sandbox, &headers, &space_id).await?;
        let record = sandbox
            .space_record(space)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("No space {space}.")))?;
        let mut answer = Space::from(&record);
        answer.now = Some(sandbox.now_in(space).await?);
        Ok::<_, ApiError>(answer)
    };
    match result.await {
        Ok(space) => json_response(200, &space),
        Err(e) => e.into_response(),
    }
}

/// Delete a space and everything in it; its tokens stop working at once.
#[utoipa::path(delete, path = "/sandbox/spaces/{spaceId}", tag = "Sandbox control", security(("AdminToken" = [])),
    params(("spaceId" = String, Path, description = "`sp_` and 16 hex digits")),
    responses((status = 204, description = "Deleted, every row it owned removed"), (status = 400, description = "The default space (reset it instead)"),
        (status = 401, description = "Missing or wrong token"), (status = 403, description = "Another space's admin token, or the spaces token"),
        (status = 404, description = "No such space")))]
async fn delete_space(
    State(sandbox): State<Shared>,
    headers: HeaderMap,
    Path(space_id): Path<String>,
) -> Response {
    let result = async {
        let space = named(&sandbox, &headers, &space_id).await?;
        sandbox.delete_space(space).await
    };
    match result.await {
        Ok(()) => axum::http::StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

/// A new space holding a copy of this one as it is now (same ids, numbers and clock; an empty
/// journal; every token new): build a rich state once, fork it for each test.
#[utoipa::path(post, path = "/sandbox/spaces/{spaceId}/fork", tag = "Sandbox control", security(("AdminToken" = [])),
    params(("spaceId" = String, Path, description = "`sp_` and 16 hex digits, or `default` (the sandbox admin token only)")),
    request_body = ForkSpace,
    responses((status = 201, body = SpaceCreated, description = "The fork, with its tokens and every client's new token"), (status = 400, description = "Invalid request"),
        (status = 401, description = "Missing or wrong token"), (status = 403, description = "Another space's admin token, or the spaces token"),
        (status = 404, description = "No such space"), (status = 429, description = "As many spaces as the sandbox may hold (--max-spaces)")))]
async fn fork_space(
    State(sandbox): State<Shared>,
    headers: HeaderMap,
    Path(space_id): Path<String>,
    raw: axum::body::Bytes,
) -> Response {
    let result = async {
        let space = named(&sandbox, &headers, &space_id).await?;
        let request: ForkSpace = optional_body(&raw)?;
        let made = sandbox
            .fork_space(
                space,
                name_checked(request.name)?,
                request.idle_expiry_seconds,
            )
            .await?;
        Ok::<_, ApiError>(created(made, true))
    };
    match result.await {
        Ok(made) => json_response(201, &made),
        Err(e) => e.into_response(),
    }
}

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(create_space, list_spaces))
        .routes(routes!(get_space, delete_space))
        .routes(routes!(fork_space))
}
