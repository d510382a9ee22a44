//! The running sandbox: the world behind a lock, the command log behind the store, and the
//! one path every change takes (execute, log, wait until durable, answer).

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};

use confirma_server::ApiError;

use crate::config::Config;
use crate::store::{Record, SqliteStore, Store};
use crate::world::{Command, Effect, Genesis, World};

pub struct Sandbox {
    pub config: Config,
    world: RwLock<WorldAndSeq>,
    store: Box<dyn Store>,
    /// Set when a command panicked midway: the world in memory may then be half-changed, so
    /// the sandbox refuses further work until it restarts (and replays its log, which never
    /// holds the failed command).
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
        let store = SqliteStore::open(config.db_path().as_deref())?;
        let genesis = Genesis {
            seed: config.seed,
            start: config.start,
        };
        let mut world = World::new(genesis);
        let records = store.load()?;
        for record in &records {
            let command: Command = serde_json::from_str(&record.json).map_err(|e| {
                anyhow::anyhow!("command {} in the log cannot be read: {e}", record.seq)
            })?;
            // A logged command succeeded when it was first executed, and execution is
            // deterministic, so it succeeds again.
            if let Err(e) = world.execute(&command) {
                anyhow::bail!(
                    "replaying command {} failed ({e}); the log does not match this sandbox's seed and start",
                    record.seq
                );
            }
        }
        let seq = records.last().map_or(0, |r| r.seq);
        let sandbox = Arc::new(Self {
            config,
            world: RwLock::new(WorldAndSeq { world, seq }),
            store: Box::new(store),
            broken: AtomicBool::new(false),
        });
        Ok(sandbox)
    }

    /// Seeds a fresh sandbox (one whose log is empty); does nothing otherwise.
    pub async fn seed_if_empty(&self) -> Result<(), ApiError> {
        let empty = self.read_seq() == 0;
        if empty {
            self.execute(Command::Seed).await?;
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

    /// `Err(503)` once a command has panicked (see `broken`).
    pub fn check_healthy(&self) -> Result<(), ApiError> {
        if self.broken.load(Ordering::Acquire) {
            return Err(ApiError::unavailable(
                "The sandbox hit an internal error and stopped taking requests; restart it (every acknowledged change is in its log).",
            ));
        }
        Ok(())
    }

    /// Executes `command`; answers only once it is durable. A refused command changes nothing
    /// and is not logged.
    pub async fn execute(&self, command: Command) -> Result<Effect, ApiError> {
        self.check_healthy()?;
        let json = serde_json::to_string(&command).map_err(|_| ApiError::internal())?;
        let (effect, durable) = {
            let mut guard = self.world.write().unwrap_or_else(|e| e.into_inner());
            let world = &mut guard.world;
            let effect =
                match std::panic::catch_unwind(AssertUnwindSafe(|| world.execute(&command))) {
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
            (effect, durable)
        };
        match durable.await {
            Ok(Ok(())) => Ok(effect),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "a command could not be made durable");
                Err(ApiError::unavailable(
                    "The sandbox could not store the change; try again.",
                ))
            }
            Err(_) => Err(ApiError::unavailable("The sandbox's storage has stopped.")),
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
