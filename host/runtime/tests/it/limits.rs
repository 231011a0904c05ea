//! A hostile or broken engine module or bundle cannot hang or exhaust the host: calls run
//! under an epoch deadline and a memory limit, refused bundles leave the old one serving.
use std::time::{Duration, Instant};

use vitrine_runtime::{Runtime, RuntimeOptions};

use crate::{engine_wasm, telco};

/// An ABI-shaped module whose load and info work and whose decide misbehaves: `body` is
/// the body of `vitrine_decide`.
fn hostile(body: &str) -> String {
    format!(
        r#"(module
  (memory (export "memory") 1)
  (data (i32.const 64) "{{\"bundle\":\"x\",\"version\":7}}")
  (func (export "vitrine_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "vitrine_free") (param i32 i32))
  (func (export "vitrine_abi_version") (result i32) (i32.const 1))
  (func (export "vitrine_load") (param i32 i32 i32 i32) (result i32) (i32.const 1))
  (func (export "vitrine_last_error") (result i64) (i64.const 0))
  (func (export "vitrine_info") (param i32) (result i64) (i64.or (i64.shl (i64.const 64) (i64.const 32)) (i64.const 26)))
  (func (export "vitrine_unload") (param i32) (result i32) (i32.const 1))
  (func (export "vitrine_decide") (param i32 i32 i32) (result i64) {body}))"#
    )
}

fn example_bundle() -> (Vec<u8>, [u8; 32], ed25519_dalek::SigningKey) {
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    (vitrine_engine::bundle::envelope::sign(&telco(), "b1", &key).unwrap(), key.verifying_key().to_bytes(), key)
}

#[test]
fn an_endless_or_greedy_module_is_cut_off_and_the_host_keeps_serving() {
    let (bundle, public, _) = example_bundle();
    let real = std::fs::read(engine_wasm()).unwrap();
    let rt = Runtime::new(&real, bundle.clone(), public, RuntimeOptions::default()).unwrap();
    let request = br#"{"now": 1800000000, "seed": 1, "slots": [{"slot": "home_hero"}]}"#;
    assert!(rt.decide(request).is_ok());

    for (what, body) in [
        ("endless loop", "(loop (br 0)) (i64.const 0)"),
        ("memory bomb", "(loop (br_if 0 (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) (unreachable)"),
    ] {
        let deployment = rt.swap_module(hostile(body).as_bytes()).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(deployment.version(), 7);
        let started = Instant::now();
        let err = rt.decide(request).unwrap_err();
        assert_eq!(err.code(), "runtime_trap", "{what}: {err}");
        assert!(started.elapsed() < Duration::from_secs(2), "{what}: took {:?}", started.elapsed());
        // Rolling back restores the real engine.
        rt.rollback().unwrap();
        let (out, d) = rt.decide(request).unwrap();
        assert_eq!(d.version(), 1);
        assert!(String::from_utf8(out).unwrap().contains("\"decision_id\""), "{what}");
    }
}

#[test]
fn broken_and_oversized_bundles_are_refused_and_the_old_one_keeps_serving() {
    let (bundle, public, key) = example_bundle();
    let real = std::fs::read(engine_wasm()).unwrap();
    let rt = Runtime::new(&real, bundle.clone(), public, RuntimeOptions::default()).unwrap();
    let before = rt.current().bundle_sha256.clone();

    let err = rt.swap_bundle(b"not a bundle".to_vec()).unwrap_err();
    assert_eq!(err.code(), "runtime_bundle_refused");
    // Signed by a key the server does not trust.
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let parsed = telco();
    let err = rt.swap_bundle(vitrine_engine::bundle::envelope::sign(&parsed, "b1", &stranger).unwrap()).unwrap_err();
    assert!(matches!(&err, vitrine_runtime::RuntimeError::BundleRefused { code, .. } if code.starts_with("bundle_")), "{err}");
    // Validly signed but past the engine's limits (a hostile author): refused at load.
    let mut huge = parsed.clone();
    let offer = huge.offers[0].clone();
    huge.offers = (0..5000).map(|i| vitrine_engine::bundle::Offer { id: format!("o{i}"), ..offer.clone() }).collect();
    let err = rt.swap_bundle(vitrine_engine::bundle::envelope::sign_unvalidated(&huge, "b1", &key).unwrap()).unwrap_err();
    assert_eq!(err.code(), "runtime_bundle_refused", "{err}");
    assert_eq!(rt.current().bundle_sha256, before);
    assert!(rt.decide(br#"{"now": 1800000000, "seed": 1, "slots": [{"slot": "home_hero"}]}"#).is_ok());
    assert_eq!(rt.rollback().unwrap_err().code(), "runtime_no_rollback");
}

#[test]
fn the_compiled_module_cache_is_reused_and_a_foreign_file_is_not_trusted() {
    let (bundle, public, _) = example_bundle();
    let real = std::fs::read(engine_wasm()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let options = RuntimeOptions { cache_dir: Some(cache.path().join("c")), ..RuntimeOptions::default() };
    let first = Instant::now();
    drop(Runtime::new(&real, bundle.clone(), public, options.clone()).unwrap());
    let cold = first.elapsed();
    let files: Vec<_> = std::fs::read_dir(cache.path().join("c")).unwrap().map(|e| e.unwrap().path()).collect();
    let cwasm = files.iter().find(|p| p.extension().is_some_and(|e| e == "cwasm")).expect("a .cwasm was written").clone();
    let second = Instant::now();
    drop(Runtime::new(&real, bundle.clone(), public, options.clone()).unwrap());
    assert!(second.elapsed() < cold, "warm start {:?} vs cold {:?}", second.elapsed(), cold);
    // A .cwasm replaced behind our back (checksum no longer matches) is recompiled, not loaded.
    std::fs::write(&cwasm, b"\x7fELF not ours").unwrap();
    let rt = Runtime::new(&real, bundle, public, options).unwrap();
    assert!(rt.decide(br#"{"now": 1800000000, "seed": 1, "slots": [{"slot": "home_hero"}]}"#).is_ok());
    assert_ne!(std::fs::read(&cwasm).unwrap(), b"\x7fELF not ours");
}
