//! A bounded cache of snapshots whose signature this engine already verified.
//!
//! Direct-mapped by the signature's first bytes (already uniformly random); a hit
//! requires the full bytes to match, so a forged snapshot can never borrow another's
//! verification. Time validity and schema are re-checked on every use.

/// Bounded set of verified snapshot bytes with their identity hash.
#[derive(Debug, Clone)]
pub struct VerifiedCache {
    entries: Vec<Option<(Vec<u8>, [u8; 16])>>,
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

    /// The identity hash of `bytes` if they were verified before.
    pub fn lookup(&self, bytes: &[u8]) -> Option<[u8; 16]> {
        let i = self.index(bytes)?;
        match &self.entries[i] {
            Some((b, h)) if b.as_slice() == bytes => Some(*h),
            _ => None,
        }
    }

    /// Records verified `bytes`, evicting whatever shared their entry.
    pub fn insert(&mut self, bytes: &[u8], hash: [u8; 16]) {
        if let Some(i) = self.index(bytes) {
            if !matches!(&self.entries[i], Some((b, _)) if b.as_slice() == bytes) {
                self.entries[i] = Some((bytes.to_vec(), hash));
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
