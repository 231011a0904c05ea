//! `vitrine-feedback`: what happened, and what it means.
//!
//! Feedback: events (impression, click, conversion, dismiss), sales from the order system
//! and logged decisions, stored
//! durably behind [`FeedbackStore`] (SQLite in WAL mode is the embedded default; the
//! trait is what a PostgreSQL store would implement), written by a single group-commit
//! [`Writer`], and read back by the measurement queries in [`report`].
//!
//! Above the store: [`measure`] (statistics and off-policy estimates), [`learn`]
//! (posteriors, and replay of logged decisions through a candidate's decide function,
//! so this crate does not link Wasmtime). Measurement, learning and replay read the
//! store only through [`FeedbackRead`].
pub mod attribution;
mod error;
mod event;
pub mod learn;
pub mod measure;
pub mod report;
mod sqlite;
mod store;
pub mod training;
mod writer;

pub use error::FeedbackError;
pub use event::{Event, EventKind, LoggedDecision, Outcome, Sale, SaleKind, Shown};
pub use sqlite::SqliteStore;
pub use store::{
    history_entries, ClientOutcome, ContactRow, DecisionOffer, EventCounts, Exposure, FeedbackRead, FeedbackStore, FirstPick,
    LoggedRequest, OfferCounts, Response, SaleRow,
};
pub use writer::{Writer, GROUP};
