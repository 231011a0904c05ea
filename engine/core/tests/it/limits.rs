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

#[test]
fn now_in_milliseconds_is_named_and_an_empty_snapshot_is_anonymous() {
    let fx = Fixture::telco();
    let mut engine = api::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    // `Date.now()` instead of seconds: its own code, and a message that says what to do.
    let mut ms = fx.request(0, NOW, 1);
    ms.now = NOW * 1000;
    let e = engine.decide(&ms).unwrap_err();
    assert_eq!(e.code(), "request_now_in_milliseconds");
    assert!(e.to_string().contains("Date.now() / 1000"), "{e}");
    // The last second that is not refused still decides (or fails for another reason).
    let mut last = fx.request(0, NOW, 1);
    last.now = vitrine_engine::engine::NOW_LOOKS_LIKE_MILLISECONDS - 1;
    assert_ne!(engine.decide(&last).map(|_| ()).unwrap_err().code(), "request_now_in_milliseconds");
    // An empty snapshot string: an anonymous visitor, as with no snapshot at all.
    let mut empty = fx.request(0, NOW, 1);
    empty.snapshot = Some(String::new());
    let mut none = empty.clone();
    none.snapshot = None;
    let (a, b) = (engine.decide(&empty).unwrap(), engine.decide(&none).unwrap());
    assert_eq!(a.mode, vitrine_engine::decision::Mode::Anonymous);
    assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
}
