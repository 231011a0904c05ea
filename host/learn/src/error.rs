//! Why a learning round failed as a whole (one offer's failed fit is reported in its
//! [`crate::OfferReport`], never an error of the round).

/// A failed round: nothing is written.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    #[error(transparent)]
    Feedback(#[from] vitrine_feedback::FeedbackError),
    #[error(transparent)]
    Store(#[from] vitrine_store::StoreError),
    #[error(transparent)]
    Engine(#[from] vitrine_engine::Error),
    #[error(transparent)]
    Replay(#[from] vitrine_feedback::learn::LearnError),
    #[error("no logged decision and no feedback event between {from} and {to}: nothing to learn from")]
    NoData { from: u64, to: u64 },
    #[error("{name} must be {expected}, got {value}")]
    Setting { name: &'static str, expected: &'static str, value: f64 },
}

impl LearnError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            LearnError::Feedback(e) => e.code(),
            LearnError::Store(e) => e.code(),
            LearnError::Engine(e) => e.code(),
            LearnError::Replay(e) => e.code(),
            LearnError::NoData { .. } => "learn_no_data",
            LearnError::Setting { .. } => "learn_bad_setting",
        }
    }
}
