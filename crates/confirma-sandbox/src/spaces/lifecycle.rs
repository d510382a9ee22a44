//! Spaces made, forked and deleted on a running sandbox, and the housekeeping that deletes the
//! spaces left unused past their expiry (in bounded batches, through the writer, so that other
//! requests are served in between) and finishes removing spaces deleted before a crash.

use chrono::{DateTime, Utc};
use confirma_server::ApiError;

use crate::app::Sandbox;
use crate::config::random_secret;
use crate::world::spaces::{
    ClientToken, CreateSpace, DeleteSpace, ForkSpace, KeepSpace, RemoveSpaceRows, registry,
};
use crate::world::{Failure, SpaceId, SpaceRecord, hex, token_hash};

/// The most rows of a deleted space one transaction removes.
const REMOVAL_BATCH: i64 = 1_000;

/// The most batches a `DELETE` of a space removes before it answers (the housekeeper removes the
/// rest): 100,000 rows, a few seconds at most.
const SYNCHRONOUS_REMOVAL: usize = 100;

/// The most expired spaces one round of housekeeping deletes.
const EXPIRED_PER_ROUND: i64 = 16;

/// What a new space is made with; `None`: the sandbox's own (`--seed`, `--start`), the
/// longest idle expiry allowed, the space's id as its name.
#[derive(Clone, Debug, Default)]
pub struct NewSpace {
    pub name: Option<String>,
    pub start: Option<DateTime<Utc>>,
    pub seed: Option<u64>,
    pub demo: bool,
    pub idle_expiry_seconds: Option<i64>,
}

/// A space made or forked, with its secrets (shown this once: only their hashes are kept).
#[derive(Clone, Debug)]
pub struct Made {
    pub record: SpaceRecord,
    pub now: DateTime<Utc>,
    pub provisioning_token: String,
    pub admin_token: String,
    pub demo: Option<ClientToken>,
    /// Every client of a fork, with its new token (empty for a new space).
    pub clients: Vec<ClientToken>,
}

fn random_id() -> SpaceId {
    loop {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
        let id = i64::from_le_bytes(bytes);
        if id != 0 {
            return SpaceId(id);
        }
    }
}

fn random_salt() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    hex(&bytes)
}

impl Sandbox {
    /// The record of a new space and its two tokens; refused when the sandbox holds as many
    /// spaces as it may.
    async fn new_record(
        &self,
        name: Option<String>,
        seed: u64,
        start: DateTime<Utc>,
        demo: bool,
        idle_expiry_seconds: Option<i64>,
    ) -> Result<(SpaceRecord, String, String), ApiError> {
        let max_idle = self.config.space_max_idle.as_secs() as i64;
        let idle = match idle_expiry_seconds {
            None => max_idle,
            Some(s) if s >= 1 => s.min(max_idle),
            Some(_) => {
                return Err(ApiError::validation(
                    "The space cannot be made.",
                    vec![confirma_server::field_problem(
                        "$.idleExpirySeconds",
                        "business",
                        "must be at least 1",
                    )],
                ));
            }
        };
        let mut conn = self.db.connection().await.map_err(Failure::from)?;
        let count = registry::count(&mut conn).await?;
        drop(conn);
        if count >= i64::from(self.config.max_spaces) {
            return Err(ApiError::new(
                429,
                confirma_server::types::ErrorCode::ServiceUnavailable,
                format!(
                    "The sandbox holds {count} spaces, as many as it may (--max-spaces {}): delete spaces you no longer need (DELETE /sandbox/spaces/{{spaceId}}), wait for unused ones to expire, or start the sandbox with a higher --max-spaces.",
                    self.config.max_spaces
                ),
            ));
        }
        let space = random_id();
        let provisioning_token = random_secret("provisioning");
        let admin_token = random_secret("admin");
        let created = Utc::now();
        let record = SpaceRecord {
            space,
            name: name.unwrap_or_else(|| space.to_string()),
            provisioning_hash: hex(&token_hash(&provisioning_token)),
            admin_hash: hex(&token_hash(&admin_token)),
            seed,
            start,
            salt: random_salt(),
            demo,
            created,
            idle_expiry_seconds: idle,
            expires: created + chrono::Duration::seconds(idle),
        };
        Ok((record, provisioning_token, admin_token))
    }

    /// A new space, seeded with the demo client if asked.
    pub async fn create_space(&self, new: NewSpace) -> Result<Made, ApiError> {
        let (record, provisioning_token, admin_token) = self
            .new_record(
                new.name,
                new.seed.unwrap_or(self.config.seed),
                new.start.unwrap_or(self.config.start),
                new.demo,
                new.idle_expiry_seconds,
            )
            .await?;
        let space = record.space;
        let demo = self
            .execute(
                space,
                CreateSpace {
                    record: record.clone(),
                },
            )
            .await?;
        Ok(Made {
            now: record.start,
            record,
            provisioning_token,
            admin_token,
            demo,
            clients: Vec::new(),
        })
    }

    /// A new space holding a copy of `origin` as it is now, with secrets of its own.
    pub async fn fork_space(
        &self,
        origin: SpaceId,
        name: Option<String>,
        idle_expiry_seconds: Option<i64>,
    ) -> Result<Made, ApiError> {
        let (seed, start, demo, idle) = if origin.is_default() {
            (self.config.seed, self.config.start, true, None)
        } else {
            let mut conn = self.db.connection().await.map_err(Failure::from)?;
            let record = registry::get(&mut conn, origin)
                .await?
                .ok_or_else(|| no_space(origin))?;
            (
                record.seed,
                record.start,
                record.demo,
                Some(record.idle_expiry_seconds),
            )
        };
        let (record, provisioning_token, admin_token) = self
            .new_record(name, seed, start, demo, idle_expiry_seconds.or(idle))
            .await?;
        let forked = self
            .execute(
                origin,
                ForkSpace {
                    into: record.clone(),
                },
            )
            .await?;
        let now = self.now_in(record.space).await?;
        Ok(Made {
            record,
            now,
            provisioning_token,
            admin_token,
            demo: forked.demo,
            clients: forked.clients,
        })
    }

    /// Deletes a space: unreachable at once, every row it owns removed before this answers
    /// (a bounded batch per transaction, other requests served in between).
    pub async fn delete_space(&self, space: SpaceId) -> Result<(), ApiError> {
        if space.is_default() {
            return Err(ApiError::bad_request(
                "The default space is the sandbox's own and is not deleted: reset it (POST /sandbox/reset).",
            ));
        }
        // Refused only as a space that does not exist (an unknown credential's 401).
        self.execute(space, DeleteSpace)
            .await
            .map_err(|e| if e.status == 401 { no_space(space) } else { e })?;
        // The space is gone from here on, whatever follows: its rows go now, up to a bound, and
        // the housekeeper removes the rest (a space of a million invoices is millions of rows),
        // as it does when this is cut short.
        if let Err(e) = self.remove_rows(space, Some(SYNCHRONOUS_REMOVAL)).await {
            tracing::warn!(%space, error = %e.body.message, "the housekeeper removes the rest of a deleted space");
        }
        Ok(())
    }

    /// Removes what is left of a deleted space, a batch at a time: at most `batches` of them
    /// (`None`: until none is left).
    async fn remove_rows(&self, space: SpaceId, batches: Option<usize>) -> Result<(), ApiError> {
        let mut done = 0;
        while batches.is_none_or(|most| done < most)
            && self
                .execute(
                    space,
                    RemoveSpaceRows {
                        limit: REMOVAL_BATCH,
                    },
                )
                .await?
                > 0
        {
            done += 1;
        }
        Ok(())
    }

    /// A space's record, if it exists.
    pub async fn space_record(&self, space: SpaceId) -> Result<Option<SpaceRecord>, ApiError> {
        let mut conn = self.db.connection().await.map_err(Failure::from)?;
        Ok(registry::get(&mut conn, space).await?)
    }

    /// Every space made through `/sandbox/spaces`, in the order they expire.
    pub async fn space_records(&self) -> Result<Vec<SpaceRecord>, ApiError> {
        let mut conn = self.db.connection().await.map_err(Failure::from)?;
        Ok(registry::all(&mut conn).await?)
    }

    /// How many rows the space (`default`, or `sp_` and 16 hex digits) owns in each table of
    /// the world: for tests that a deleted space leaves nothing behind.
    pub async fn rows_of_space(&self, space_id: &str) -> anyhow::Result<Vec<(&'static str, i64)>> {
        let space: SpaceId = space_id
            .parse()
            .map_err(|()| anyhow::anyhow!("{space_id} is no space id"))?;
        let mut conn = self.db.connection().await?;
        Ok(crate::world::spaces::rows_of(&mut conn, space).await?)
    }

    /// One round of housekeeping: the spaces used since the last round expire later; expired
    /// spaces are deleted; deleted spaces whose removal a crash cut short are finished.
    pub async fn keep_house(&self) -> Result<(), ApiError> {
        for (space, used) in self.spaces.take_used() {
            let Ok(Some(record)) = self.space_record(space).await else {
                continue;
            };
            let expires = used + chrono::Duration::seconds(record.idle_expiry_seconds);
            // A space deleted meanwhile refuses: nothing to keep.
            let _ = self.execute(space, KeepSpace { expires }).await;
        }
        let mut conn = self.db.connection().await.map_err(Failure::from)?;
        let expired = registry::expired(&mut conn, Utc::now(), EXPIRED_PER_ROUND).await?;
        let doomed = registry::doomed(&mut conn).await?;
        drop(conn);
        for space in expired {
            tracing::info!(space = %space, "deleting a space unused past its idle expiry");
            if self.execute(space, DeleteSpace).await.is_ok() {
                self.remove_rows(space, None).await?;
            }
        }
        for space in doomed {
            self.remove_rows(space, None).await?;
        }
        Ok(())
    }
}

fn no_space(space: SpaceId) -> ApiError {
    ApiError::not_found(format!("No space {space}."))
}
