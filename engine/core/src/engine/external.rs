//! Snapshot verification by an outside Ed25519 verifier (see `snapshot/external.rs`):
//! what to verify for a request's snapshot text, and admitting it once verified.
use super::Engine;
use crate::snapshot::{decode_text, SigningInput, UnverifiedSnapshot, VerifyContext};

impl Engine {
    /// What an outside verifier must check before `snapshot` (base64url text) can be
    /// decided on without the engine's own verifier; `None` when there is nothing to
    /// verify outside: empty (anonymous), already verified, malformed or naming an
    /// unknown key (the decision then reports the error itself).
    pub fn snapshot_signing_input(&self, snapshot: &str) -> Option<SigningInput> {
        let bytes = decode_text(snapshot).ok()?;
        let unverified = UnverifiedSnapshot::parse(&bytes).ok()?;
        unverified.signing_input(&VerifyContext { keys: &self.keys, schema_hash: self.schema_hash, now: 0, skew_secs: 0 }, &self.cache)
    }

    /// Caches `snapshot` as verified: only for the face that has just had its
    /// [`Self::snapshot_signing_input`] accepted by an outside Ed25519 verifier. Checks
    /// the strict-verification preconditions, key and schema first; false if one fails.
    pub fn admit_externally_verified(&mut self, snapshot: &str) -> bool {
        let Ok(bytes) = decode_text(snapshot) else { return false };
        let Ok(unverified) = UnverifiedSnapshot::parse(&bytes) else { return false };
        let cx = VerifyContext { keys: &self.keys, schema_hash: self.schema_hash, now: 0, skew_secs: 0 };
        unverified.admit_external(&cx, &self.bundle.schema, &mut self.cache, &mut self.ws.features)
    }
}
