//! A bounded cache of snapshots whose signature this engine already verified, with
//! their identity hash and decoded features.
//!
//! Set-associative: [`WAYS`] entries per set, the set chosen by the signature's last
//! bytes (already uniformly random), the least recently used entry of a full set evicted.
//! With 16 ways a few thousand clients that map to one set by chance no longer evict each
//! other as a direct-mapped cache did (there, 62% of 1,000 clients shared a slot). A hit
//! requires the full bytes to match, so a forged snapshot can never borrow another's
//! verification. Time validity and schema are re-checked on every use.
//!
//! Memory: 8 bytes per entry up front, and per cached snapshot its bytes (at most
//! [`crate::limits::MAX_SNAPSHOT_BYTES`]), its decoded features (4 bytes each) and about
//! 100 bytes of bookkeeping: with the default 32,768 entries, about 9 MB when full of the
//! demo bundle's snapshots (14 features, ~130 bytes each), 57 MB for the 300-feature
//! benchmark schema's.

/// Entries per set.
pub const WAYS: usize = 16;

/// Bounded set of verified snapshot bytes with their identity hash.
#[derive(Debug, Clone)]
pub struct VerifiedCache {
    /// Boxed: an empty entry costs one pointer.
    entries: Vec<Option<Box<Entry>>>,
    sets: usize,
    /// A counter stamped on an entry when used (least recent: smallest stamp).
    clock: u64,
    stats: CacheStats,
}

/// The cache's size and what it has done since it was made (`info().snapshot_cache` on
/// every face).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CacheStats {
    /// Entries it can hold.
    pub capacity: u64,
    /// Snapshots it holds now.
    pub entries: u64,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
}

#[derive(Debug, Clone)]
struct Entry {
    bytes: Vec<u8>,
    hash: [u8; 16],
    features: Vec<f32>,
    used: u64,
}

impl VerifiedCache {
    /// A cache of at most `capacity` entries, rounded up to whole sets (0 disables caching).
    pub fn new(capacity: usize) -> Self {
        let sets = capacity.div_ceil(WAYS);
        VerifiedCache { entries: vec![None; sets * WAYS], sets, clock: 0, stats: CacheStats::default() }
    }

    /// Entries it can hold.
    pub fn capacity(&self) -> usize {
        self.entries.len()
    }

    /// The index range of the set `bytes` belong to.
    fn set(&self, bytes: &[u8]) -> Option<std::ops::Range<usize>> {
        if self.sets == 0 || bytes.len() < 8 {
            return None;
        }
        let tail = &bytes[bytes.len() - 8..];
        let mut k = [0u8; 8];
        k.copy_from_slice(tail);
        let s = (u64::from_le_bytes(k) % self.sets as u64) as usize;
        Some(s * WAYS..(s + 1) * WAYS)
    }

    /// The identity hash and decoded features of `bytes` if they were verified before
    /// (counted as a hit or a miss).
    pub fn lookup(&mut self, bytes: &[u8]) -> Option<([u8; 16], &[f32])> {
        self.clock += 1;
        let found = self.set(bytes).and_then(|set| set.into_iter().find(|&i| matches!(&self.entries[i], Some(e) if e.bytes == bytes)));
        match found {
            Some(i) => {
                self.stats.hits += 1;
                let e = self.entries[i].as_mut()?;
                e.used = self.clock;
                Some((e.hash, e.features.as_slice()))
            }
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    /// True when `bytes` are cached (not counted as a hit or a miss).
    pub fn contains(&self, bytes: &[u8]) -> bool {
        self.set(bytes).is_some_and(|set| set.into_iter().any(|i| matches!(&self.entries[i], Some(e) if e.bytes == bytes)))
    }

    /// Records verified `bytes` in a free entry of their set, else in place of its least
    /// recently used one.
    pub fn insert(&mut self, bytes: &[u8], hash: [u8; 16], features: &[f32]) {
        let Some(set) = self.set(bytes) else { return };
        if set.clone().any(|i| matches!(&self.entries[i], Some(e) if e.bytes == bytes)) {
            return;
        }
        let slot = set
            .clone()
            .find(|&i| self.entries[i].is_none())
            .or_else(|| set.min_by_key(|&i| self.entries[i].as_ref().map_or(0, |e| e.used)));
        let Some(slot) = slot else { return };
        if self.entries[slot].is_some() {
            self.stats.evictions += 1;
        }
        self.entries[slot] = Some(Box::new(Entry { bytes: bytes.to_vec(), hash, features: features.to_vec(), used: self.clock }));
    }

    /// Capacity, entries, hits, misses and evictions so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats { capacity: self.capacity() as u64, entries: self.len() as u64, ..self.stats }
    }

    /// Number of cached snapshots.
    pub fn len(&self) -> usize {
        self.entries.iter().filter(|e| e.is_some()).count()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake snapshot: its last 8 bytes are what a signature's would be, random.
    fn bytes(i: u64) -> Vec<u8> {
        let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        let mut b = i.to_le_bytes().to_vec();
        b.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
        b
    }

    #[test]
    fn ten_thousand_clients_cycling_hit_at_least_99_percent() {
        let mut cache = VerifiedCache::new(crate::engine::SNAPSHOT_CACHE_ENTRIES);
        for _ in 0..5 {
            for i in 0..10_000u64 {
                let b = bytes(i);
                if cache.lookup(&b).is_none() {
                    cache.insert(&b, [0; 16], &[i as f32]);
                }
            }
        }
        let s = cache.stats();
        // Rounds 1–4 are the steady state: the first round's 10,000 misses are cold.
        let steady_misses = s.misses - 10_000;
        let hit_rate = s.hits as f64 / (s.hits + steady_misses) as f64;
        assert!(hit_rate >= 0.99, "{s:?}: {hit_rate:.4}");
    }

    #[test]
    fn a_hit_needs_the_same_bytes_and_returns_what_was_stored() {
        let mut cache = VerifiedCache::new(64);
        let b = bytes(1);
        cache.insert(&b, [7; 16], &[1.5, 2.5]);
        assert_eq!(cache.lookup(&b).map(|(h, f)| (h, f.to_vec())), Some(([7; 16], vec![1.5, 2.5])));
        // Same set, other bytes: a miss.
        let mut other = b.clone();
        other[0] ^= 1;
        assert!(cache.lookup(&other).is_none());
        assert_eq!(cache.stats(), CacheStats { capacity: 64, entries: 1, hits: 1, misses: 1, evictions: 0 });
        assert!(cache.contains(&b) && !cache.contains(&other));
        assert_eq!(cache.stats().hits, 1, "contains is not counted");
    }

    #[test]
    fn a_full_set_evicts_its_least_recently_used_entry() {
        let mut cache = VerifiedCache::new(WAYS);
        let all: Vec<Vec<u8>> = (0..=WAYS as u64).map(bytes).collect();
        for b in &all[..WAYS] {
            cache.insert(b, [0; 16], &[]);
        }
        // Use every entry but the first, then insert one more: the first goes.
        for b in &all[1..WAYS] {
            assert!(cache.lookup(b).is_some());
        }
        cache.insert(&all[WAYS], [0; 16], &[]);
        assert!(cache.lookup(&all[0]).is_none());
        assert!(all[1..].iter().all(|b| cache.lookup(b).is_some()));
        assert_eq!(cache.stats().evictions, 1);
        assert_eq!(cache.len(), WAYS);
        // Capacity 0 caches nothing.
        let mut none = VerifiedCache::new(0);
        none.insert(&all[0], [0; 16], &[]);
        assert!(none.lookup(&all[0]).is_none() && none.is_empty());
    }
}
