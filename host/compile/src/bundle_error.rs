//! Errors building a bundle from its source folder.
use vitrine_source::SourceError;

use crate::rules::RuleSourceError;

/// Why a bundle source folder could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{what}: {source}")]
    Rule { what: String, source: RuleSourceError },
    #[error(transparent)]
    Model(#[from] crate::onnx::OnnxError),
}

impl From<vitrine_base::keys::KeyError> for BuildError {
    fn from(e: vitrine_base::keys::KeyError) -> Self {
        BuildError::Source(e.into())
    }
}

impl BuildError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            BuildError::Source(e) => e.code(),
            BuildError::Rule { source, .. } => source.code(),
            BuildError::Model(e) => e.code(),
        }
    }
}
