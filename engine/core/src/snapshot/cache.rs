//! A bounded cache of snapshots whose signature this engine already verified, with
//! their identity hash and decoded features.
//!
//! Direct-mapped by the signature's last bytes (already uniformly random); a hit
//! requires the full bytes to match, so a forged snapshot can never borrow another's
//! verification. Time validity and schema are re-checked on every use.

/// Bounded set of verified snapshot bytes with their identity hash.
#[derive(Debug, Clone)]
pub struct VerifiedCache {
    entries: Vec<Option<Entry>>,
}

#[derive(Debug, Clone)]
struct Entry {
    bytes: Vec<u8>,
    hash: [u8; 16],
    features: Vec<f32>,
}

impl VerifiedCache {
    /// A cache with `capacity` entries (0 disables caching).
    pub fn new(capacity: usize) -> Self {
        VerifiedCache { entries: vec![None; capacity] }
    }

    fn index(&self, bytes: &[u8]) -> Option<usize> {
        if self.entries.is_empty() || bytes.len() < 8 {
            return None;
        }
        let tail = &bytes[bytes.len() - 8..];
        let mut k = [0u8; 8];
        k.copy_from_slice(tail);
        Some((u64::from_le_bytes(k) % self.entries.len() as u64) as usize)
    }

    /// The identity hash and decoded features of `bytes` if they were verified before.
    pub fn lookup(&self, bytes: &[u8]) -> Option<([u8; 16], &[f32])> {
        let i = self.index(bytes)?;
        match &self.entries[i] {
            Some(e) if e.bytes.as_slice() == bytes => Some((e.hash, e.features.as_slice())),
            _ => None,
        }
    }

    /// Records verified `bytes`, evicting whatever shared their entry.
    pub fn insert(&mut self, bytes: &[u8], hash: [u8; 16], features: &[f32]) {
        if let Some(i) = self.index(bytes) {
            if !matches!(&self.entries[i], Some(e) if e.bytes.as_slice() == bytes) {
                self.entries[i] = Some(Entry { bytes: bytes.to_vec(), hash, features: features.to_vec() });
            }
        }
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
