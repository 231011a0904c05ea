//! Verification: the only way from [`UnverifiedSnapshot`] to [`Snapshot`].
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::format::{decode_features, UnverifiedSnapshot, SUBJECT_LEN};
use super::{SnapshotError, VerifiedCache, SIGNING_DOMAIN};
use crate::schema::Schema;

/// A snapshot signing key the bundle trusts, by key id (several allow rotation).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TrustedKey {
    pub kid: String,
    pub public_key: [u8; 32],
}

/// A verified snapshot: signature, key, schema and validity window all checked.
/// Its fields are private so that verification is the only way to make one.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub(crate) subject: [u8; SUBJECT_LEN],
    pub(crate) issued_at: u64,
    pub(crate) expires_at: u64,
    pub(crate) consent: u16,
    pub(crate) hash: [u8; 16],
}

impl Snapshot {
    /// The client's pseudonym.
    pub fn subject(&self) -> [u8; SUBJECT_LEN] {
        self.subject
    }
    /// Unix seconds.
    pub fn issued_at(&self) -> u64 {
        self.issued_at
    }
    /// Unix seconds.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }
    /// Consent bits: bit 0 profiling, bit `i + 1` channel `i`.
    pub fn consent(&self) -> u16 {
        self.consent
    }
    /// First 16 bytes of SHA-256 over the snapshot bytes: its identity in decision records.
    pub fn hash(&self) -> [u8; 16] {
        self.hash
    }
}

/// Inputs to verification that come from the bundle and the request.
#[derive(Debug, Clone, Copy)]
pub struct VerifyContext<'a> {
    pub keys: &'a [(String, VerifyingKey)],
    pub schema_hash: [u8; 8],
    pub now: u64,
    pub skew_secs: u64,
}

impl VerifyContext<'_> {
    /// The trusted key named `kid`.
    pub fn key(&self, kid: &[u8]) -> Option<&VerifyingKey> {
        self.keys.iter().find(|(k, _)| k.as_bytes() == kid).map(|(_, key)| key)
    }
}

impl<'a> UnverifiedSnapshot<'a> {
    /// Verifies signature (or finds these exact bytes in `cache`), schema and time,
    /// then decodes the features into `features` (`NaN` = missing).
    pub fn verify(
        self,
        cx: &VerifyContext<'_>,
        schema: &Schema,
        cache: &mut VerifiedCache,
        features: &mut Vec<f32>,
    ) -> Result<Snapshot, SnapshotError> {
        let (hash, cached) = match cache.lookup(self.bytes) {
            Some((h, decoded)) => {
                features.clear();
                features.extend_from_slice(decoded);
                (h, true)
            }
            None => {
                let key = cx.key(self.kid).ok_or_else(|| SnapshotError::UnknownKey(self.kid().to_string()))?;
                let message = [SIGNING_DOMAIN, self.signed_part()].concat();
                key.verify_strict(&message, &Signature::from_bytes(&self.signature)).map_err(|_| SnapshotError::BadSignature)?;
                (super::format::snapshot_id(self.bytes), false)
            }
        };
        if self.schema_hash != cx.schema_hash {
            return Err(SnapshotError::SchemaMismatch { expected: crate::hex(&cx.schema_hash), got: crate::hex(&self.schema_hash) });
        }
        if cx.now.saturating_add(cx.skew_secs) < self.issued_at {
            return Err(SnapshotError::NotYetValid { issued_at: self.issued_at, now: cx.now });
        }
        if cx.now >= self.expires_at.saturating_add(cx.skew_secs) {
            return Err(SnapshotError::Expired { expires_at: self.expires_at, now: cx.now });
        }
        if !cached {
            decode_features(self.body, self.n_features, schema, features)?;
            cache.insert(self.bytes, hash, features);
        }
        Ok(Snapshot { subject: self.subject, issued_at: self.issued_at, expires_at: self.expires_at, consent: self.consent, hash })
    }
}
