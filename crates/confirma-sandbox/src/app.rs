//! The running sandbox: the world behind a lock, the command log behind the store, and the
//! one path every change takes (execute, log, wait until durable, answer).

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};

use confirma_server::{ApiError, ApiKey};

use crate::config::Config;
use crate::store::{Record, SqlStore, Store};
use crate::world::{Change, Command, Genesis, World, commands};

/// The tokens that are not client tokens: fixed by the operator, or random per database.
#[derive(Clone)]
pub struct Secrets {
    /// The partner provisioning token (onboarding only).
    pub provisioning_token: String,
    /// The token of the `/sandbox/...` control API.
    pub admin_token: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

pub struct Sandbox {
    pub config: Config,
    pub secrets: Secrets,
    /// Injected failures and stalls (`/sandbox/faults`); this process's only, never stored.
    pub faults: crate::faults::Faults,
    /// The last Partner API requests answered (`/sandbox/requests`).
    pub journal: crate::journal::Journal,
    world: RwLock<WorldAndSeq>,
    store: Box<dyn Store>,
    /// Set when a command panicked midway or could not be made durable: the world in memory
    /// may then differ from the log, so the sandbox refuses further work until it restarts (and
    /// replays its log, which never holds the failed command).
    broken: AtomicBool,
}

struct WorldAndSeq {
    world: World,
    /// Sequence number of the last logged command.
    seq: u64,
}

impl Sandbox {
    /// Opens the store, replays its log (or seeds a fresh sandbox) and returns the sandbox.
    pub fn open(config: Config) -> anyhow::Result<Arc<Self>> {
        let store = SqlStore::open(config.storage.clone())?;
        Self::with_store(config, Box::new(store))
    }

    /// The same on any [`Store`] (the embedded SQLite one, or another backend).
    pub fn with_store(config: Config, store: Box<dyn Store>) -> anyhow::Result<Arc<Self>> {
        let genesis = Genesis {
            seed: config.seed,
            start: config.start,
        };
        // The log replays into the same world only with the seed and start it was made with.
        let made_with = format!(
            "--seed {} --start {}",
            config.seed,
            config.start.to_rfc3339()
        );
        let recorded = store.setting("genesis", made_with.clone())?;
        if recorded != made_with {
            anyhow::bail!(
                "{} was made with {recorded}, and its log replays into the same world only with those: start with {recorded}, or use another database (--db, --database-url or --in-memory)",
                config.storage.describe()
            );
        }
        let mut world = World::new(genesis);
        let records = store.load()?;
        for record in &records {
            let command: Command = serde_json::from_str(&record.json).map_err(|e| {
                anyhow::anyhow!("command {} in the log cannot be read: {e}", record.seq)
            })?;
            // A logged command succeeded when it was first executed, and execution is
            // deterministic, so it succeeds again.
            if let Err(e) = command.replay(&mut world) {
                anyhow::bail!(
                    "replaying command {} failed ({e}); the log does not match this sandbox's seed and start",
                    record.seq
                );
            }
        }
        let seq = records.last().map_or(0, |r| r.seq);
        let secret = |fixed: &Option<String>, purpose: &'static str| match fixed {
            Some(token) => Ok(token.clone()),
            None => store.setting(
                &format!("{purpose}_token"),
                crate::config::random_secret(purpose),
            ),
        };
        let secrets = Secrets {
            provisioning_token: secret(&config.provisioning_token, "provisioning")?,
            admin_token: secret(&config.admin_token, "admin")?,
        };
        let sandbox = Arc::new(Self {
            secrets,
            config,
            faults: Default::default(),
            journal: Default::default(),
            world: RwLock::new(WorldAndSeq { world, seq }),
            store,
            broken: AtomicBool::new(false),
        });
        Ok(sandbox)
    }

    /// Seeds a fresh sandbox (one whose log is empty); does nothing otherwise.
    pub async fn seed_if_empty(&self) -> Result<(), ApiError> {
        let empty = self.read_seq() == 0;
        if empty {
            self.execute(commands::Seed {}).await?;
        }
        Ok(())
    }

    fn read_seq(&self) -> u64 {
        self.world.read().unwrap_or_else(|e| e.into_inner()).seq
    }

    /// Read access to the world.
    pub fn read(&self) -> WorldRead<'_> {
        WorldRead(self.world.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Whether `key` is the partner provisioning token (compared in constant time).
    pub fn is_provisioning_token(&self, key: &ApiKey) -> bool {
        constant_time_eq::constant_time_eq(
            key.expose().as_bytes(),
            self.secrets.provisioning_token.as_bytes(),
        )
    }

    /// `Err(503)` once a command has panicked (see `broken`).
    pub fn check_healthy(&self) -> Result<(), ApiError> {
        if self.broken.load(Ordering::Acquire) {
            return Err(ApiError::unavailable(
                "The sandbox hit an internal error and stopped taking requests; restart it (every acknowledged change is in its log).",
            ));
        }
        Ok(())
    }

    /// Applies `change`; answers only once it is durable. A refused change changes nothing and
    /// is not logged.
    pub async fn execute<C: Change>(&self, change: C) -> Result<C::Output, ApiError> {
        self.check_healthy()?;
        let json = serde_json::to_string(&change.logged()).map_err(|_| ApiError::internal())?;
        let (output, durable) = {
            let mut guard = self.world.write().unwrap_or_else(|e| e.into_inner());
            let world = &mut guard.world;
            let output = match std::panic::catch_unwind(AssertUnwindSafe(|| change.apply(world))) {
                Ok(result) => result?,
                Err(_) => {
                    self.broken.store(true, Ordering::Release);
                    tracing::error!(
                        "a command panicked; the sandbox stops taking requests until restarted"
                    );
                    return Err(ApiError::internal());
                }
            };
            guard.seq += 1;
            // Queued while the lock is held, so the log order is the execution order.
            let durable = self.store.append(Record {
                seq: guard.seq,
                json,
            });
            (output, durable)
        };
        match durable.await {
            Ok(Ok(())) => Ok(output),
            failed => {
                // The change is in memory but not in the log: stop taking requests, like after
                // a panic, so nobody builds on a change a restart would not replay.
                let error = match failed {
                    Ok(Err(e)) => e,
                    _ => "the storage writer has stopped".to_string(),
                };
                self.broken.store(true, Ordering::Release);
                tracing::error!(%error, "a command could not be made durable; the sandbox stops taking requests until restarted");
                Err(ApiError::unavailable(
                    "The sandbox could not store the change and has stopped; restart it.",
                ))
            }
        }
    }
}

/// A read lock on the world.
pub struct WorldRead<'a>(RwLockReadGuard<'a, WorldAndSeq>);

impl std::ops::Deref for WorldRead<'_> {
    type Target = World;
    fn deref(&self) -> &World {
        &self.0.world
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    /// A store whose commits always fail, as a full or broken disk would.
    struct FailingStore;

    impl Store for FailingStore {
        fn load(&self) -> Result<Vec<Record>, StoreError> {
            Ok(Vec::new())
        }
        fn setting(&self, _key: &str, init: String) -> Result<String, StoreError> {
            Ok(init)
        }
        fn append(&self, _record: Record) -> tokio::sync::oneshot::Receiver<Result<(), String>> {
            let (done, wait) = tokio::sync::oneshot::channel();
            let _ = done.send(Err("disk full".into()));
            wait
        }
    }

    #[tokio::test]
    async fn a_change_that_cannot_be_stored_stops_the_sandbox() {
        let sandbox = Sandbox::with_store(Config::for_tests(), Box::new(FailingStore)).unwrap();
        let error = sandbox.execute(commands::Seed {}).await.unwrap_err();
        assert_eq!(error.status, 503);
        // Every later request is refused too, until a restart replays the (intact) log.
        let later = sandbox
            .execute(commands::RunSettlement {})
            .await
            .unwrap_err();
        assert_eq!(later.status, 503);
        assert!(sandbox.check_healthy().is_err());
    }
}
