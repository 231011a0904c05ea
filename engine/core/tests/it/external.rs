//! Verification by an outside Ed25519 verifier (WebCrypto in the JS face): the engine
//! hands out exactly what it verifies itself, admits only signatures that pass
//! `verify_strict`'s preconditions, and decides the same bytes either way. Also the
//! cache's size option and the bundle key given as text.
use ed25519_dalek::{Signature, VerifyingKey};
use vitrine_engine::api;
use vitrine_engine::snapshot::encode_text;
use vitrine_engine::testkit::{snapshot_key, Fixture, NOW};
use vitrine_engine::Engine;

/// ℓ, the order of the Ed25519 base point, little-endian.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0x10,
];

fn decide_text(engine: &mut Engine, fx: &Fixture, snapshot: &str) -> Vec<u8> {
    let mut req = fx.request(0, NOW, 7);
    req.snapshot = Some(snapshot.to_string());
    api::decide_json(engine, serde_json::to_string(&req).unwrap().as_bytes())
}

#[test]
fn the_signing_input_is_what_the_engine_verifies_and_admission_decides_the_same_bytes() {
    let fx = Fixture::telco();
    let text = fx.snapshot_text(0);
    let mut reference = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    let expected = decide_text(&mut reference, &fx, &text);

    let mut engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    let input = engine.snapshot_signing_input(&text).expect("a fresh snapshot has something to verify");
    assert_eq!(input.public_key, snapshot_key().verifying_key().to_bytes());
    let key = VerifyingKey::from_bytes(&input.public_key).unwrap();
    key.verify_strict(&input.message, &Signature::from_bytes(&input.signature)).expect("the input verifies as given");
    assert!(input.message.starts_with(vitrine_engine::snapshot::SIGNING_DOMAIN));

    assert!(engine.admit_externally_verified(&text));
    assert_eq!(engine.snapshot_signing_input(&text), None, "cached: nothing left to verify");
    assert_eq!(decide_text(&mut engine, &fx, &text), expected, "the same bytes as the engine's own verification");
    let stats = engine.snapshot_cache_stats();
    assert_eq!((stats.hits, stats.misses, stats.entries), (1, 0, 1), "{stats:?}");
}

#[test]
fn nothing_to_verify_outside_for_anonymous_malformed_or_unknown_keys() {
    let fx = Fixture::telco();
    let engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    assert_eq!(engine.snapshot_signing_input(""), None);
    assert_eq!(engine.snapshot_signing_input("not base64 !"), None);
    assert_eq!(engine.snapshot_signing_input("AAAA"), None);
    let mut other = fx.snapshot_bytes(0);
    other[6] ^= 0x20; // the key id: no trusted key of that name
    assert_eq!(engine.snapshot_signing_input(&encode_text(&other)), None);
}

#[test]
fn admission_refuses_what_verify_strict_refuses_and_the_decision_reports_it() {
    let fx = Fixture::telco();
    let good = fx.snapshot_bytes(0);
    let n = good.len();
    // S + ℓ: the same point equation, a non-canonical scalar.
    let mut big_s = good.clone();
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = big_s[n - 32 + i] as u16 + L[i] as u16 + carry;
        big_s[n - 32 + i] = sum as u8;
        carry = sum >> 8;
    }
    // R = the identity point (small order).
    let mut small_r = good.clone();
    small_r[n - 64..n - 32].copy_from_slice(&{
        let mut id = [0u8; 32];
        id[0] = 1;
        id
    });
    for (name, bytes) in [("non-canonical S", big_s), ("small-order R", small_r)] {
        let mut engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
        let text = encode_text(&bytes);
        assert!(!engine.admit_externally_verified(&text), "{name} admitted");
        let out = String::from_utf8(decide_text(&mut engine, &fx, &text)).unwrap();
        assert!(out.contains("\"snapshot_bad_signature\""), "{name}: {out}");
    }
    // Schema mismatch: never admitted, whatever the outside verifier said.
    let mut engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    let mut wrong_schema = good.clone();
    wrong_schema[38 + good[5] as usize] ^= 1; // the schema hash (FORMAT.md: offset 38 + K)
    assert!(!engine.admit_externally_verified(&encode_text(&wrong_schema)));
    assert_eq!(engine.snapshot_cache_stats().entries, 0);
}

#[test]
fn the_cache_size_is_an_option_with_a_limit() {
    let fx = Fixture::telco();
    let mut engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    assert_eq!(engine.info().snapshot_cache.capacity, vitrine_engine::engine::SNAPSHOT_CACHE_ENTRIES as u64);
    let err = engine.set_snapshot_cache_entries(vitrine_engine::limits::MAX_SNAPSHOT_CACHE_ENTRIES as u64 + 1).unwrap_err();
    assert_eq!(err.code(), "request_bad_value");
    engine.set_snapshot_cache_entries(100).unwrap();
    assert_eq!(engine.info().snapshot_cache.capacity, 112, "rounded up to whole sets of 16");
    engine.set_snapshot_cache_entries(0).unwrap();
    let text = fx.snapshot_text(0);
    let first = decide_text(&mut engine, &fx, &text);
    assert_eq!(decide_text(&mut engine, &fx, &text), first);
    let stats = engine.info().snapshot_cache;
    assert_eq!((stats.capacity, stats.entries, stats.hits, stats.misses), (0, 0, 0, 2), "0 disables caching: {stats:?}");
}

#[test]
fn the_bundle_key_as_hex_or_key_file_json() {
    let fx = Fixture::telco();
    let hex: String = fx.bundle_public_key.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(api::bundle_key_from_text(&hex).unwrap(), fx.bundle_public_key);
    assert_eq!(api::bundle_key_from_text(&format!(" {}\n", hex.to_uppercase())).unwrap(), fx.bundle_public_key);
    let file = format!(r#"{{"kid":"b1","role":"bundle","public_key":"{hex}"}}"#);
    assert_eq!(api::bundle_key_from_text(&file).unwrap(), fx.bundle_public_key);
    for (bad, why) in [
        (format!(r#"{{"kid":"s1","role":"snapshot","public_key":"{hex}"}}"#), "`snapshot` key"),
        (hex[..62].to_string(), "64 hex digits"),
        (format!("{}zz", &hex[..62]), "64 hex digits"),
        ("{\"kid\":1}".to_string(), "not a key file"),
    ] {
        let err = api::bundle_key_from_text(&bad).unwrap_err();
        assert_eq!(err.code(), "bundle_bad_key", "{bad}");
        assert!(err.to_string().contains(why), "{bad}: {err}");
    }
}
