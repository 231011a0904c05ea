//! Deterministic fixtures (feature `testkit`): keys, a small telco bundle, the
//! 300-feature benchmark bundle, and signed snapshots for their clients. Tests, the
//! golden-vector generator and the benchmarks all build from these.
mod bench;
mod telco;

use ed25519_dalek::SigningKey;

use crate::bundle::{envelope, Bundle};
use crate::decision::{ContextValue, DecideRequest, HistoryEntry, SlotRequest};
use crate::snapshot::{encode_text, SnapshotContent, SnapshotSigner};

/// Key id of the fixture bundle key.
pub const BUNDLE_KID: &str = "bundle-test-1";
/// Key id of the fixture snapshot key.
pub const SNAPSHOT_KID: &str = "snap-test-1";

/// The fixture bundle signing key (fixed seed: test use only).
pub fn bundle_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

/// The fixture snapshot signing key (fixed seed: test use only).
pub fn snapshot_key() -> SigningKey {
    SigningKey::from_bytes(&[9u8; 32])
}

/// A second snapshot key the fixture bundles do not trust.
pub fn untrusted_snapshot_key() -> SigningKey {
    SigningKey::from_bytes(&[11u8; 32])
}

/// A bundle, its signed bytes, and clients to decide for.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub bundle: Bundle,
    pub bundle_bytes: Vec<u8>,
    pub bundle_public_key: [u8; 32],
    pub clients: Vec<SnapshotContent>,
    /// A typical request context.
    pub context: Vec<(String, ContextValue)>,
    /// Slots a typical request asks for.
    pub slots: Vec<String>,
}

impl Fixture {
    /// Wraps `bundle` and signs it with the fixture bundle key.
    pub fn new(bundle: Bundle, clients: Vec<SnapshotContent>, context: Vec<(String, ContextValue)>, slots: Vec<String>) -> Self {
        let key = bundle_key();
        let bundle_bytes = envelope::sign(&bundle, BUNDLE_KID, &key).unwrap_or_else(|e| panic!("fixture bundle does not sign: {e}"));
        Fixture { bundle, bundle_bytes, bundle_public_key: key.verifying_key().to_bytes(), clients, context, slots }
    }

    /// The small telco bundle (14 features, 12 offers, 5 slots, three model kinds).
    pub fn telco() -> Self {
        telco::fixture()
    }

    /// The telco fixture with uplift-scored commercial offers (T-, S- and direct
    /// uplift) and contact costs on SMS and email.
    pub fn telco_uplift() -> Self {
        let t = telco::fixture();
        Fixture::new(telco::uplift_bundle(), t.clients, t.context, t.slots)
    }

    /// The benchmark bundle: 300 features, 100 offers, a 100-output logistic model and
    /// a 100-tree depth-6 GBDT, 3 slots of top-3.
    pub fn bench() -> Self {
        bench::fixture()
    }

    /// The benchmark bundle with its 100 offers scored by a T-learner (two 100-output
    /// logistic models: treated and control).
    pub fn bench_uplift() -> Self {
        bench::uplift_fixture()
    }

    /// Re-signs after `bundle` was changed.
    pub fn resign(&mut self) {
        *self = Fixture::new(self.bundle.clone(), self.clients.clone(), self.context.clone(), self.slots.clone());
    }

    /// Signed snapshot bytes of client `i`.
    pub fn snapshot_bytes(&self, i: usize) -> Vec<u8> {
        let signer = SnapshotSigner::new(SNAPSHOT_KID, snapshot_key()).unwrap_or_else(|e| panic!("{e}"));
        signer.sign(&self.bundle.schema, &self.clients[i]).unwrap_or_else(|e| panic!("fixture snapshot does not sign: {e}"))
    }

    /// Signed snapshot text (base64url) of client `i`.
    pub fn snapshot_text(&self, i: usize) -> String {
        encode_text(&self.snapshot_bytes(i))
    }

    /// A typical request for client `i`.
    pub fn request(&self, i: usize, now: u64, seed: u64) -> DecideRequest {
        DecideRequest {
            snapshot: Some(self.snapshot_text(i)),
            now,
            seed,
            context: self.context.iter().cloned().collect(),
            slots: self.slots.iter().map(|s| SlotRequest { slot: s.clone(), k: None }).collect(),
            history: Vec::<HistoryEntry>::new(),
            explain: false,
        }
    }

    /// [`Fixture::request`] as JSON.
    pub fn request_json(&self, i: usize, now: u64, seed: u64) -> String {
        serde_json::to_string(&self.request(i, now, seed)).unwrap_or_default()
    }
}

/// Fixture time: 2027-01-15T08:00:00Z.
pub const NOW: u64 = 1_800_000_000;

/// A 16-byte subject pseudonym from a number.
pub fn subject(n: u64) -> [u8; 16] {
    let h = crate::sha256(b"vitrine/testkit/subject\0", &[&n.to_le_bytes()]);
    let mut s = [0u8; 16];
    s.copy_from_slice(&h[..16]);
    s
}

/// Raw Ed25519 signature of `message` (for tests that build envelopes by hand).
pub fn sign_raw(key: &SigningKey, message: &[u8]) -> [u8; 64] {
    use ed25519_dalek::Signer;
    key.sign(message).to_bytes()
}
