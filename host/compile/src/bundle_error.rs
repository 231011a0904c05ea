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
    /// An uplift declaration names a missing model output or treatment input.
    #[error("{what}: {message}")]
    Uplift { what: String, message: String },
    #[error("policy.arms: shares must each be in [0, 1] and sum to at most 1 (bau {bau} + no_contact {no_contact})")]
    ArmShares { bau: f32, no_contact: f32 },
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
            BuildError::Uplift { .. } => "uplift_declaration",
            BuildError::ArmShares { .. } => "arm_shares",
        }
    }
}
