//! Feedback → the next bundle: per offer, a Beta(1 + successes, 1 + failures) posterior
//! of its response rate over impressions; offers scored by a constant propensity (no
//! model) with at least `min_impressions` take the posterior mean as their new constant.
//! Offers scored by a model keep it (models are retrained offline and re-imported).
use serde::Serialize;
use vitrine_engine::bundle::{Bundle, Propensity, Score};
use vitrine_engine::policy::Posterior;

use super::LearnError;
use crate::FeedbackRead;

/// What counts as a success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reward {
    Click,
    Conversion,
}

impl Reward {
    pub fn kind(self) -> &'static str {
        match self {
            Reward::Click => "click",
            Reward::Conversion => "conversion",
        }
    }
}

/// Observed counts and the posterior for one offer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfferStats {
    pub offer: String,
    pub impressions: u64,
    pub successes: u64,
    pub alpha: f32,
    pub beta: f32,
    /// The constant propensity before and after, if it changed.
    pub propensity: Option<(f32, f32)>,
}

/// The learned bundle and what went into it.
#[derive(Debug, Clone)]
pub struct Learned {
    pub bundle: Bundle,
    pub offers: Vec<OfferStats>,
}

/// Learns from feedback events at or after `since` (unix seconds).
pub fn learn(
    current: &Bundle,
    feedback: &dyn FeedbackRead,
    since: u64,
    reward: Reward,
    min_impressions: u64,
) -> Result<Learned, LearnError> {
    let counts: Vec<(String, u64, u64)> =
        feedback.offer_counts(since, reward.kind())?.into_iter().map(|c| (c.offer, c.impressions, c.successes)).collect();
    let mut next = current.clone();
    next.version = current.version + 1;
    next.posteriors.clear();
    let mut offers = Vec::new();
    for (offer, impressions, successes) in counts {
        let Some(i) = next.offers.iter().position(|o| o.id == offer) else { continue };
        // Successes beyond impressions (lost impression beacons) are capped.
        let successes = successes.min(impressions);
        let (alpha, beta) = (1.0 + successes as f32, 1.0 + (impressions - successes) as f32);
        next.posteriors.push(Posterior { offer: i as u16, alpha, beta, observations: u32::try_from(impressions).unwrap_or(u32::MAX) });
        let mut propensity = None;
        if let Score::Propensity(Propensity::Constant(p)) = &mut next.offers[i].score {
            if impressions >= min_impressions {
                let mean = alpha / (alpha + beta);
                propensity = Some((*p, mean));
                *p = mean;
            }
        }
        offers.push(OfferStats { offer, impressions, successes, alpha, beta, propensity });
    }
    next.validate().map_err(LearnError::Engine)?;
    Ok(Learned { bundle: next, offers })
}
