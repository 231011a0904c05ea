//! Holdout assignment: a salted hash of the subject, stable across requests.

/// True if `subject` falls in the control group of size `share` under `salt`.
pub fn in_holdout(subject: &[u8], salt: &str, share: f32) -> bool {
    if share <= 0.0 {
        return false;
    }
    let h = crate::sha256(b"vitrine/holdout/v1\0", &[salt.as_bytes(), b"\0", subject]);
    let mut b = [0u8; 8];
    b.copy_from_slice(&h[..8]);
    let u = (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64;
    u < share as f64
}
