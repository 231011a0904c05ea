//! Feedback: events (impression, click, conversion, dismiss) and logged decisions, stored
//! durably behind [`FeedbackStore`] (SQLite in WAL mode is the embedded default; the
//! trait is what a PostgreSQL store would implement), written by a single group-commit
//! [`Writer`], and read back by the measurement queries in [`report`].
mod error;
mod event;
pub mod report;
mod sqlite;
mod writer;

pub use error::FeedbackError;
pub use event::{Event, EventKind, LoggedDecision, Outcome, Shown};
pub use sqlite::SqliteStore;
pub use writer::{Writer, GROUP};

/// A durable feedback store.
pub trait FeedbackStore: Send {
    /// Writes `decisions` and `events` in one transaction, durable when this returns.
    /// Events are idempotent by id: one outcome per event (stored or duplicate).
    fn write(&mut self, events: &[Event], decisions: &[LoggedDecision]) -> Result<Vec<Outcome>, FeedbackError>;
}
