//! How a sandbox run is set up: address, storage, seed, start of time and the fixed secrets.

use std::net::SocketAddr;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    /// The database file; `None` keeps everything in memory (gone when the process ends).
    pub db: Option<PathBuf>,
    pub seed: u64,
    /// Sandbox time at the first start.
    pub start: DateTime<Utc>,
    /// The partner provisioning token (for `POST /api/v1/partner/client` only).
    pub provisioning_token: String,
    /// The token of the `/sandbox/...` control API.
    pub admin_token: String,
}

impl Config {
    /// A configuration for tests: in memory, fixed seed and tokens, a free loopback port.
    pub fn for_tests() -> Self {
        Self {
            listen: "127.0.0.1:0".parse().expect("valid address"),
            db: None,
            seed: 42,
            start: "2026-03-02T08:00:00Z".parse().expect("valid time"),
            provisioning_token: "test-provisioning-token".into(),
            admin_token: "test-admin-token".into(),
        }
    }
}

/// A secret derived from the seed, for tokens the operator did not fix.
pub fn derived_secret(seed: u64, purpose: &str) -> String {
    let digest = Sha256::digest(format!("{seed}:{purpose}"));
    format!("cfsb_{purpose}_{}", crate::world::hex(&digest[..16]))
}
