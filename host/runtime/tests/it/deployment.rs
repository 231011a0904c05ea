//! A deployment's facts are typed and follow every swap and rollback.
use vitrine_runtime::{Runtime, RuntimeOptions};

use crate::{engine_wasm, telco};

#[test]
fn deployment_facts_follow_swaps_and_rollbacks() {
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let mut bundle = telco();
    bundle.policy.arms.bau = 0.25;
    let v1 = vitrine_engine::bundle::envelope::sign(&bundle, "b1", &key).unwrap();
    let rt = Runtime::new(&std::fs::read(engine_wasm()).unwrap(), v1, key.verifying_key().to_bytes(), RuntimeOptions::default()).unwrap();
    let d = rt.current();
    let native = vitrine_engine::Engine::load(&d.bundle, &key.verifying_key().to_bytes()).unwrap().info();
    assert_eq!(
        (d.name(), d.version(), d.facts.hash.as_str(), d.facts.arms.bau),
        (bundle.name.as_str(), bundle.version, native.hash.as_str(), 0.25)
    );
    assert_eq!(d.facts.offers.keys().cloned().collect::<Vec<_>>(), {
        let mut ids: Vec<String> = bundle.offers.iter().map(|o| o.id.clone()).collect();
        ids.sort();
        ids
    });

    bundle.version += 1;
    bundle.name = "renamed".into();
    bundle.policy.arms.bau = 0.1;
    let d2 = rt.swap_bundle(vitrine_engine::bundle::envelope::sign(&bundle, "b1", &key).unwrap()).unwrap();
    assert_eq!((d2.name(), d2.version(), d2.facts.arms.bau), ("renamed", bundle.version, 0.1f32));
    assert_ne!(d2.facts.hash, d.facts.hash);
    assert_eq!(rt.history(), vec![(d.version(), d.bundle_sha256.clone())]);
    let back = rt.rollback().unwrap();
    assert_eq!((back.name(), back.version(), back.facts.arms.bau), (d.name(), d.version(), 0.25));
}
