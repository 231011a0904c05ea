//! Snapshot tampering: every single-bit flip of a valid snapshot is rejected, and
//! expiry, wrong key and wrong schema have their own codes.
use vitrine_engine::decision::DecideRequest;
use vitrine_engine::snapshot::{encode_text, SnapshotSigner};
use vitrine_engine::testkit::{snapshot_key, untrusted_snapshot_key, Fixture, NOW, SNAPSHOT_KID};
use vitrine_engine::Engine;

fn with(fx: &Fixture, bytes: &[u8]) -> DecideRequest {
    let mut r = fx.request(0, NOW, 3);
    r.snapshot = Some(encode_text(bytes));
    r
}

#[test]
fn every_single_bit_flip_is_rejected() {
    let fx = Fixture::telco();
    let good = fx.snapshot_bytes(0);
    let mut engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    // Warm the cache with the genuine bytes: a flip must not ride on it.
    engine.decide(&with(&fx, &good)).unwrap();
    let mut codes = std::collections::BTreeMap::new();
    for byte in 0..good.len() {
        for bit in 0..8 {
            let mut b = good.clone();
            b[byte] ^= 1 << bit;
            let err = engine.decide(&with(&fx, &b)).expect_err(&format!("flip of byte {byte} bit {bit} was accepted"));
            *codes.entry(err.code()).or_insert(0) += 1;
        }
    }
    assert!(codes["snapshot_bad_signature"] > 0, "{codes:?}");
    assert!(!codes.contains_key("internal"), "{codes:?}");
}

#[test]
fn expiry_wrong_key_and_wrong_schema_have_their_own_codes() {
    let fx = Fixture::telco();
    let mut engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    let mut late = fx.request(0, NOW + 30 * 86_400, 1);
    assert_eq!(engine.decide(&late).unwrap_err().code(), "snapshot_expired");
    late.now = NOW - 86_400;
    assert_eq!(engine.decide(&late).unwrap_err().code(), "snapshot_not_yet_valid");
    let rogue = SnapshotSigner::new(SNAPSHOT_KID, untrusted_snapshot_key()).unwrap().sign(&fx.bundle.schema, &fx.clients[0]).unwrap();
    assert_eq!(engine.decide(&with(&fx, &rogue)).unwrap_err().code(), "snapshot_bad_signature");
    let unknown = SnapshotSigner::new("other-kid", snapshot_key()).unwrap().sign(&fx.bundle.schema, &fx.clients[0]).unwrap();
    assert_eq!(engine.decide(&with(&fx, &unknown)).unwrap_err().code(), "snapshot_unknown_key");
    let mut schema = fx.bundle.schema.clone();
    schema.features[0].name = "tenure_days".into();
    let other = SnapshotSigner::new(SNAPSHOT_KID, snapshot_key()).unwrap().sign(&schema, &fx.clients[0]).unwrap();
    assert_eq!(engine.decide(&with(&fx, &other)).unwrap_err().code(), "snapshot_schema_mismatch");
}

#[test]
fn three_hundred_features_fit_in_1200_bytes() {
    let fx = Fixture::bench();
    assert_eq!(fx.bundle.schema.features.len(), 300);
    let bytes = fx.snapshot_bytes(0);
    assert!(bytes.len() <= 1200, "{} bytes", bytes.len());
    // Even with every numeric feature at 16 bits.
    let mut schema = fx.bundle.schema.clone();
    for f in &mut schema.features {
        if let vitrine_engine::schema::FeatureKind::Numeric { quant } = &mut f.kind {
            *quant = vitrine_engine::schema::Quant::U16 { scale: 0.01, offset: 0.0 };
        }
    }
    let wide = SnapshotSigner::new(SNAPSHOT_KID, snapshot_key()).unwrap().sign(&schema, &fx.clients[0]).unwrap();
    assert!(wide.len() <= 1200, "{} bytes", wide.len());
}

#[test]
fn signing_rejects_values_that_do_not_fit_and_writes_nothing() {
    let fx = Fixture::telco();
    let signer = SnapshotSigner::new(SNAPSHOT_KID, snapshot_key()).unwrap();
    for (i, v) in [(2usize, 500.0f32), (4, 0.5), (9, 7.0), (0, -1.0)] {
        let mut c = fx.clients[0].clone();
        c.values[i] = Some(v);
        assert_eq!(signer.sign(&fx.bundle.schema, &c).unwrap_err().code(), "snapshot_encode", "feature {i} = {v}");
    }
    assert_eq!(SnapshotSigner::new("", snapshot_key()).unwrap_err().code(), "snapshot_encode");
}
