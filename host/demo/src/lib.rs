//! `vitrine-demo`: the demo world (`vitrine demo seed`) and its traffic simulator (`vitrine demo simulate`).
pub mod day;
pub mod plot;
pub mod simulate;
pub mod world;

/// Clients in the default demo world.
pub const CLIENTS: usize = 10_000;
/// The world's seed: `seed` and `simulate` must agree on it to share the hidden truth.
pub const SEED: u64 = 2026;
