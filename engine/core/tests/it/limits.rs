//! Oversized inputs are refused with their own codes before any work is done.
use vitrine_engine::api;
use vitrine_engine::limits::{MAX_BUNDLE_BYTES, MAX_REQUEST_BYTES};
use vitrine_engine::testkit::{Fixture, NOW};

#[test]
fn oversized_bundle_and_request_are_refused() {
    let fx = Fixture::telco();
    let mut big = fx.bundle_bytes.clone();
    big.resize(MAX_BUNDLE_BYTES + 1, 0);
    assert_eq!(api::load(&big, &fx.bundle_public_key).unwrap_err().code(), "bundle_oversized");
    let mut engine = api::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    let huge = vec![b' '; MAX_REQUEST_BYTES + 1];
    let out = String::from_utf8(api::decide_json(&mut engine, &huge)).unwrap();
    assert!(out.contains("\"code\":\"request_too_large\""), "{out}");
    let mut req = fx.request(0, NOW, 1);
    req.history = (0..1001)
        .map(|i| vitrine_engine::decision::HistoryEntry {
            offer: "x".into(),
            channel: None,
            kind: vitrine_engine::policy::HistoryKind::Click,
            at: i,
        })
        .collect();
    assert_eq!(engine.decide(&req).unwrap_err().code(), "request_too_many");
}

#[test]
fn the_error_json_shape_is_shared() {
    let fx = Fixture::telco();
    let err = api::load(&[1, 2, 3], &fx.bundle_public_key).unwrap_err();
    let json: serde_json::Value = serde_json::from_slice(&api::error_json(&err)).unwrap();
    assert_eq!(json["error"]["code"], "bundle_truncated");
    assert_eq!(json["error"]["stage"], "bundle");
    assert!(json["error"]["message"].as_str().unwrap().contains("truncated"));
    let info: serde_json::Value =
        serde_json::from_slice(&api::info_json(&api::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap())).unwrap();
    assert_eq!(info["offers"], 12);
}
