/// Why a snapshot was rejected. Every rejection has its own code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot text is not base64url: {0}")]
    BadEncoding(String),
    #[error("snapshot does not start with the magic bytes `VSNP`")]
    BadMagic,
    #[error("snapshot format version {0} is not supported (expected 1)")]
    BadVersion(u8),
    #[error("snapshot is truncated: {needed} bytes needed, {got} present")]
    Truncated { needed: usize, got: usize },
    #[error("snapshot is {got} bytes, more than the limit of {limit}")]
    Oversized { got: usize, limit: usize },
    #[error("snapshot is malformed: {0}")]
    Malformed(String),
    #[error("snapshot key id `{0}` is not trusted by this bundle")]
    UnknownKey(String),
    #[error("snapshot signature does not verify")]
    BadSignature,
    #[error("snapshot was made for schema {got}, this bundle's schema is {expected}")]
    SchemaMismatch { expected: String, got: String },
    #[error("snapshot expired at {expires_at}, now is {now}")]
    Expired { expires_at: u64, now: u64 },
    #[error("snapshot is not valid before {issued_at}, now is {now}")]
    NotYetValid { issued_at: u64, now: u64 },
    #[error("cannot encode snapshot: {0}")]
    Encode(String),
}

impl SnapshotError {
    pub fn code(&self) -> &'static str {
        match self {
            SnapshotError::BadEncoding(_) => "snapshot_bad_encoding",
            SnapshotError::BadMagic => "snapshot_bad_magic",
            SnapshotError::BadVersion(_) => "snapshot_bad_version",
            SnapshotError::Truncated { .. } => "snapshot_truncated",
            SnapshotError::Oversized { .. } => "snapshot_oversized",
            SnapshotError::Malformed(_) => "snapshot_malformed",
            SnapshotError::UnknownKey(_) => "snapshot_unknown_key",
            SnapshotError::BadSignature => "snapshot_bad_signature",
            SnapshotError::SchemaMismatch { .. } => "snapshot_schema_mismatch",
            SnapshotError::Expired { .. } => "snapshot_expired",
            SnapshotError::NotYetValid { .. } => "snapshot_not_yet_valid",
            SnapshotError::Encode(_) => "snapshot_encode",
        }
    }
}
