//! Byte-level and structural mutations used to build the error cases.
use vitrine_engine::bundle::{envelope, Bundle};
use vitrine_engine::testkit::{bundle_key, sign_raw, BUNDLE_KID};

/// Signs `bundle` without validating it (for validation-error cases).
pub fn sign_invalid(bundle: &Bundle) -> Vec<u8> {
    envelope::sign_unvalidated(bundle, BUNDLE_KID, &bundle_key()).unwrap_or_default()
}

/// A correctly signed envelope around an arbitrary payload.
pub fn signed_envelope(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&envelope::MAGIC);
    out.push(envelope::VERSION);
    out.push(BUNDLE_KID.len() as u8);
    out.extend_from_slice(BUNDLE_KID.as_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    let sig = sign_raw(&bundle_key(), &[envelope::SIGNING_DOMAIN, &out].concat());
    out.extend_from_slice(&sig);
    out
}

/// `bytes` with bit `bit` of byte `at` flipped.
pub fn flip(bytes: &[u8], at: usize, bit: u8) -> Vec<u8> {
    let mut b = bytes.to_vec();
    if let Some(x) = b.get_mut(at) {
        *x ^= 1 << bit;
    }
    b
}
