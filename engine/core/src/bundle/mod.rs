//! Stage 7: the bundle, the signed unit the host ships: schema, offers, rules,
//! models, policy, posteriors, trusted snapshot keys and a version.
//!
//! Binary form: an envelope (see [`envelope`]) around a `postcard` payload; JSON
//! form: [`Bundle`] through `serde_json`, for inspection.
pub mod envelope;
mod error;
mod validate;

pub use envelope::{UnverifiedBundle, VerifiedBundle};
pub use error::BundleError;
use serde::{Deserialize, Serialize};

use crate::limits::Limits;
use crate::models::Model;
use crate::policy::{Cap, Policy, Posterior};
use crate::rules::Program;
use crate::schema::Schema;
use crate::snapshot::TrustedKey;

/// Everything the engine needs to decide.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Bundle {
    pub name: String,
    /// Monotonic version set by the host.
    pub version: u64,
    pub created_at: u64,
    pub schema: Schema,
    pub slots: Vec<SlotDef>,
    pub offers: Vec<Offer>,
    pub models: Vec<Model>,
    pub policy: Policy,
    pub posteriors: Vec<Posterior>,
    pub trusted_keys: Vec<TrustedKey>,
    pub limits: Limits,
    /// The send-time model, if the bundle declares one (read by the host's planner).
    pub timing: Option<Timing>,
}

/// A send-time model: one model output per hour of the day (24, hour 0 first) or per
/// weekday (7, Monday first); the best-scoring one is the client's send hour or day.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Timing {
    pub kind: TimingKind,
    pub outputs: Vec<ModelOutput>,
}

/// What a timing model's outputs score.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TimingKind {
    /// 24 outputs: hours 0–23 (UTC).
    Hour,
    /// 7 outputs: Monday to Sunday.
    Weekday,
}

impl TimingKind {
    /// How many outputs a timing model of this kind has.
    pub fn outputs(self) -> usize {
        match self {
            TimingKind::Hour => 24,
            TimingKind::Weekday => 7,
        }
    }
}

/// A page slot or a channel placement.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SlotDef {
    pub id: String,
    /// Index into `schema.channels`.
    pub channel: u8,
    /// Default top-k.
    pub k: u8,
}

/// An offer or a service action.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Offer {
    pub id: String,
    pub name: String,
    pub kind: OfferKind,
    pub category: String,
    /// Indices into `slots`.
    pub slots: Vec<u16>,
    /// V: the offer's value.
    pub value: f32,
    /// L: the offer's own business lever (multiplied with its category's).
    pub lever: f32,
    /// Unix seconds; 0 = open.
    pub valid_from: u64,
    /// Unix seconds; 0 = open.
    pub valid_until: u64,
    /// May this client have it?
    pub eligibility: Program,
    /// Does it fit this context?
    pub applicability: Program,
    /// Should we (e.g. not during an open complaint)?
    pub suitability: Program,
    /// How the personalised ranking scores the offer: a propensity or an uplift.
    pub score: Score,
    /// Fixed priority in the business-as-usual ranking (the `bau` arm, anonymous
    /// visitors, clients without profiling consent); `None`: V × L.
    pub bau_priority: Option<f32>,
    /// How long after a contact a sale of this offer is attributed to it (seconds;
    /// read by the host, not by the engine).
    pub attribution_secs: u64,
    pub treatments: Vec<Treatment>,
    pub caps: Vec<Cap>,
}

/// Commercial offer or non-commercial service action.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OfferKind {
    Offer,
    Service,
}

/// What the personalised ranking multiplies with C × V × L.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Score {
    /// P(response | shown).
    Propensity(Propensity),
    /// P(sale | contacted) − P(sale | not contacted).
    Uplift(Uplift),
}

/// One output column of one model.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelOutput {
    pub model: u16,
    pub output: u16,
}

/// Where an uplift comes from.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Uplift {
    /// A T-learner: a treated and a control output (one graph or two models).
    TwoModel { treated: ModelOutput, control: ModelOutput },
    /// An S-learner: one output of a model with a treatment input column, evaluated
    /// with the treatment at 1 and at 0.
    Treatment(ModelOutput),
    /// One output that is the uplift itself (class transformation, X-learner).
    Direct(ModelOutput),
}

/// Where P comes from.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Propensity {
    /// Output `output` of model `model`.
    Model {
        model: u16,
        output: u16,
    },
    Constant(f32),
}

/// A creative or price variant of an offer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Treatment {
    pub id: String,
    /// Relative share of traffic among the offer's treatments.
    pub weight: f32,
    pub creative: Creative,
}

/// What the page shows.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Creative {
    pub title: String,
    pub text: String,
    pub image: String,
    pub url: String,
    pub price: Option<f32>,
}
