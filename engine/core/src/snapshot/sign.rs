//! Host-side snapshot signing (feature `signing`): the one implementation that the
//! host, tests and vector generator share.
use ed25519_dalek::{Signer, SigningKey};

use super::format::{encode_features, MAGIC, SUBJECT_LEN, VERSION};
use super::{SnapshotError, SIGNING_DOMAIN};
use crate::limits::MAX_SNAPSHOT_BYTES;
use crate::schema::Schema;

/// What a snapshot says about one client.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotContent {
    pub subject: [u8; SUBJECT_LEN],
    pub issued_at: u64,
    pub expires_at: u64,
    pub consent: u16,
    /// One value per schema feature (`None` = missing); categoricals as vocabulary index.
    pub values: Vec<Option<f32>>,
}

/// Signs snapshots with one key under one key id.
#[derive(Debug)]
pub struct SnapshotSigner {
    kid: String,
    key: SigningKey,
}

impl SnapshotSigner {
    /// A signer; `kid` must be 1 to 32 bytes.
    pub fn new(kid: &str, key: SigningKey) -> Result<Self, SnapshotError> {
        if kid.is_empty() || kid.len() > 32 {
            return Err(SnapshotError::Encode(format!("key id `{kid}` must be 1 to 32 bytes")));
        }
        Ok(SnapshotSigner { kid: kid.to_string(), key })
    }

    /// The binary snapshot for `content` under `schema`.
    pub fn sign(&self, schema: &Schema, content: &SnapshotContent) -> Result<Vec<u8>, SnapshotError> {
        let mut out = Vec::with_capacity(128 + schema.features.len() * 2);
        out.extend_from_slice(&MAGIC);
        out.push(VERSION);
        out.push(self.kid.len() as u8);
        out.extend_from_slice(self.kid.as_bytes());
        out.extend_from_slice(&content.subject);
        out.extend_from_slice(&content.issued_at.to_le_bytes());
        out.extend_from_slice(&content.expires_at.to_le_bytes());
        out.extend_from_slice(&schema.hash());
        out.extend_from_slice(&content.consent.to_le_bytes());
        out.extend_from_slice(&(schema.features.len() as u16).to_le_bytes());
        encode_features(&content.values, schema, &mut out)?;
        let message = [SIGNING_DOMAIN, &out].concat();
        out.extend_from_slice(&self.key.sign(&message).to_bytes());
        if out.len() > MAX_SNAPSHOT_BYTES {
            return Err(SnapshotError::Oversized { got: out.len(), limit: MAX_SNAPSHOT_BYTES });
        }
        Ok(out)
    }
}
