//! Verification by an Ed25519 verifier outside the engine: WebCrypto's
//! `crypto.subtle.verify("Ed25519", …)` in V8, native where the Wasm verifier costs
//! ~250 µs. The engine hands out exactly what it would verify itself
//! ([`SigningInput`]: the trusted key, the domain-separated message, the signature), and
//! takes back only the bytes an outside verifier accepted ([`UnverifiedSnapshot::admit_external`]).
//!
//! So that both verifiers accept the same signatures (and every runtime decides the
//! same), admission first checks what `ed25519_dalek::VerifyingKey::verify_strict` checks
//! beyond the verification equation: the signature's `S` is canonical (`S < ℓ`) and its `R`
//! is a valid point of large order (trusted keys of small order are already dropped at
//! load). WebCrypto (RFC 8032 §5.1.7, cofactorless) then checks the equation and the
//! encoding of `R` itself.
//!
//! The caller of [`UnverifiedSnapshot::admit_external`] vouches for the signature: it is
//! reachable only from a face's own code path that ran the outside verifier just before
//! (the JS face's `decideAsync`), never from a request.
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::scalar::Scalar;

use super::format::{decode_features, UnverifiedSnapshot};
use super::{VerifiedCache, VerifyContext, SIGNING_DOMAIN};
use crate::schema::Schema;

/// What an outside verifier needs to check one snapshot's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningInput {
    /// The trusted key the snapshot names (32 bytes).
    pub public_key: [u8; 32],
    /// The exact signed message: the domain prefix and the signed part of the snapshot.
    pub message: Vec<u8>,
    /// The 64-byte signature.
    pub signature: [u8; 64],
}

impl<'a> UnverifiedSnapshot<'a> {
    /// What to verify outside, if these bytes are not already in `cache` and name a trusted
    /// key; `None` otherwise (the synchronous path then answers, with its own error if any).
    pub fn signing_input(&self, cx: &VerifyContext<'_>, cache: &VerifiedCache) -> Option<SigningInput> {
        if cache.contains(self.bytes) {
            return None;
        }
        let key = cx.key(self.kid)?;
        Some(SigningInput { public_key: key.to_bytes(), message: [SIGNING_DOMAIN, self.signed_part()].concat(), signature: self.signature })
    }

    /// Records these bytes as verified after an outside verifier accepted their signature
    /// against the key [`Self::signing_input`] named: checks the strict-verification
    /// preconditions, the key and the schema, decodes the features and caches them. The
    /// time window is checked by every decision, as for a cache hit. Returns false (and
    /// caches nothing) when a check fails; the synchronous path then reports why.
    pub fn admit_external(self, cx: &VerifyContext<'_>, schema: &Schema, cache: &mut VerifiedCache, scratch: &mut Vec<f32>) -> bool {
        if self.schema_hash != cx.schema_hash || cx.key(self.kid).is_none() || !strict_preconditions(&self.signature) {
            return false;
        }
        if decode_features(self.body, self.n_features, schema, scratch).is_err() {
            return false;
        }
        cache.insert(self.bytes, super::format::snapshot_id(self.bytes), scratch);
        true
    }
}

/// `S < ℓ`, and `R` decodes to a point that is not of small order: what `verify_strict`
/// refuses before the equation.
fn strict_preconditions(signature: &[u8; 64]) -> bool {
    let mut r = [0u8; 32];
    let mut s = [0u8; 32];
    r.copy_from_slice(&signature[..32]);
    s.copy_from_slice(&signature[32..]);
    if bool::from(Scalar::from_canonical_bytes(s).is_none()) {
        return false;
    }
    CompressedEdwardsY(r).decompress().is_some_and(|p| !p.is_small_order())
}
