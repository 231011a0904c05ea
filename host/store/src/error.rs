//! Feature-store errors.
use std::path::PathBuf;

/// Why a feature-store operation failed. Imports are one transaction: on any error
/// nothing is written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("feature store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{path}: row {row}, column `{column}`: {reason} (value `{value}`)")]
    Row { path: PathBuf, row: u64, column: String, value: String, reason: String },
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("this feature store was made for schema {stored}; the bundle's schema is {given}")]
    SchemaMismatch { stored: String, given: String },
    #[error("no client `{0}` in the feature store")]
    UnknownClient(String),
    #[error("the feature store has no schema yet: import features first")]
    Empty,
    #[error("{0}")]
    Corrupt(String),
}

impl StoreError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Io { .. } => "store_io",
            StoreError::Sqlite(_) => "store_sqlite",
            StoreError::Row { .. } => "store_bad_row",
            StoreError::File { .. } => "store_bad_file",
            StoreError::SchemaMismatch { .. } => "store_schema_mismatch",
            StoreError::UnknownClient(_) => "store_unknown_client",
            StoreError::Empty => "store_empty",
            StoreError::Corrupt(_) => "store_corrupt",
        }
    }
}
