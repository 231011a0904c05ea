//! Feedback-store errors.

/// Why the feedback store failed.
#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    #[error("feedback store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("feedback store: {0}")]
    Io(String),
    #[error("the feedback writer has stopped")]
    WriterGone,
    #[error("feedback store: corrupt row: {0}")]
    Corrupt(String),
}

impl FeedbackError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            FeedbackError::Sqlite(_) => "feedback_sqlite",
            FeedbackError::Io(_) => "feedback_io",
            FeedbackError::WriterGone => "feedback_writer_gone",
            FeedbackError::Corrupt(_) => "feedback_corrupt",
        }
    }
}
