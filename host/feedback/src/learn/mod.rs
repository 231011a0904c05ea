//! The closed loop: `learn` turns feedback into Beta posteriors (and learned constant
//! propensities) in the next bundle version; `replay` judges a candidate bundle on
//! logged decisions with off-policy estimates before it ships.
mod posteriors;
mod replay;

pub use posteriors::{learn, Learned, OfferStats, Reward};
pub use replay::{replay, replay_each, ReplayReport, Samples};

/// Why learning or replay failed.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    #[error(transparent)]
    Feedback(#[from] crate::FeedbackError),
    #[error(transparent)]
    Engine(#[from] vitrine_engine::Error),
    #[error("the candidate could not decide: {0}")]
    Candidate(String),
    #[error(transparent)]
    Measure(#[from] crate::measure::MeasureError),
    #[error("{0}")]
    Invalid(String),
}

impl LearnError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            LearnError::Feedback(e) => e.code(),
            LearnError::Engine(e) => e.code(),
            LearnError::Candidate(_) => "learn_candidate",
            LearnError::Measure(e) => e.code(),
            LearnError::Invalid(_) => "learn_invalid",
        }
    }
}
