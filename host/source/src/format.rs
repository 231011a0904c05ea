//! The `bundle.toml` format, as written by people. See `examples/bundle/bundle.toml`.
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

/// A bundle source: `bundle.toml` at the root of a folder, with the rules, models and keys
/// it names, relative to it.
#[derive(Deserialize, Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct File {
    /// Name and version (`[bundle]`).
    pub bundle: Meta,
    /// The client features and page context the rules and models read (`[schema]`).
    pub schema: Schema,
    /// Page slots and channel placements (`[[slots]]`).
    pub slots: Vec<Slot>,
    /// Offers and service actions (`[[offers]]`).
    pub offers: Vec<Offer>,
    /// Exploration, experiment arms, costs, caps and levers (`[policy]`; every key has a default).
    #[serde(default)]
    pub policy: Policy,
    /// Snapshot public key files (`KID.pub`, role snapshot), relative to the folder: the
    /// snapshots the engine accepts.
    #[schemars(example = &["keys/snap-2026.pub"])]
    pub trusted_snapshot_keys: Vec<String>,
    /// ONNX models (`[[models]]`), lowered into the bundle after the parity gate.
    #[serde(default)]
    pub models: Vec<ModelSource>,
    /// A send-time model (`[timing]`), read by the planner.
    #[serde(default)]
    pub timing: Option<Timing>,
}

/// `[timing]`: a send-time model whose outputs score the hours of the day or the weekdays;
/// the planner sends at the client's best one.
#[derive(Deserialize, Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// `hour` (24 scores, hour 0 first, UTC) or `weekday` (7, Monday first).
    #[schemars(example = &"hour")]
    pub kind: String,
    /// One of `[[models]]`.
    #[schemars(example = &"send_time")]
    pub model: String,
    /// One output per hour or weekday, in order (each a binary classifier's output: its
    /// column 1)… (default empty)
    #[schemars(example = &["hour_00_probabilities", "hour_01_probabilities"])]
    #[serde(default)]
    pub outputs: Vec<String>,
    /// …or one output whose columns are the hours or weekdays (a multiclass model).
    #[schemars(example = &"hour_probabilities")]
    #[serde(default)]
    pub output: Option<String>,
}

/// `[[models]]`: an ONNX model (skl2onnx, onnxmltools) and the features its input columns
/// read, in order; `<file minus .onnx>.reference.json` (onnxruntime outputs on at least
/// 32 rows) must sit beside it for the parity gate.
#[derive(Deserialize, Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSource {
    /// The model's name, as scores name it.
    #[schemars(example = &"offers")]
    pub name: String,
    /// Relative to the folder.
    #[schemars(example = &"models/offers.onnx")]
    pub file: String,
    /// Feature names, one per input column, in order.
    #[schemars(example = &["tenure_months", "monthly_spend"])]
    pub inputs: Vec<String>,
    /// An S-learner's treatment flag: one of `inputs` that is not a feature; the engine
    /// feeds it 1 (contacted) or 0 (not).
    #[schemars(example = &"treated")]
    #[serde(default)]
    pub treatment: Option<String>,
}

/// How an offer's uplift is computed: a T-learner (`treated` and `control` outputs),
/// an S-learner (`s_learner`: a model with a `treatment` input) or a `direct` uplift output.
#[derive(Deserialize, Debug, JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum UpliftSource {
    TwoModel { treated: OutputRef, control: OutputRef },
    SLearner { s_learner: OutputRef },
    Direct { direct: OutputRef },
}

/// One output column of a model.
#[derive(Deserialize, Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputRef {
    /// One of `[[models]]`.
    #[schemars(example = &"offers")]
    pub model: String,
    /// One of the model's outputs.
    #[schemars(example = &"fibre_upgrade_probabilities")]
    pub output: String,
    /// Which column: required when the output has more than two (a multiclass model's
    /// classes); else column 1 (a binary classifier's positive class).
    #[schemars(example = 1)]
    #[serde(default)]
    pub column: Option<usize>,
}

/// A constant, or a model output column.
#[derive(Deserialize, Debug, JsonSchema)]
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

/// `[bundle]`: what the bundle is.
#[derive(Deserialize, Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// The bundle's name (decisions and reports carry it).
    #[schemars(example = &"telco")]
    pub name: String,
    /// Monotonic version; `vitrine learn` and the host raise it.
    #[schemars(example = 3)]
    pub version: u64,
    /// Unix seconds (default 0).
    #[schemars(example = 1795000000)]
    #[serde(default)]
    pub created_at: u64,
}

/// `[schema]`: the client features a snapshot carries, the page context a request carries,
/// and the channels.
#[derive(Deserialize, Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    /// Channel names; slots, consents and costs name them.
    #[schemars(example = &["web", "email", "sms", "push"])]
    pub channels: Vec<String>,
    /// Client features, in snapshot order (`[[schema.features]]`).
    pub features: Vec<Feature>,
    /// Page context fields a request may carry (`[[schema.context]]`; default none).
    #[serde(default)]
    pub context: Vec<ContextField>,
}

/// `[[schema.features]]`: one client feature. Names are identifiers (letter or `_`, then
/// letters, digits, `_`; at most 64; not a word reserved in rules).
#[derive(Deserialize, Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Feature {
    /// The feature's name, as rules (`client.NAME` or `NAME`) and model inputs use it.
    #[schemars(example = &"tenure_months")]
    pub name: String,
    /// `numeric`, `boolean` or `categorical`.
    #[schemars(example = &"numeric")]
    #[serde(rename = "type")]
    pub kind: FeatureType,
    /// How a numeric travels in a snapshot: `f32` (default), `u8` or `u16` (quantised:
    /// value = offset + scale × stored).
    #[schemars(example = &"u8")]
    #[serde(default)]
    pub encoding: Option<String>,
    /// Quantisation step of `u8`/`u16` (default 1).
    #[schemars(example = 0.5)]
    #[serde(default = "one")]
    pub scale: f32,
    /// Quantisation offset of `u8`/`u16` (default 0).
    #[schemars(example = 0.0)]
    #[serde(default)]
    pub offset: f32,
    /// A categorical's labels (its values are their indices).
    #[schemars(example = &["basic", "plus", "premium"])]
    #[serde(default)]
    pub vocab: Vec<String>,
    /// Whether the feature is personal data (default true): the business-as-usual ranking
    /// and clients without profiling consent never read it.
    #[schemars(example = true)]
    #[serde(default = "yes")]
    pub personal: bool,
}

#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeatureType {
    Numeric,
    Boolean,
    Categorical,
}

/// `[[schema.context]]`: one page context field.
#[derive(Deserialize, Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextField {
    /// The field's name, as rules use it (`ctx.NAME`).
    #[schemars(example = &"page")]
    pub name: String,
    /// `numeric`, `boolean` or `categorical`.
    #[schemars(example = &"categorical")]
    #[serde(rename = "type")]
    pub kind: FeatureType,
    /// A categorical's labels.
    #[schemars(example = &["home", "offers", "checkout"])]
    #[serde(default)]
    pub vocab: Vec<String>,
}

/// `[[slots]]`: a page slot or a channel placement.
#[derive(Deserialize, Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    /// The slot's id, as requests name it.
    #[schemars(example = &"home_hero")]
    pub id: String,
    /// One of `schema.channels`.
    #[schemars(example = &"web")]
    pub channel: String,
    /// Offers it shows by default (1 to 16; default 1).
    #[schemars(example = 3)]
    #[serde(default = "one_u8")]
    pub k: u8,
}

/// `[[offers]]`: an offer or a service action. Score × C × V × L − cost ranks it.
#[derive(Deserialize, Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    /// The offer's id, as decisions, events and sales name it.
    #[schemars(example = &"fibre_upgrade")]
    pub id: String,
    /// Display name (default: the id).
    #[schemars(example = &"Fibre 1 Gb/s")]
    #[serde(default)]
    pub name: Option<String>,
    /// A service action (shown to `no_contact` clients, never counted as a sale) rather
    /// than a commercial offer (default false).
    #[schemars(example = false)]
    #[serde(default)]
    pub service: bool,
    /// Its category (category caps, levers and per-page limits).
    #[schemars(example = &"broadband")]
    pub category: String,
    /// The slots it may appear in.
    #[schemars(example = &["home_hero", "email_weekly"])]
    pub slots: Vec<String>,
    /// V: what a sale is worth, in the unit of channel costs.
    #[schemars(example = 30.0)]
    pub value: f32,
    /// L: the offer's business lever (default 1), multiplied with its category's.
    #[schemars(example = 1.2)]
    #[serde(default = "one")]
    pub lever: f32,
    /// Unix seconds it is valid from (default 0: open).
    #[schemars(example = 0)]
    #[serde(default)]
    pub valid_from: u64,
    /// Unix seconds it is valid until (default 0: open).
    #[schemars(example = 0)]
    #[serde(default)]
    pub valid_until: u64,
    /// May this client have it? CEL text, or `@path/to/file.cel` relative to the folder
    /// (default: always).
    #[schemars(example = &"fiber_eligible && !fiber_owned")]
    #[serde(default)]
    pub eligibility: Option<String>,
    /// Does it fit this context? CEL (default: always).
    #[schemars(example = &"ctx.page != \"checkout\"")]
    #[serde(default)]
    pub applicability: Option<String>,
    /// Should we, now? CEL (default: always).
    #[schemars(example = &"!open_complaint")]
    #[serde(default)]
    pub suitability: Option<String>,
    /// P: a constant, or `{ model, output, column }` (column required when the output has
    /// more than two). Exactly one of `propensity` and `uplift`.
    #[serde(default)]
    pub propensity: Option<PropensitySource>,
    /// Uplift scoring: `{ treated = {…}, control = {…} }` (T-learner), `{ s_learner = {…} }`
    /// or `{ direct = {…} }`. Exactly one of `propensity` and `uplift`.
    #[serde(default)]
    pub uplift: Option<UpliftSource>,
    /// Fixed priority in the business-as-usual ranking (default V × L).
    #[schemars(example = 12.0)]
    #[serde(default)]
    pub bau_priority: Option<f32>,
    /// Older bundles: the baseline ranking's propensity, mapped to
    /// `bau_priority = baseline_propensity × value × lever` when `bau_priority` is unset.
    #[serde(default)]
    pub baseline_propensity: Option<f32>,
    /// How long after a contact a sale of the offer is attributed to it (default 7d).
    #[schemars(example = &"14d")]
    #[serde(default)]
    pub attribution_window: Option<String>,
    /// Contact caps (`[[offers.caps]]`, default none).
    #[serde(default)]
    pub caps: Vec<Cap>,
    /// Creatives (`[[offers.treatments]]`, at least one), drawn by weight.
    pub treatments: Vec<Treatment>,
}

/// A contact cap: at most `max` contacts with this offer (or its category) in `window`.
#[derive(Deserialize, Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cap {
    /// `offer` or `category`.
    #[schemars(example = &"offer")]
    pub scope: String,
    /// Contacts allowed in the window.
    #[schemars(example = 3)]
    pub max: u16,
    /// A duration: `90s`, `15m`, `36h`, `7d`.
    #[schemars(example = &"7d")]
    pub window: String,
}

/// A creative of an offer.
#[derive(Deserialize, Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Treatment {
    /// The treatment's id (events name it).
    #[schemars(example = &"default")]
    pub id: String,
    /// Relative weight of the draw (default 1).
    #[schemars(example = 1.0)]
    #[serde(default = "one")]
    pub weight: f32,
    /// Headline.
    #[schemars(example = &"Fibre is here")]
    pub title: String,
    /// Body text (default empty).
    #[schemars(example = &"Up to 1 Gb/s at home.")]
    #[serde(default)]
    pub text: String,
    /// Image URL (default empty).
    #[schemars(example = &"/img/fibre.png")]
    #[serde(default)]
    pub image: String,
    /// Link (default empty).
    #[schemars(example = &"/offers/fibre")]
    #[serde(default)]
    pub url: String,
    /// Price shown (default none).
    #[schemars(example = 29.99)]
    #[serde(default)]
    pub price: Option<f32>,
}

/// `[policy]`: how the engine explores, splits clients into arms and weighs contacts.
#[derive(Deserialize, Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// `none` (default), `epsilon_greedy` (with `epsilon`) or `softmax` (with `temperature`);
    /// the exact selection probabilities are in every decision record.
    #[schemars(example = &"epsilon_greedy")]
    #[serde(default)]
    pub exploration: Option<String>,
    /// Share of picks drawn uniformly (with `epsilon_greedy`).
    #[schemars(example = 0.1)]
    #[serde(default)]
    pub epsilon: Option<f64>,
    /// Softmax temperature over priorities (with `softmax`).
    #[schemars(example = 0.5)]
    #[serde(default)]
    pub temperature: Option<f64>,
    /// The experiment arms (default: everyone `personalised`).
    #[serde(default)]
    pub arms: Option<Arms>,
    /// Older bundles: a holdout that saw the non-personalised baseline, mapped to the
    /// `bau` arm (`bau = holdout_share`, `salt = holdout_salt`); not with `arms`.
    #[serde(default)]
    pub holdout_share: Option<f32>,
    /// Older bundles: the holdout's salt (see `holdout_share`).
    #[serde(default)]
    pub holdout_salt: Option<String>,
    /// Channel → cost of one contact, in the unit of offer values (default 0).
    #[serde(default)]
    pub channel_costs: BTreeMap<String, f32>,
    /// At most this many offers of one category per page (default 0: no limit).
    #[schemars(example = 2)]
    #[serde(default)]
    pub max_per_category: u8,
    /// Clock skew tolerated on snapshot validity windows (default 60s).
    #[schemars(example = &"2m")]
    #[serde(default)]
    pub snapshot_skew: Option<String>,
    /// Suppress an offer after N impressions without a click within a window (default none).
    #[serde(default)]
    pub suppression: Option<Suppression>,
    /// Context weights C (`[[policy.context_weights]]`): when a context rule holds,
    /// multiply C.
    #[serde(default)]
    pub context_weights: Vec<ContextWeight>,
    /// Category → business lever L (default 1).
    #[serde(default)]
    pub category_levers: BTreeMap<String, f32>,
    /// Contact caps per channel, across all offers (default none).
    #[serde(default)]
    pub channel_caps: Vec<ChannelCap>,
}

/// `policy.arms`: clients split by a salted hash of their subject (docs/measurement.md).
#[derive(Deserialize, Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Arms {
    /// The hash salt (changing it reshuffles every client).
    #[schemars(example = &"demo-2026")]
    pub salt: String,
    /// Share in the business-as-usual arm (default 0).
    #[schemars(example = 0.1)]
    #[serde(default)]
    pub bau: f32,
    /// Share in the no-contact arm (default 0).
    #[schemars(example = 0.05)]
    #[serde(default)]
    pub no_contact: f32,
    /// Whether `no_contact` clients still get service actions (default true).
    #[schemars(example = true)]
    #[serde(default = "yes")]
    pub no_contact_services: bool,
}

/// `policy.suppression`.
#[derive(Deserialize, Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// Impressions without a click after which the offer is suppressed.
    #[schemars(example = 5)]
    pub after_impressions: u16,
    /// Over this long.
    #[schemars(example = &"14d")]
    pub window: String,
}

/// `[[policy.context_weights]]`.
#[derive(Deserialize, Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextWeight {
    /// CEL over context fields only.
    #[schemars(example = &"ctx.page == \"offers\"")]
    pub when: String,
    /// Offer ids it applies to (default empty: all).
    #[schemars(example = &["fibre_upgrade"])]
    #[serde(default)]
    pub offers: Vec<String>,
    /// The factor on C.
    #[schemars(example = 1.2)]
    pub weight: f32,
}

/// `[[policy.channel_caps]]`: at most `max` contacts on a channel in `window`.
#[derive(Deserialize, Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelCap {
    /// One of `schema.channels`.
    #[schemars(example = &"sms")]
    pub channel: String,
    /// Contacts allowed in the window.
    #[schemars(example = 2)]
    pub max: u16,
    /// A duration.
    #[schemars(example = &"7d")]
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
