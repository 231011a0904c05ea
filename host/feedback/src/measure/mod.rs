//! Performance measurement of the personalisation engine's feedback.
//!
//! The engine logs impressions, clicks and conversions; this module turns those
//! counts and logs into numbers a person can act on:
//! - [`stats`]: rates with Wilson intervals, uplift of a treated group over a
//!   control group, and a sample-ratio-mismatch (SRM) check of the split.
//! - [`means`]: per-client means (sales, revenue, contacts per client) and the lift
//!   of one arm over another with Welch intervals.
//! - [`qini`]: Qini and uplift curves and their coefficients (scikit-uplift's definitions).
//! - [`ope`]: off-policy evaluation of a candidate policy from logged selection
//!   probabilities (IPS, self-normalised IPS, doubly robust) with bootstrap
//!   confidence intervals; [`obp`] takes the arrays Open Bandit Pipeline's `obp.ope` takes.
//!
//! Every function is total: bad input is a typed [`MeasureError`] (with a stable
//! [`MeasureError::code`]), never a panic.
mod error;
pub mod means;
pub mod obp;
pub mod ope;
pub mod qini;
pub mod stats;

pub use error::MeasureError;
