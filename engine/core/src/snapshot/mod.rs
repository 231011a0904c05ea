//! Stage 2: signed per-client feature snapshots (binary format v1, see `FORMAT.md`).
//!
//! Bytes become an [`UnverifiedSnapshot`] by parsing, and a [`Snapshot`] only through
//! [`UnverifiedSnapshot::verify`] against the bundle's trusted keys.
mod cache;
mod error;
mod external;
mod format;
mod profile;
#[cfg(feature = "signing")]
mod sign;
mod verify;

pub use cache::{CacheStats, VerifiedCache};
pub use error::SnapshotError;
pub use external::SigningInput;
pub use format::{decode_text, encode_text, snapshot_id, UnverifiedSnapshot, MAGIC, VERSION};
pub use profile::{Profile, ProfileWire};
#[cfg(feature = "signing")]
pub use sign::{SnapshotContent, SnapshotSigner};
pub use verify::{Snapshot, TrustedKey, VerifyContext};

/// Domain separation prefix of the signed message.
pub const SIGNING_DOMAIN: &[u8] = b"vitrine/snapshot/v1\0";

/// Consent bit for profiling (personalisation); channel `i` uses bit `i + 1`.
pub const CONSENT_PROFILING: u16 = 1;

/// The consent bit of channel index `i`.
pub const fn channel_consent_bit(i: usize) -> u16 {
    1u16 << (i + 1)
}
