//! Stage 6: the decide request, the response and the decision record.
//!
//! These types are the wire format of every face (JSON through `serde_json` for the
//! raw ABI, JS objects through `serde-wasm-bindgen` for the JS face).
mod error;

use std::collections::BTreeMap;

pub use error::RequestError;
use serde::{Deserialize, Serialize};

use crate::bundle::{Creative, OfferKind};
use crate::policy::{Arm, HistoryKind};

/// One decision to make.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DecideRequest {
    /// The client's signed snapshot, base64url; absent for an anonymous visitor.
    #[serde(default)]
    pub snapshot: Option<String>,
    /// Unix seconds, supplied by the host (the engine reads no clock).
    pub now: u64,
    /// Seed of every random choice (≤ 2^53 − 1 so JavaScript can carry it).
    pub seed: u64,
    /// Request-context fields by name (page, device, hour, …).
    #[serde(default)]
    pub context: BTreeMap<String, ContextValue>,
    /// Slots to fill, in page order.
    pub slots: Vec<SlotRequest>,
    /// Recent contacts with this client, for caps and suppression.
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    /// Add why every other offer was dropped.
    #[serde(default)]
    pub explain: bool,
}

/// One planning decision: a host's trusted profile in place of a snapshot
/// (see [`crate::snapshot::Profile`]). Taken only by the plan entry point.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    pub profile: crate::snapshot::ProfileWire,
    /// The decide request, without `snapshot`.
    pub request: DecideRequest,
}

/// A context value: number, boolean, or a category label.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum ContextValue {
    Bool(bool),
    Num(f64),
    Label(String),
}

/// One slot to fill.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SlotRequest {
    pub slot: String,
    /// Overrides the slot's default top-k.
    #[serde(default)]
    pub k: Option<u8>,
}

/// A past contact with the client.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    pub offer: String,
    #[serde(default)]
    pub channel: Option<String>,
    pub kind: HistoryKind,
    pub at: u64,
}

/// The engine's answer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DecideResponse {
    pub decision_id: String,
    pub mode: Mode,
    pub slots: Vec<SlotDecision>,
    pub record: DecisionRecord,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain: Option<Vec<Dropped>>,
}

/// Which ranking produced the decision.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Rules, models, policy and exploration on the client's features.
    Personalised,
    /// No snapshot: the business-as-usual ranking.
    Anonymous,
    /// No profiling consent: the business-as-usual ranking, reading no personal feature.
    NoProfilingConsent,
    /// In the `bau` arm: the business-as-usual ranking (non-personal eligibility, fixed
    /// priorities, no models, no exploration).
    Bau,
    /// In the `no_contact` arm: no commercial offer (service actions stay unless the
    /// bundle says otherwise).
    NoContact,
}

impl Mode {
    /// Whether the business-as-usual ranking decides (no models, no exploration).
    pub fn is_bau(self) -> bool {
        matches!(self, Mode::Anonymous | Mode::NoProfilingConsent | Mode::Bau)
    }
}

/// The offers chosen for one slot.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SlotDecision {
    pub slot: String,
    pub channel: String,
    pub offers: Vec<Chosen>,
}

/// One chosen offer with everything that ranked it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Chosen {
    pub rank: u8,
    pub offer: String,
    pub kind: OfferKind,
    pub category: String,
    pub treatment: String,
    pub creative: Creative,
    /// The score: a propensity, or for an uplift-scored offer P(sale | contacted) when
    /// the model gives it (else the uplift); 1 in the business-as-usual ranking.
    pub p: f32,
    /// Context weight.
    pub c: f32,
    /// Value.
    pub v: f32,
    /// Business lever.
    pub l: f32,
    /// P × C × V × L − cost (uplift × C × V × L − cost when uplift-scored); the fixed
    /// BAU priority in the business-as-usual ranking.
    pub priority: f64,
    /// Cost of the contact on this slot's channel.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cost: f32,
    /// Uplift-scored offers: P(sale | contacted), when the model gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_treated: Option<f32>,
    /// Uplift-scored offers: P(sale | not contacted), when the model gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_control: Option<f32>,
    /// Uplift-scored offers: P(sale | contacted) − P(sale | not contacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uplift: Option<f32>,
    /// Probability that this offer (and treatment) was chosen at this rank, given the
    /// picks before it: what off-policy estimators need.
    pub selection_probability: f64,
    pub probability_kind: ProbabilityKind,
}

/// Whether `selection_probability` is exact or a Monte Carlo estimate.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ProbabilityKind {
    Exact,
    Estimated,
}

/// Everything needed to replay the decision and attribute feedback to it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DecisionRecord {
    pub decision_id: String,
    pub bundle: String,
    pub bundle_version: u64,
    pub bundle_hash: String,
    pub snapshot_hash: Option<String>,
    pub subject: Option<String>,
    pub seed: u64,
    pub now: u64,
    pub context: BTreeMap<String, ContextValue>,
    /// The slots asked for, with any `k` override.
    pub slots: Vec<SlotRequest>,
    pub history_hash: String,
    pub consent: ConsentState,
    /// The subject's experiment arm (absent for an anonymous visitor); see
    /// [`crate::policy::arms`] to recompute it.
    pub arm: Option<Arm>,
    /// Uplift-scored commercial offers the personalised ranking would have shown, for a
    /// client in the `no_contact` arm: the control half of the Qini curve.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<Withheld>,
    pub engine_version: String,
}

/// An offer withheld from a `no_contact` client, with its predicted uplift.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Withheld {
    pub slot: String,
    pub channel: String,
    pub offer: String,
    pub uplift: f32,
}

fn is_zero(x: &f32) -> bool {
    *x == 0.0
}

/// Consent as the engine applied it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ConsentState {
    pub profiling: bool,
    /// Channels the client consented to.
    pub channels: Vec<String>,
}

/// Why an offer placed in a slot was not chosen there.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Dropped {
    pub slot: String,
    pub offer: String,
    pub reason: DropReason,
}

/// The first gate an offer failed.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    OutsideValidity,
    Eligibility,
    Applicability,
    Suitability,
    OfferCap,
    CategoryCap,
    Suppressed,
    ChannelConsent,
    ChannelCap,
    AlreadyOnPage,
    CategoryLimit,
    Outranked,
    /// Expected incremental value (uplift × C × V × L − cost) not positive.
    NoUplift,
    /// A commercial offer, and the client is in the `no_contact` arm.
    NoContactArm,
}
