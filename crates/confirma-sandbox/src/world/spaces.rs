//! Spaces as changes: a space made (and seeded, if asked), forked (every row copied into a new
//! space, which gets secrets of its own), deleted (out of the registry and unreachable at once,
//! its rows removed afterwards in bounded batches), and kept alive by use.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::commands::Change;
use super::records::clients::TokenRecord;
use super::records::spaces::{SpaceId, SpaceRecord};
use super::tables::{self, Scoped};
use super::{Failure, Genesis, World, hex, token_hash};

/// A client of a space and its access token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientToken {
    pub client_id: i64,
    pub access_token: String,
}

/// A new space: registered, and seeded with the demo client if it asks for one. Applied in the
/// new space, which has no row yet.
pub struct CreateSpace {
    pub record: SpaceRecord,
}

impl Change for CreateSpace {
    /// The demo client, if the space has one.
    type Output = Option<ClientToken>;

    fn without_space(&self) -> Option<Genesis> {
        Some(Genesis::of(&self.record))
    }

    async fn apply(&self, world: &mut World<'_>) -> Result<Self::Output, Failure> {
        tables::insert_space(world.db, &self.record).await?;
        if self.record.demo {
            world.seed().await?;
        }
        // Stored now, demo or not: from here on the space exists.
        world.state().store(world.db, world.space).await?;
        Ok(world
            .demo_client
            .zip(world.demo_token.clone())
            .map(|(client_id, access_token)| ClientToken {
                client_id,
                access_token,
            }))
    }
}

/// What a fork made.
#[derive(Clone, Debug)]
pub struct Forked {
    pub demo: Option<ClientToken>,
    /// Every client of the space, with its new token.
    pub clients: Vec<ClientToken>,
}

/// A new space holding a copy of this one as it is now: the same ids, numbers and clock, every
/// token new (each client gets one, with the expiry its token had). Applied in the origin.
pub struct ForkSpace {
    pub into: SpaceRecord,
}

impl Change for ForkSpace {
    type Output = Forked;

    async fn apply(&self, world: &mut World<'_>) -> Result<Forked, Failure> {
        let into = self.into.space;
        tables::insert_space(world.db, &self.into).await?;
        // The origin's own row as this transaction has it, for the copy to take.
        world.state().store(world.db, world.space).await?;
        world.copy_into(into).await?;
        let genesis = Genesis {
            salt: Some(self.into.salt.clone()),
            ..world.genesis.clone()
        };
        let mut clients = Vec::new();
        for client_id in tables::client_ids(world.db()).await? {
            let expires_at = tables::token_expiry(world.db(), client_id).await?;
            let access_token = fork_token(&genesis, client_id);
            let record = TokenRecord {
                space: into,
                client_id,
                hash: token_hash(&access_token),
                expires_at,
            };
            tables::replace_token(
                Scoped {
                    c: world.db,
                    space: into,
                },
                &record,
            )
            .await?;
            clients.push(ClientToken {
                client_id,
                access_token,
            });
        }
        let mut state = world.state();
        let demo = state
            .demo_client
            .and_then(|id| clients.iter().find(|c| c.client_id == id).cloned());
        state.demo_token = demo.as_ref().map(|d| d.access_token.clone());
        state.store(world.db, into).await?;
        Ok(Forked { demo, clients })
    }
}

/// A fork's token for a client: from the fork's own salt and the client, leaving the counter
/// behind ids as the origin had it.
fn fork_token(genesis: &Genesis, client_id: i64) -> String {
    let salt = genesis.salt.as_deref().unwrap_or_default();
    let digest = Sha256::digest(format!("{}:{salt}:fork-token:{client_id}", genesis.seed));
    format!("cfsb_{}", hex(&digest))
}

/// A space taken out of the registry: its tokens stop working and its own row is gone at once,
/// so nothing reaches it any more; [`RemoveSpaceRows`] removes the rest.
pub struct DeleteSpace;

impl Change for DeleteSpace {
    type Output = ();

    async fn apply(&self, world: &mut World<'_>) -> Result<(), Failure> {
        if world.space.is_default() {
            return Err(Failure::Internal);
        }
        tables::doom_space(world.db, world.space).await?;
        for table in ["tokens", "world"] {
            while tables::remove_some(world.db(), table, i64::MAX).await? > 0 {}
        }
        world.tokens_changed = true;
        world.gone = true;
        Ok(())
    }
}

/// At most `limit` rows of a deleted space removed; once none is left, the space is forgotten.
pub struct RemoveSpaceRows {
    pub limit: i64,
}

impl Change for RemoveSpaceRows {
    /// How many rows it removed (0: none was left).
    type Output = u64;

    fn without_space(&self) -> Option<Genesis> {
        Some(Genesis {
            seed: 0,
            start: DateTime::<Utc>::UNIX_EPOCH,
            salt: None,
            demo: false,
        })
    }

    async fn apply(&self, world: &mut World<'_>) -> Result<u64, Failure> {
        if world.space.is_default() || tables::space(world.db, world.space).await?.is_some() {
            return Err(Failure::Internal); // only a deleted space's rows are removed
        }
        let removed = world.remove_some(self.limit).await?;
        if removed == 0 {
            tables::forget_doomed(world.db, world.space).await?;
        }
        world.gone = true;
        Ok(removed)
    }
}

/// A space was used: it expires no sooner than `expires`.
pub struct KeepSpace {
    pub expires: DateTime<Utc>,
}

impl Change for KeepSpace {
    type Output = ();

    async fn apply(&self, world: &mut World<'_>) -> Result<(), Failure> {
        tables::extend_space(world.db, world.space, self.expires).await
    }
}

/// The rows a space owns, table by table.
pub async fn rows_of(
    db: &mut sqlx::AnyConnection,
    space: SpaceId,
) -> Result<Vec<(&'static str, i64)>, Failure> {
    tables::rows_of(Scoped { c: db, space }).await
}

/// The registry of spaces, read outside any one space.
pub mod registry {
    use chrono::{DateTime, Utc};
    use sqlx::AnyConnection;

    use super::super::Failure;
    use super::super::records::spaces::{SpaceId, SpaceRecord};
    use super::super::tables;

    pub async fn get(
        c: &mut AnyConnection,
        space: SpaceId,
    ) -> Result<Option<SpaceRecord>, Failure> {
        tables::space(c, space).await
    }

    /// Every space, in the order they expire.
    pub async fn all(c: &mut AnyConnection) -> Result<Vec<SpaceRecord>, Failure> {
        tables::spaces(c).await
    }

    pub async fn count(c: &mut AnyConnection) -> Result<i64, Failure> {
        tables::space_count(c).await
    }

    /// The space whose provisioning token has this SHA-256.
    pub async fn provisioned_by(
        c: &mut AnyConnection,
        hash: &[u8; 32],
    ) -> Result<Option<SpaceId>, Failure> {
        tables::space_provisioned_by(c, &super::hex(hash)).await
    }

    /// The space whose admin token has this SHA-256.
    pub async fn administered_by(
        c: &mut AnyConnection,
        hash: &[u8; 32],
    ) -> Result<Option<SpaceId>, Failure> {
        tables::space_administered_by(c, &super::hex(hash)).await
    }

    /// Spaces unused past their expiry by `now` (wall clock), at most `limit`.
    pub async fn expired(
        c: &mut AnyConnection,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<SpaceId>, Failure> {
        tables::spaces_expired(c, now, limit).await
    }

    /// Deleted spaces whose rows are still being removed.
    pub async fn doomed(c: &mut AnyConnection) -> Result<Vec<SpaceId>, Failure> {
        tables::doomed_spaces(c).await
    }
}
