//! The self-learning loop (issue: "models that learn from the 360° data they decide on").
//!
//! One round of [`learn`]: logged decisions joined to the features they were decided on
//! (the snapshot ledger, [`join`]) and to their outcomes (the attribution rules of
//! `vitrine_feedback::training`); per offer, an L2-regularised logistic regression
//! ([`fit`]) over the bundle's features as [`design`] encodes them; a champion/challenger
//! gate ([`challenger`]: held-out AUC, then the doubly-robust estimate of the resulting
//! policy on held-out logged decisions); the maturity ramp (offers with fewer than
//! `maturity` responses keep Thompson sampling on their Beta posterior); an uplift-scored
//! offer's two models are relearned as a T-learner on its sales (contacted rows vs rows
//! withheld from `no_contact` clients). The learned
//! models are the engine's own linear models, so every runtime runs them unchanged.
mod arm;
pub mod auc;
pub mod challenger;
pub mod design;
mod error;
pub mod fit;
mod gate;
pub mod join;
mod learner;
mod models;

pub use arm::ArmReport;
pub use error::LearnError;
pub use learner::{learn, served_propensity, served_uplift, Learned, Maturity, ModelKind, OfferReport, Settings, Weighting};
