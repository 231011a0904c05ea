//! The engine: a loaded, verified bundle plus reusable workspace and the
//! verified-snapshot cache. [`Engine::decide`] runs the pipeline
//! (request → snapshot → rules → models → policy → decision).
mod decide;
mod external;
mod gates;
mod request;
pub mod timing;

pub use request::NOW_LOOKS_LIKE_MILLISECONDS;

use ed25519_dalek::VerifyingKey;

use crate::bundle::{Bundle, UnverifiedBundle};
use crate::models::Scratch;
use crate::rules::Compiled;
use crate::snapshot::VerifiedCache;
use crate::Error;

/// Verified snapshots remembered per engine (16-way set-associative, least recently
/// used evicted; memory bound in `snapshot/cache.rs`).
pub const SNAPSHOT_CACHE_ENTRIES: usize = 32_768;

/// A loaded bundle, ready to decide.
#[derive(Debug)]
pub struct Engine {
    bundle: Bundle,
    hash_hex: String,
    hash: [u8; 32],
    keys: Vec<(String, VerifyingKey)>,
    schema_hash: [u8; 8],
    /// (offer id, index), sorted by id.
    offer_ids: Vec<(String, u16)>,
    /// (slot id, index), sorted by id.
    slot_ids: Vec<(String, u16)>,
    /// Offers placed in each slot, in bundle order.
    slot_offers: Vec<Vec<u16>>,
    /// Category id of each offer; ids index `categories`.
    offer_category: Vec<u16>,
    category_lever: Vec<f32>,
    /// (alpha, beta) of cold-start offers.
    cold: Vec<Option<(f32, f32)>>,
    /// Whether any offer is scored by uplift (then a value may be non-positive).
    any_uplift: bool,
    /// Eligibility, applicability, suitability of each offer, prepared.
    rules: Vec<[Compiled; 3]>,
    /// Context-weight rules, prepared.
    weight_rules: Vec<Compiled>,
    cache: VerifiedCache,
    ws: Workspace,
}

/// Buffers reused across requests so a warm decide allocates little.
#[derive(Debug, Default)]
struct Workspace {
    features: Vec<f32>,
    context: Vec<f32>,
    models: Vec<crate::models::Lazy>,
    /// The same models evaluated with the treatment input at 0 (S-learners).
    controls: Vec<crate::models::Lazy>,
    scratch: Scratch,
    gates: Vec<gates::Gate>,
    weights_on: Vec<bool>,
    book: crate::policy::ContactBook,
    stack: Vec<crate::rules::Value>,
    arbiter: crate::policy::Arbiter,
    candidates: Vec<crate::policy::Candidate>,
    /// Encoded body of the last profile (plan requests).
    profile_bytes: Vec<u8>,
    /// The last subject's arm (a fixed function of subject and bundle).
    arm_memo: Option<([u8; 16], crate::policy::Arm)>,
}

/// Summary of a loaded bundle (`info()` on every face).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Info {
    pub bundle: String,
    pub version: u64,
    pub hash: String,
    pub schema_hash: String,
    pub offers: usize,
    pub slots: Vec<String>,
    pub channels: Vec<String>,
    pub features: usize,
    pub models: usize,
    pub engine_version: String,
    /// The verified-snapshot cache: capacity, entries, hits, misses, evictions.
    pub snapshot_cache: crate::snapshot::CacheStats,
}

impl Engine {
    /// Verifies `bytes` with the bundle signing key `public_key`, validates and loads.
    pub fn load(bytes: &[u8], public_key: &[u8]) -> Result<Engine, Error> {
        let verified = UnverifiedBundle::parse(bytes)?.verify(public_key)?;
        let hash = verified.hash();
        let bundle = verified.into_bundle();
        let keys =
            bundle.trusted_keys.iter().filter_map(|k| VerifyingKey::from_bytes(&k.public_key).ok().map(|v| (k.kid.clone(), v))).collect();
        let mut offer_ids: Vec<(String, u16)> = bundle.offers.iter().enumerate().map(|(i, o)| (o.id.clone(), i as u16)).collect();
        offer_ids.sort();
        let mut slot_ids: Vec<(String, u16)> = bundle.slots.iter().enumerate().map(|(i, s)| (s.id.clone(), i as u16)).collect();
        slot_ids.sort();
        let mut categories: Vec<&str> = bundle.offers.iter().map(|o| o.category.as_str()).collect();
        categories.sort_unstable();
        categories.dedup();
        let offer_category = bundle.offers.iter().map(|o| categories.binary_search(&o.category.as_str()).unwrap_or(0) as u16).collect();
        let category_lever = categories
            .iter()
            .map(|c| bundle.policy.category_levers.iter().filter(|l| l.category == *c).map(|l| l.lever).product())
            .collect();
        let mut cold = vec![None; bundle.offers.len()];
        for p in &bundle.posteriors {
            if p.observations < bundle.policy.thompson.cold_below {
                if let Some(c) = cold.get_mut(p.offer as usize) {
                    *c = Some((p.alpha, p.beta));
                }
            }
        }
        let ws = Workspace {
            models: vec![crate::models::Lazy::default(); bundle.models.len()],
            controls: vec![crate::models::Lazy::default(); bundle.models.len()],
            ..Workspace::default()
        };
        let slot_offers = (0..bundle.slots.len())
            .map(|s| bundle.offers.iter().enumerate().filter(|(_, o)| o.slots.contains(&(s as u16))).map(|(i, _)| i as u16).collect())
            .collect();
        let rules = bundle
            .offers
            .iter()
            .map(|o| [Compiled::new(&o.eligibility), Compiled::new(&o.applicability), Compiled::new(&o.suitability)])
            .collect();
        let weight_rules = bundle.policy.context_weights.iter().map(|w| Compiled::new(&w.when)).collect();
        Ok(Engine {
            slot_offers,
            rules,
            weight_rules,
            schema_hash: bundle.schema.hash(),
            hash_hex: crate::hex(&hash[..16]),
            hash,
            keys,
            offer_ids,
            slot_ids,
            offer_category,
            category_lever,
            cold,
            any_uplift: bundle.offers.iter().any(|o| matches!(o.score, crate::bundle::Score::Uplift(_))),
            cache: VerifiedCache::new(SNAPSHOT_CACHE_ENTRIES),
            ws,
            bundle,
        })
    }

    /// The loaded bundle.
    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    /// Number of snapshots in the verified cache.
    pub fn cached_snapshots(&self) -> usize {
        self.cache.len()
    }

    /// The verified cache's capacity, entries, hits, misses and evictions since the
    /// engine was loaded (or the cache resized).
    pub fn snapshot_cache_stats(&self) -> crate::snapshot::CacheStats {
        self.cache.stats()
    }

    /// Forgets every cached verification (benchmarks of the fresh path use this).
    pub fn clear_snapshot_cache(&mut self) {
        self.cache = VerifiedCache::new(self.cache.capacity());
    }

    /// Replaces the verified-snapshot cache by an empty one of `entries` (rounded up to
    /// whole sets of 16; 0 disables caching). More than
    /// [`crate::limits::MAX_SNAPSHOT_CACHE_ENTRIES`] is refused (`request_bad_value`).
    pub fn set_snapshot_cache_entries(&mut self, entries: u64) -> Result<(), Error> {
        if entries > crate::limits::MAX_SNAPSHOT_CACHE_ENTRIES as u64 {
            return Err(crate::decision::RequestError::BadValue {
                field: "snapshot_cache_entries",
                reason: format!("{entries} is more than the limit of {}", crate::limits::MAX_SNAPSHOT_CACHE_ENTRIES),
            }
            .into());
        }
        self.cache = VerifiedCache::new(entries as usize);
        Ok(())
    }

    /// A summary of the loaded bundle.
    pub fn info(&self) -> Info {
        let b = &self.bundle;
        Info {
            bundle: b.name.clone(),
            version: b.version,
            hash: self.hash_hex.clone(),
            schema_hash: crate::hex(&self.schema_hash),
            offers: b.offers.len(),
            slots: b.slots.iter().map(|s| s.id.clone()).collect(),
            channels: b.schema.channels.clone(),
            features: b.schema.features.len(),
            models: b.models.len(),
            engine_version: crate::ENGINE_VERSION.to_string(),
            snapshot_cache: self.cache.stats(),
        }
    }

    fn offer_index(&self, id: &str) -> Option<u16> {
        self.offer_ids.binary_search_by(|(k, _)| k.as_str().cmp(id)).ok().map(|i| self.offer_ids[i].1)
    }

    fn slot_index(&self, id: &str) -> Option<u16> {
        self.slot_ids.binary_search_by(|(k, _)| k.as_str().cmp(id)).ok().map(|i| self.slot_ids[i].1)
    }
}
