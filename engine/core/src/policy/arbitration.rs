//! Per-slot arbitration: sequential top-k picks under the exploration policy, with
//! the probability of each pick logged (exact, or estimated when Thompson draws of
//! cold-start offers are in play).
use super::exploration::{beta_sample, draw, selection_probabilities};
use super::{Exploration, SplitMix64};

/// An offer competing for a slot.
#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    pub offer: u16,
    pub category: u16,
    /// The score used: a propensity (a Thompson draw for cold-start offers) or an uplift.
    pub p: f64,
    /// C × V × L.
    pub cvl: f64,
    /// Cost of the contact on the slot's channel.
    pub cost: f64,
    /// Beta posterior for cold-start offers.
    pub cold: Option<(f32, f32)>,
}

impl Candidate {
    /// Expected (incremental) value: score × C × V × L − cost.
    pub fn priority(&self) -> f64 {
        self.p * self.cvl - self.cost
    }
}

/// One slot to fill.
#[derive(Debug, Clone, Copy)]
pub struct SlotAsk {
    pub k: usize,
    pub exploration: Exploration,
    pub max_per_category: u8,
    pub estimate_draws: u16,
}

/// A chosen offer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pick {
    pub offer: u16,
    pub priority: f64,
    pub probability: f64,
    pub estimated: bool,
}

/// Reusable buffers for [`arbitrate`].
#[derive(Debug, Default, Clone)]
pub struct Arbiter {
    remaining: Vec<Candidate>,
    prio: Vec<f64>,
    probs: Vec<f64>,
}

/// Fills one slot from `cands`; `taken` (per offer) and `per_category` (per
/// category) carry the page-level constraints across slots.
pub fn arbitrate(
    cands: &[Candidate],
    ask: SlotAsk,
    taken: &mut [bool],
    per_category: &mut [u8],
    rng: &mut SplitMix64,
    estimator: &mut SplitMix64,
    buffers: &mut Arbiter,
) -> Vec<Pick> {
    let mut picks = Vec::with_capacity(ask.k);
    let Arbiter { remaining, prio, probs } = buffers;
    let open = |c: &Candidate, taken: &[bool], per_category: &[u8]| {
        !taken.get(c.offer as usize).copied().unwrap_or(true)
            && (ask.max_per_category == 0 || per_category.get(c.category as usize).copied().unwrap_or(u8::MAX) < ask.max_per_category)
    };
    remaining.clear();
    remaining.extend(cands.iter().copied().filter(|c| open(c, taken, per_category)));
    for _ in 0..ask.k {
        if remaining.is_empty() {
            break;
        }
        prio.clear();
        prio.extend(remaining.iter().map(Candidate::priority));
        selection_probabilities(prio, ask.exploration, probs);
        let i = draw(probs, rng.next_f64());
        let chosen = remaining[i];
        let any_cold = remaining.iter().any(|c| c.cold.is_some());
        let (probability, estimated) = if any_cold && ask.estimate_draws > 0 {
            (estimate(remaining, i, ask, estimator, prio, probs), true)
        } else {
            (probs[i], false)
        };
        picks.push(Pick { offer: chosen.offer, priority: chosen.priority(), probability, estimated });
        if let Some(t) = taken.get_mut(chosen.offer as usize) {
            *t = true;
        }
        if let Some(n) = per_category.get_mut(chosen.category as usize) {
            *n = n.saturating_add(1);
        }
        // Drops the pick (now taken) and a full category: later picks see the same
        // candidates, in the same order, as a fresh filter of `cands` would.
        remaining.retain(|c| open(c, taken, per_category));
    }
    picks
}

/// Rao–Blackwellised Monte Carlo: the mean over fresh Beta draws of the exact
/// probability of picking candidate `i` given those draws.
fn estimate(remaining: &[Candidate], i: usize, ask: SlotAsk, rng: &mut SplitMix64, prio: &mut Vec<f64>, probs: &mut Vec<f64>) -> f64 {
    let mut sum = 0.0;
    for _ in 0..ask.estimate_draws {
        prio.clear();
        prio.extend(remaining.iter().map(|c| match c.cold {
            Some((a, b)) => beta_sample(a, b, rng) * c.cvl - c.cost,
            None => c.priority(),
        }));
        selection_probabilities(prio, ask.exploration, probs);
        sum += probs[i];
    }
    sum / ask.estimate_draws as f64
}
