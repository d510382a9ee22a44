//! Spaces: isolated sandboxes inside one. Every stored row belongs to one space, whose key leads
//! every table's key and index; the default space (the sandbox's own, served as it always was) is
//! 0.

use std::fmt;

use chrono::{DateTime, Utc};
use std::str::FromStr;

/// A space's key. Shown to users as `default` or `sp_` and 16 hex digits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpaceId(pub i64);

impl SpaceId {
    /// The sandbox's own space: what a sandbox serves without `/sandbox/spaces`.
    pub const DEFAULT: Self = Self(0);

    pub fn is_default(self) -> bool {
        self == Self::DEFAULT
    }
}

impl fmt::Display for SpaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_default() {
            f.write_str("default")
        } else {
            write!(f, "sp_{:016x}", self.0 as u64)
        }
    }
}

impl FromStr for SpaceId {
    type Err = ();

    /// `default`, or `sp_` and exactly 16 lower-case hex digits (not 0).
    fn from_str(text: &str) -> Result<Self, ()> {
        if text == "default" {
            return Ok(Self::DEFAULT);
        }
        let digits = text.strip_prefix("sp_").ok_or(())?;
        if digits.len() != 16
            || !digits
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(());
        }
        let n = u64::from_str_radix(digits, 16).map_err(|_| ())? as i64;
        if n == 0 { Err(()) } else { Ok(Self(n)) }
    }
}

/// A space made through `/sandbox/spaces`, as stored (the default space has none: it is the
/// sandbox's own, made with its flags).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpaceRecord {
    pub space: SpaceId,
    pub name: String,
    /// SHA-256 (hex) of the space's provisioning and admin tokens (never the tokens).
    pub provisioning_hash: String,
    pub admin_hash: String,
    pub seed: u64,
    pub start: DateTime<Utc>,
    /// Mixed into the space's tokens: spaces made with one seed share none.
    pub salt: String,
    /// Whether the space was seeded with the demo client (and is again on reset).
    pub demo: bool,
    /// Wall-clock time of creation.
    pub created: DateTime<Utc>,
    /// How long the space may go unused before it is deleted.
    pub idle_expiry_seconds: i64,
    /// Wall-clock time at which it is deleted unless used before.
    pub expires: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_space_id_reads_back_as_shown_and_nothing_else_reads() {
        for id in [
            SpaceId::DEFAULT,
            SpaceId(1),
            SpaceId(-1),
            SpaceId(i64::MAX),
            SpaceId(0x1234),
        ] {
            assert_eq!(id.to_string().parse::<SpaceId>(), Ok(id));
        }
        assert_eq!(SpaceId(0x1234).to_string(), "sp_0000000000001234");
        for bad in [
            "",
            "sp_",
            "sp_0000000000000000",
            "sp_000000000000123",
            "SP_0000000000001234",
            "sp_000000000000123G",
            "sp_00000000000012345",
            "0000000000001234",
            "Default",
        ] {
            assert_eq!(bad.parse::<SpaceId>(), Err(()), "{bad}");
        }
    }
}
