//! How a sandbox run is set up: address, storage, seed, start of time and the secrets an operator
//! fixed.

use std::net::SocketAddr;

use chrono::{DateTime, Utc};

#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    /// Where the state is kept: an SQLite file, PostgreSQL, or memory only.
    pub storage: crate::store::Location,
    pub seed: u64,
    /// Sandbox time at the first start.
    pub start: DateTime<Utc>,
    /// The partner provisioning token (for `POST /api/v1/partner/client` only); `None`: a random
    /// one, generated once per database and kept in it.
    pub provisioning_token: Option<String>,
    /// The token of the `/sandbox/...` control API; `None`: random, as above.
    pub admin_token: Option<String>,
    /// How long the database may take, and how large an SQLite file may grow.
    pub store_limits: crate::store::StoreLimits,
    /// A token that may create spaces (`POST /sandbox/spaces`) and do nothing else; `None`: only
    /// the admin token creates them.
    pub spaces_token: Option<String>,
    /// The most spaces the sandbox holds at once (the default space aside).
    pub max_spaces: u32,
    /// The longest a space may go unused before it is deleted (and its default).
    pub space_max_idle: std::time::Duration,
}

/// `--max-spaces` unless given.
pub const MAX_SPACES: u32 = 1_000;

/// `--space-max-idle` unless given: a day.
pub const SPACE_MAX_IDLE: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

impl Config {
    /// A configuration for tests: in memory, fixed seed and tokens, a free loopback port.
    pub fn for_tests() -> Self {
        Self {
            listen: "127.0.0.1:0".parse().expect("valid address"),
            storage: crate::store::Location::Memory,
            seed: 42,
            start: "2026-03-02T08:00:00Z".parse().expect("valid time"),
            provisioning_token: Some("test-provisioning-token".into()),
            admin_token: Some("test-admin-token".into()),
            store_limits: Default::default(),
            spaces_token: Some("test-spaces-token".into()),
            max_spaces: MAX_SPACES,
            space_max_idle: SPACE_MAX_IDLE,
        }
    }
}

/// A new random secret for `purpose` (`provisioning`, `admin`): 128 bits from the operating
/// system, so that no two installations share one.
pub fn random_secret(purpose: &str) -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    format!("cfsb_{purpose}_{}", crate::world::hex(&bytes))
}
