//! Errors reading a bundle source's `bundle.toml`.
use std::path::PathBuf;

use vitrine_base::keys::KeyError;

/// Why a bundle source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}:{column}: {message}")]
    Toml { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{path}: {what}: {message}")]
    Invalid { path: PathBuf, what: String, message: String },
    #[error("{path}: {what}: unknown {kind} `{name}`{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    Unknown { path: PathBuf, what: String, kind: &'static str, name: String, suggestion: Option<String> },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("the bundle does not pass the engine's checks: {0}")]
    Engine(vitrine_engine::Error),
}

impl SourceError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            SourceError::Io { .. } => "source_io",
            SourceError::Toml { .. } => "source_toml",
            SourceError::Invalid { .. } => "source_invalid",
            SourceError::Unknown { .. } => "source_unknown_name",
            SourceError::Key(e) => e.code(),
            SourceError::Engine(e) => e.code(),
        }
    }
}
