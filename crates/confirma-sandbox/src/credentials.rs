//! What a sandbox process remembers of its tokens and clock, so that checking a credential needs
//! no statement. Every commit that changed a token or moved the clock tells it: a process that is
//! its database's only one hears it from its own writer; processes sharing a PostgreSQL database
//! hear every replica's commits as notifications ([`follow`]: `LISTEN`, and the writer's
//! `pg_notify` inside each such commit), and remember nothing while they are not listening (a lost
//! connection forgets everything, since what it missed is unknown).
//!
//! A lookup that misses reads the database and remembers the answer only if no commit changed a
//! token meanwhile (the generation), so a token retired while it was being read is never
//! remembered alive. Only tokens that exist are remembered: unknown keys take no memory.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::world::{SpaceId, TokenRecord};

#[derive(Default)]
pub struct Credentials {
    inner: Mutex<Inner>,
}

struct Inner {
    /// Whether this process hears of every commit that changes a token or the clock; while it
    /// does not, nothing is remembered.
    enabled: bool,
    /// Bumped by every commit that changed a token.
    generation: u64,
    tokens: HashMap<[u8; 32], TokenRecord>,
    /// Each space's clock as of its last commit (none until the first).
    now: HashMap<SpaceId, DateTime<Utc>>,
}

/// A lookup that missed, to be completed with what the database said.
pub struct Miss {
    generation: u64,
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            enabled: true,
            generation: 0,
            tokens: HashMap::new(),
            now: HashMap::new(),
        }
    }
}

/// The notification channel on which PostgreSQL replicas tell each other of token and clock
/// changes. The payload is the space's key, its time in microseconds, and 1 if a token changed
/// (or the space was deleted), separated by spaces.
pub const CHANNEL: &str = "confirma_credentials";

/// The payload of a commit's notification on [`CHANNEL`].
pub fn notice(space: SpaceId, now: DateTime<Utc>, tokens_changed: bool) -> String {
    format!(
        "{} {} {}",
        space.0,
        now.timestamp_micros(),
        u8::from(tokens_changed)
    )
}

impl Credentials {
    /// Credentials that remember nothing until [`follow`] listens for the other replicas' commits.
    pub fn following() -> Self {
        let credentials = Self::default();
        credentials.inner().enabled = false;
        credentials
    }

    /// Forgets everything; remembers again from now on if `enabled`.
    fn forget(&self, enabled: bool) {
        let mut inner = self.inner();
        inner.enabled = enabled;
        inner.generation += 1;
        inner.tokens.clear();
        inner.now.clear();
    }

    /// A notification's payload ([`notice`]) applied as [`Credentials::committed`]; a payload that
    /// cannot be read forgets everything.
    fn heard(&self, payload: &str) {
        let mut parts = payload.split(' ');
        let parsed = (|| {
            let space = SpaceId(parts.next()?.parse().ok()?);
            let now = DateTime::from_timestamp_micros(parts.next()?.parse().ok()?)?;
            let changed = parts.next()? == "1";
            parts.next().is_none().then_some((space, now, changed))
        })();
        match parsed {
            Some((space, now, tokens_changed)) => self.committed(space, now, tokens_changed),
            None => self.forget(true),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The token with this hash and the clock, if both are known; else a [`Miss`].
    pub fn lookup(&self, hash: &[u8; 32]) -> Result<(TokenRecord, DateTime<Utc>), Miss> {
        let inner = self.inner();
        if !inner.enabled {
            return Err(Miss {
                generation: inner.generation,
            });
        }
        let token = inner.tokens.get(hash);
        match (token, token.and_then(|t| inner.now.get(&t.space))) {
            (Some(token), Some(now)) => Ok((token.clone(), *now)),
            _ => Err(Miss {
                generation: inner.generation,
            }),
        }
    }

    /// What the database said after a miss: remembered unless a token changed meanwhile.
    pub fn learn(&self, miss: Miss, token: &TokenRecord, now: DateTime<Utc>) {
        let mut inner = self.inner();
        if inner.enabled && inner.generation == miss.generation {
            inner.tokens.insert(token.hash, token.clone());
            inner.now.entry(token.space).or_insert(now);
        }
    }

    /// After a commit: the clock it left in a space, and whether it changed a token there.
    pub fn committed(&self, space: SpaceId, now: DateTime<Utc>, tokens_changed: bool) {
        let mut inner = self.inner();
        inner.now.insert(space, now);
        if tokens_changed {
            inner.generation += 1;
            inner.tokens.retain(|_, token| token.space != space);
        }
    }

    /// A space was deleted: nothing of it is remembered.
    pub fn gone(&self, space: SpaceId) {
        let mut inner = self.inner();
        inner.generation += 1;
        inner.tokens.retain(|_, token| token.space != space);
        inner.now.remove(&space);
    }
}

/// Keeps `credentials` told of every replica's commits on the PostgreSQL database at `url`:
/// listens on [`CHANNEL`] and applies each notification; a lost connection forgets everything,
/// and until listening again nothing is remembered. Runs until aborted.
pub async fn follow(credentials: std::sync::Arc<Credentials>, url: String) {
    use sqlx::postgres::PgListener;
    loop {
        let listening = async {
            let mut listener = PgListener::connect(&url).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = match listening.await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "not listening for other replicas' token changes; credentials are checked in the database");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        credentials.forget(true);
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => credentials.heard(notification.payload()),
                // The connection was lost and made again: what was missed is unknown.
                Ok(None) => credentials.forget(true),
                Err(e) => {
                    tracing::warn!(error = %e, "lost the notifications of other replicas; listening again");
                    credentials.forget(false);
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(n: u8) -> TokenRecord {
        TokenRecord {
            space: SpaceId::DEFAULT,
            client_id: i64::from(n),
            hash: [n; 32],
            expires_at: None,
        }
    }

    #[test]
    fn a_token_read_while_a_commit_changed_tokens_is_not_remembered() {
        let credentials = Credentials::default();
        let now = Utc::now();
        credentials.committed(SpaceId::DEFAULT, now, false);
        let miss = credentials.lookup(&[1; 32]).expect_err("nothing known yet");
        credentials.learn(miss, &token(1), now);
        assert_eq!(credentials.lookup(&[1; 32]).ok().unwrap().0.client_id, 1);
        // A lookup misses, a commit renews a token, then the (stale) answer arrives.
        let miss = credentials.lookup(&[2; 32]).err().unwrap();
        credentials.committed(SpaceId::DEFAULT, now, true);
        credentials.learn(miss, &token(2), now);
        assert!(credentials.lookup(&[2; 32]).is_err(), "stale answer kept");
        assert!(credentials.lookup(&[1; 32]).is_err(), "forgotten on change");
    }

    #[test]
    fn a_replica_remembers_only_while_it_hears_the_others() {
        let credentials = Credentials::following();
        let now = Utc::now();
        let miss = credentials.lookup(&[1; 32]).err().unwrap();
        credentials.learn(miss, &token(1), now);
        assert!(credentials.lookup(&[1; 32]).is_err(), "not listening yet");
        credentials.forget(true);
        let miss = credentials.lookup(&[1; 32]).err().unwrap();
        credentials.learn(miss, &token(1), now);
        assert!(credentials.lookup(&[1; 32]).is_ok());
        // Another replica moved the clock: heard, the clock follows, the token stays.
        let later = now + chrono::Duration::days(1);
        credentials.heard(&notice(SpaceId::DEFAULT, later, false));
        let (_, clock) = credentials.lookup(&[1; 32]).ok().unwrap();
        assert_eq!(clock.timestamp_micros(), later.timestamp_micros());
        // Another replica renewed a token: everything remembered is forgotten.
        credentials.heard(&notice(SpaceId::DEFAULT, later, true));
        assert!(credentials.lookup(&[1; 32]).is_err());
        // The connection was lost: nothing is remembered until listening again.
        credentials.forget(false);
        let miss = credentials.lookup(&[1; 32]).err().unwrap();
        credentials.learn(miss, &token(1), now);
        assert!(credentials.lookup(&[1; 32]).is_err());
        // An unreadable notification forgets.
        credentials.forget(true);
        let miss = credentials.lookup(&[1; 32]).err().unwrap();
        credentials.learn(miss, &token(1), now);
        credentials.heard("garbage");
        assert!(credentials.lookup(&[1; 32]).is_err());
    }
}
