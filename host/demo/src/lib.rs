//! `vitrine-demo`: the demo world (`vitrine demo seed`) and its traffic simulator (`vitrine demo simulate`).
pub mod day;
pub mod evaluate;
pub mod plot;
pub mod simulate;
pub mod world;

/// Clients in the default demo world.
pub const CLIENTS: usize = 10_000;
/// The world's seed: `seed` and `simulate` must agree on it to share the hidden truth.
pub const SEED: u64 = 2026;

/// The rule-based start: the demo bundle without models, every offer at one constant
/// propensity (so the ranking is by value), no posteriors, no business levers (so the
/// engine's objective is the truth's expected value).
pub fn rule_based(mut b: vitrine_engine::bundle::Bundle) -> vitrine_engine::bundle::Bundle {
    for o in &mut b.offers {
        o.score = vitrine_engine::bundle::Score::Propensity(vitrine_engine::bundle::Propensity::Constant(0.05));
    }
    b.models.clear();
    b.posteriors.clear();
    b.policy.category_levers.clear();
    b
}
