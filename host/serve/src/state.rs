//! What every handler shares.
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use vitrine_engine::snapshot::SnapshotSigner;

use vitrine_feedback::Writer;
use vitrine_runtime::Runtime;
use vitrine_store::{FeatureStore, StoreError};

use crate::metrics::Metrics;

/// Limits the server enforces on input.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Request bodies larger than this get 413.
    pub max_body: usize,
    /// Open connections at most.
    pub max_connections: usize,
    /// Events older than this (seconds before now) are rejected.
    pub max_event_age: u64,
    /// Events further than this in the future (seconds) are rejected.
    pub max_event_skew: u64,
    /// Events per `/v1/events` batch at most.
    pub max_batch: usize,
    /// Snapshot ledger entries are kept this long after their snapshot expired.
    pub ledger_retention: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 1 << 20,
            max_connections: 1024,
            max_event_age: 7 * 86_400,
            max_event_skew: 300,
            max_batch: 10_000,
            ledger_retention: vitrine_store::DEFAULT_RETENTION_SECS,
        }
    }
}

/// Shared state.
#[allow(missing_debug_implementations)]
pub struct AppState {
    pub runtime: Arc<Runtime>,
    pub writer: Writer,
    /// The feedback store's path: reports and the learner open read-only stores on it.
    pub feedback_path: PathBuf,
    pub features: Option<Mutex<FeatureStore>>,
    pub signer: Option<SnapshotSigner>,
    pub snapshot_ttl: u64,
    /// Required (as `Authorization: Bearer …` or `X-Api-Key`) on snapshot and admin routes.
    pub api_key: Option<String>,
    pub metrics: Metrics,
    pub limits: Limits,
    /// Static files (the web demo), if any.
    pub static_dir: Option<PathBuf>,
    /// The engine's JS face, served under `/engine-js/` with the static files.
    pub engine_js: Option<PathBuf>,
    /// Whether `/demo/login/{client}` is on.
    pub demo_login: bool,
    /// The bundle signer's public key, hex (served at `/v1/bundle/key`).
    pub bundle_key_hex: String,
    /// The feature store's subject pseudonyms, to check sales against: (client count,
    /// when read, the set), rebuilt when the count changes or after [`SUBJECTS_TTL`].
    pub subjects: Mutex<Option<SubjectCache>>,
    /// Fill a decision's missing history from the feedback store, over this many
    /// seconds (`serve --fill-history`).
    pub fill_history: Option<u64>,
    /// The trigger policy (`/v1/trigger`), if any.
    pub triggers: Option<Arc<crate::trigger::TriggerPolicy>>,
    /// When the snapshot ledger was last pruned (unix seconds).
    pub ledger_pruned: std::sync::atomic::AtomicU64,
}

/// The feature store's subjects as last read: (client count, when, the set).
pub type SubjectCache = (u64, Instant, Arc<HashSet<[u8; 16]>>);

/// How long the cached subject set is trusted when the client count is unchanged.
pub const SUBJECTS_TTL: std::time::Duration = std::time::Duration::from_secs(60);

impl AppState {
    /// The feature store's subjects (`None` when the server has no feature store: then a
    /// sale's subject is only checked to be a pseudonym).
    pub fn known_subjects(&self) -> Result<Option<Arc<HashSet<[u8; 16]>>>, StoreError> {
        let Some(features) = &self.features else { return Ok(None) };
        let store = features.lock().map_err(|_| StoreError::Corrupt("feature store lock poisoned".into()))?;
        let n = store.len()?;
        let mut cache = self.subjects.lock().map_err(|_| StoreError::Corrupt("subject cache lock poisoned".into()))?;
        if let Some((count, at, set)) = cache.as_ref() {
            if *count == n && at.elapsed() < SUBJECTS_TTL {
                return Ok(Some(set.clone()));
            }
        }
        let set = Arc::new(store.subjects()?);
        *cache = Some((n, Instant::now(), set.clone()));
        Ok(Some(set))
    }
}
