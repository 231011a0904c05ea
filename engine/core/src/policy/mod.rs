//! Stage 5: policy. Consent, experiment arms, contact pressure and cost, exploration
//! and per-slot arbitration (priority = score × C × V × L − cost).
mod arbitration;
pub mod arms;
mod contact;
mod exploration;
mod rng;

pub use arbitration::{arbitrate, Arbiter, Candidate, Pick, SlotAsk};
pub use arms::{Arm, Arms};
pub use contact::{ContactBook, HistoryKind};
pub use exploration::{beta_sample, selection_probabilities};
pub use rng::SplitMix64;
use serde::{Deserialize, Serialize};

use crate::rules::Program;

/// The bundle's policy.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Policy {
    pub exploration: Exploration,
    /// The experiment arms (`personalised`, `bau`, `no_contact`).
    pub arms: Arms,
    /// Cost of one contact per channel (index into `schema.channels`), subtracted from
    /// an offer's expected value; channels not listed cost nothing.
    pub channel_costs: Vec<ChannelCost>,
    /// At most this many offers of one category per page (0 = no limit).
    pub max_per_category: u8,
    /// Context weights C: the product of the weights whose rule holds.
    pub context_weights: Vec<ContextWeight>,
    /// Business levers L per category (offers also carry their own lever).
    pub category_levers: Vec<CategoryLever>,
    /// Contact caps per channel, across all offers.
    pub channel_caps: Vec<ChannelCap>,
    /// Suppress an offer after N impressions without a click within a window.
    pub suppression: Option<Suppression>,
    /// Thompson sampling for cold-start offers.
    pub thompson: Thompson,
    /// Clock skew tolerated on snapshot validity windows (seconds).
    pub snapshot_skew_secs: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            exploration: Exploration::None,
            arms: Arms::default(),
            channel_costs: Vec::new(),
            max_per_category: 0,
            context_weights: Vec::new(),
            category_levers: Vec::new(),
            channel_caps: Vec::new(),
            suppression: None,
            thompson: Thompson::default(),
            snapshot_skew_secs: 60,
        }
    }
}

/// How picks deviate from the greedy top-k (logged with exact probabilities).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Exploration {
    /// Always the highest priority.
    None,
    /// With probability ε a uniformly random remaining candidate.
    EpsilonGreedy { epsilon: f64 },
    /// Candidate `i` with probability ∝ exp(priority_i / temperature).
    Softmax { temperature: f64 },
}

/// The cost of one contact on a channel.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ChannelCost {
    pub channel: u8,
    pub cost: f32,
}

/// A context weight: when `when` (a rule over context only) holds, multiply C by
/// `weight` for `offers` (all offers if empty).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ContextWeight {
    pub when: Program,
    pub offers: Vec<u16>,
    pub weight: f32,
}

/// A lever for all offers of a category.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CategoryLever {
    pub category: String,
    pub lever: f32,
}

/// At most `max` contacts on channel `channel` within `window_secs`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ChannelCap {
    pub channel: u8,
    pub max: u16,
    pub window_secs: u64,
}

/// Suppress after `after_impressions` impressions with no click within `window_secs`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Suppression {
    pub after_impressions: u16,
    pub window_secs: u64,
}

/// Thompson sampling for offers whose posterior has fewer than `cold_below` observations.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Thompson {
    pub cold_below: u32,
    /// Monte Carlo draws used to estimate a selection probability when a cold offer competes.
    pub estimate_draws: u16,
}

impl Default for Thompson {
    fn default() -> Self {
        Thompson { cold_below: 0, estimate_draws: 32 }
    }
}

/// Beta posterior of an offer's response rate (learned by the host from feedback).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Posterior {
    pub offer: u16,
    pub alpha: f32,
    pub beta: f32,
    pub observations: u32,
}

/// A per-offer contact cap.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Cap {
    pub scope: CapScope,
    pub max: u16,
    pub window_secs: u64,
}

/// What a cap counts.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CapScope {
    /// Contacts with this offer.
    Offer,
    /// Contacts with any offer of this offer's category.
    Category,
}

#[cfg(test)]
mod tests;
