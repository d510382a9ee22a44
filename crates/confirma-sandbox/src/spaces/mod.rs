//! What this process keeps per space: each space's genesis (fixed at its creation, so read once),
//! its injected faults and its request journal (this process's own, as they always were), and
//! the spaces used since their expiry was last moved. [`lifecycle`]: spaces made, forked and
//! deleted, and the housekeeping that deletes those left unused.

pub mod lifecycle;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use crate::faults::Faults;
use crate::journal::Journal;
use crate::world::spaces::registry;
use crate::world::{Failure, Genesis, SpaceId};

pub struct Spaces {
    /// The default space's genesis: the sandbox's `--seed` and `--start`.
    default: Genesis,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    geneses: HashMap<SpaceId, Genesis>,
    faults: HashMap<SpaceId, Arc<Faults>>,
    journals: HashMap<SpaceId, Arc<Journal>>,
    /// When each space was last used, since the expiries were last moved.
    used: HashMap<SpaceId, DateTime<Utc>>,
}

impl Spaces {
    pub fn new(default: Genesis) -> Self {
        Self {
            default,
            inner: Mutex::default(),
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The genesis of `space`, if it exists (the default space always does).
    pub async fn genesis(
        &self,
        c: &mut AnyConnection,
        space: SpaceId,
    ) -> Result<Option<Genesis>, Failure> {
        if space.is_default() {
            return Ok(Some(self.default.clone()));
        }
        if let Some(genesis) = self.inner().geneses.get(&space) {
            return Ok(Some(genesis.clone()));
        }
        let Some(record) = registry::get(c, space).await? else {
            return Ok(None);
        };
        let genesis = Genesis::of(&record);
        self.inner().geneses.insert(space, genesis.clone());
        Ok(Some(genesis))
    }

    /// The faults injected into `space` on this process.
    pub fn faults(&self, space: SpaceId) -> Arc<Faults> {
        self.inner().faults.entry(space).or_default().clone()
    }

    /// The journal of `space`'s requests on this process.
    pub fn journal(&self, space: SpaceId) -> Arc<Journal> {
        self.inner().journals.entry(space).or_default().clone()
    }

    /// `space` was used now (the default space never expires).
    pub fn used(&self, space: SpaceId) {
        if !space.is_default() {
            self.inner().used.insert(space, Utc::now());
        }
    }

    /// The spaces used since the last call, and when each was last used.
    pub fn take_used(&self) -> Vec<(SpaceId, DateTime<Utc>)> {
        let mut used: Vec<_> = self.inner().used.drain().collect();
        used.sort();
        used
    }

    /// Forgets everything of a deleted space.
    pub fn forget(&self, space: SpaceId) {
        let mut inner = self.inner();
        inner.geneses.remove(&space);
        inner.faults.remove(&space);
        inner.journals.remove(&space);
        inner.used.remove(&space);
    }
}
