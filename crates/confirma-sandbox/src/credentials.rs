//! What a sandbox that is its database's only process remembers of its tokens and clock, so that
//! checking a credential needs no statement: every change goes through this process's writer,
//! which tells it after each commit that changed a token or moved the clock. (Processes sharing
//! a PostgreSQL database ask the database every time: another one may have changed either.)
//!
//! A lookup that misses reads the database and remembers the answer only if no commit changed a
//! token meanwhile (the generation), so a token retired while it was being read is never
//! remembered alive. Only tokens that exist are remembered: unknown keys take no memory.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::world::TokenRecord;

#[derive(Default)]
pub struct Credentials {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Bumped by every commit that changed a token.
    generation: u64,
    tokens: HashMap<[u8; 32], TokenRecord>,
    /// The sandbox clock as of the last commit (none until the first).
    now: Option<DateTime<Utc>>,
}

/// A lookup that missed, to be completed with what the database said.
pub struct Miss {
    generation: u64,
}

impl Credentials {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The token with this hash and the clock, if both are known; else a [`Miss`].
    pub fn lookup(&self, hash: &[u8; 32]) -> Result<(TokenRecord, DateTime<Utc>), Miss> {
        let inner = self.inner();
        match (inner.tokens.get(hash), inner.now) {
            (Some(token), Some(now)) => Ok((token.clone(), now)),
            _ => Err(Miss {
                generation: inner.generation,
            }),
        }
    }

    /// What the database said after a miss: remembered unless a token changed meanwhile.
    pub fn learn(&self, miss: Miss, token: &TokenRecord, now: DateTime<Utc>) {
        let mut inner = self.inner();
        if inner.generation == miss.generation {
            inner.tokens.insert(token.hash, token.clone());
            inner.now.get_or_insert(now);
        }
    }

    /// After a commit: the clock it left, and whether it changed a token.
    pub fn committed(&self, now: DateTime<Utc>, tokens_changed: bool) {
        let mut inner = self.inner();
        inner.now = Some(now);
        if tokens_changed {
            inner.generation += 1;
            inner.tokens.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(n: u8) -> TokenRecord {
        TokenRecord {
            client_id: i64::from(n),
            hash: [n; 32],
            expires_at: None,
        }
    }

    #[test]
    fn a_token_read_while_a_commit_changed_tokens_is_not_remembered() {
        let credentials = Credentials::default();
        let now = Utc::now();
        credentials.committed(now, false);
        let miss = credentials.lookup(&[1; 32]).expect_err("nothing known yet");
        credentials.learn(miss, &token(1), now);
        assert_eq!(credentials.lookup(&[1; 32]).ok().unwrap().0.client_id, 1);
        // A lookup misses, a commit renews a token, then the (stale) answer arrives.
        let miss = credentials.lookup(&[2; 32]).err().unwrap();
        credentials.committed(now, true);
        credentials.learn(miss, &token(2), now);
        assert!(credentials.lookup(&[2; 32]).is_err(), "stale answer kept");
        assert!(credentials.lookup(&[1; 32]).is_err(), "forgotten on change");
    }
}
