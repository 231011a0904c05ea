//! Hard limits on everything the engine reads. Loaded bundles may lower (never raise)
//! the per-request ones; every loop over input is bounded by one of these.
use serde::{Deserialize, Serialize};

/// Largest signed bundle accepted (bytes).
pub const MAX_BUNDLE_BYTES: usize = 16 * 1024 * 1024;
/// Largest snapshot accepted (bytes, binary form).
pub const MAX_SNAPSHOT_BYTES: usize = 4096;
/// Largest request accepted (bytes of JSON).
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;
/// Features per schema.
pub const MAX_FEATURES: usize = 1024;
/// Context fields per schema.
pub const MAX_CONTEXT_FIELDS: usize = 64;
/// Channels per schema (one consent bit each, plus profiling).
pub const MAX_CHANNELS: usize = 15;
/// Vocabulary entries per categorical.
pub const MAX_VOCAB: usize = 4096;
/// Offers per bundle.
pub const MAX_OFFERS: usize = 4096;
/// Ops in one rule program.
pub const MAX_RULE_OPS: usize = 1024;
/// Operand stack depth of the rule machine.
pub const MAX_RULE_STACK: usize = 32;
/// Nodes per model (trees) or weights per model (linear, MLP).
pub const MAX_MODEL_PARAMS: usize = 4 * 1024 * 1024;
/// Top-k per slot.
pub const MAX_K: usize = 16;
/// Most entries a verified-snapshot cache may be given (8 bytes each up front: 8 MB).
pub const MAX_SNAPSHOT_CACHE_ENTRIES: usize = 1 << 20;
/// Largest accepted seed: 2^53 - 1, so JavaScript hosts can pass it exactly.
pub const MAX_SEED: u64 = (1 << 53) - 1;

/// Per-request limits a bundle carries (defaults shown by [`Limits::default`]).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Limits {
    /// Rule ops evaluated per request, across all offers and stages.
    pub max_rule_steps: u32,
    /// Contact-history entries per request.
    pub max_history: u32,
    /// Slots asked for per request.
    pub max_slots: u32,
    /// Context entries per request.
    pub max_context: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_rule_steps: 500_000, max_history: 1000, max_slots: 16, max_context: 64 }
    }
}
