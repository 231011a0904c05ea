//! The `bundle.toml` format, as written by people. See `examples/bundle/bundle.toml`.
use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub bundle: Meta,
    pub schema: Schema,
    pub slots: Vec<Slot>,
    pub offers: Vec<Offer>,
    #[serde(default)]
    pub policy: Policy,
    /// Snapshot public key files (`.pub`), relative to the folder.
    pub trusted_snapshot_keys: Vec<String>,
    /// ONNX propensity models.
    #[serde(default)]
    pub models: Vec<ModelSource>,
    /// The send-time model, if any.
    #[serde(default)]
    pub timing: Option<Timing>,
}

/// A send-time model (`[timing]`): a model whose outputs score the hours of the day or
/// the weekdays; the planner sends at the client's best one.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// `hour` (24 scores, hour 0 first, UTC) or `weekday` (7, Monday first).
    pub kind: String,
    pub model: String,
    /// One output per hour or weekday, in order (each a binary classifier's output:
    /// its column 1)…
    #[serde(default)]
    pub outputs: Vec<String>,
    /// …or one output whose columns are the hours or weekdays (a multiclass model).
    #[serde(default)]
    pub output: Option<String>,
}

/// An ONNX model and the features its input columns read, in order.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ModelSource {
    pub name: String,
    /// Relative to the folder; `<file minus .onnx>.reference.json` must sit beside it.
    pub file: String,
    pub inputs: Vec<String>,
    /// An S-learner's treatment flag: one of `inputs` that is not a feature; the engine
    /// feeds it 1 (contacted) or 0 (not).
    #[serde(default)]
    pub treatment: Option<String>,
}

/// How an offer's uplift is computed: a T-learner (`treated` and `control` outputs),
/// an S-learner (`s_learner`: a model with a `treatment` input) or a `direct` uplift output.
#[derive(Deserialize, Debug)]
#[serde(untagged, deny_unknown_fields)]
pub enum UpliftSource {
    TwoModel { treated: OutputRef, control: OutputRef },
    SLearner { s_learner: OutputRef },
    Direct { direct: OutputRef },
}

/// One output column of a model.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct OutputRef {
    pub model: String,
    pub output: String,
    /// Which column of the output: required when it has more than two (a multiclass
    /// model's classes); else column 1 (a binary classifier's positive class).
    #[serde(default)]
    pub column: Option<usize>,
}

/// A constant, or a model output column.
#[derive(Deserialize, Debug)]
#[serde(untagged)]
pub enum PropensitySource {
    Constant(f32),
    Model {
        model: String,
        output: String,
        /// As [`OutputRef::column`].
        #[serde(default)]
        column: Option<usize>,
    },
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub name: String,
    pub version: u64,
    #[serde(default)]
    pub created_at: u64,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    pub channels: Vec<String>,
    pub features: Vec<Feature>,
    #[serde(default)]
    pub context: Vec<ContextField>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Feature {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FeatureType,
    /// `f32` (default), `u8` or `u16` for numerics.
    #[serde(default)]
    pub encoding: Option<String>,
    #[serde(default = "one")]
    pub scale: f32,
    #[serde(default)]
    pub offset: f32,
    #[serde(default)]
    pub vocab: Vec<String>,
    #[serde(default = "yes")]
    pub personal: bool,
}

#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FeatureType {
    Numeric,
    Boolean,
    Categorical,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ContextField {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FeatureType,
    #[serde(default)]
    pub vocab: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    pub id: String,
    pub channel: String,
    #[serde(default = "one_u8")]
    pub k: u8,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub service: bool,
    pub category: String,
    pub slots: Vec<String>,
    pub value: f32,
    #[serde(default = "one")]
    pub lever: f32,
    #[serde(default)]
    pub valid_from: u64,
    #[serde(default)]
    pub valid_until: u64,
    /// CEL text, or `@path/to/file.cel` relative to the folder.
    #[serde(default)]
    pub eligibility: Option<String>,
    #[serde(default)]
    pub applicability: Option<String>,
    #[serde(default)]
    pub suitability: Option<String>,
    /// A constant, or `{ model = "name", output = "probabilities", column = 1 }`.
    /// Exactly one of `propensity` and `uplift`.
    #[serde(default)]
    pub propensity: Option<PropensitySource>,
    /// `{ treated = {…}, control = {…} }`, `{ s_learner = {…} }` or `{ direct = {…} }`.
    #[serde(default)]
    pub uplift: Option<UpliftSource>,
    /// Fixed priority in the business-as-usual ranking (default V × L).
    #[serde(default)]
    pub bau_priority: Option<f32>,
    /// Older bundles: the baseline ranking's propensity. Mapped to
    /// `bau_priority = baseline_propensity × value × lever` when `bau_priority` is unset.
    #[serde(default)]
    pub baseline_propensity: Option<f32>,
    /// How long after a contact a sale of this offer is attributed to it (default 7d).
    #[serde(default)]
    pub attribution_window: Option<String>,
    #[serde(default)]
    pub caps: Vec<Cap>,
    pub treatments: Vec<Treatment>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Cap {
    /// `offer` or `category`.
    pub scope: String,
    pub max: u16,
    /// A duration: `90s`, `15m`, `36h`, `7d`.
    pub window: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Treatment {
    pub id: String,
    #[serde(default = "one")]
    pub weight: f32,
    pub title: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub image: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub price: Option<f32>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// `none`, `epsilon_greedy` (with `epsilon`) or `softmax` (with `temperature`).
    #[serde(default)]
    pub exploration: Option<String>,
    #[serde(default)]
    pub epsilon: Option<f64>,
    #[serde(default)]
    pub temperature: Option<f64>,
    /// The experiment arms: `{ salt, bau, no_contact, no_contact_services }`.
    #[serde(default)]
    pub arms: Option<Arms>,
    /// Older bundles: a holdout that saw the non-personalised baseline. Mapped to the
    /// `bau` arm (`bau = holdout_share`, `salt = holdout_salt`); not with `arms`.
    #[serde(default)]
    pub holdout_share: Option<f32>,
    #[serde(default)]
    pub holdout_salt: Option<String>,
    /// Channel → cost of one contact (same unit as offer values).
    #[serde(default)]
    pub channel_costs: BTreeMap<String, f32>,
    #[serde(default)]
    pub max_per_category: u8,
    #[serde(default)]
    pub snapshot_skew: Option<String>,
    #[serde(default)]
    pub suppression: Option<Suppression>,
    #[serde(default)]
    pub context_weights: Vec<ContextWeight>,
    /// Category → lever.
    #[serde(default)]
    pub category_levers: BTreeMap<String, f32>,
    #[serde(default)]
    pub channel_caps: Vec<ChannelCap>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Arms {
    pub salt: String,
    #[serde(default)]
    pub bau: f32,
    #[serde(default)]
    pub no_contact: f32,
    #[serde(default = "yes")]
    pub no_contact_services: bool,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    pub after_impressions: u16,
    pub window: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ContextWeight {
    /// CEL over context fields only.
    pub when: String,
    /// Offer ids (empty: all offers).
    #[serde(default)]
    pub offers: Vec<String>,
    pub weight: f32,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ChannelCap {
    pub channel: String,
    pub max: u16,
    pub window: String,
}

fn one() -> f32 {
    1.0
}
fn one_u8() -> u8 {
    1
}
fn yes() -> bool {
    true
}
