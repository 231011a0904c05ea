//! Property: the same bundle and request give the same bytes: across engines, across
//! repeated calls on one engine (verified-snapshot cache warm or cold).
use proptest::prelude::*;
use vitrine_engine::{
    api,
    testkit::{Fixture, NOW},
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn same_input_same_bytes(client in 0usize..8, seed in 0u64..(1 << 53), dt in 0u64..3600, explain in any::<bool>()) {
        let fx = Fixture::telco();
        let mut req = fx.request(client, NOW + dt, seed);
        req.explain = explain;
        let json = serde_json::to_vec(&req).unwrap();
        let mut e1 = api::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
        let mut e2 = api::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
        let a = api::decide_json(&mut e1, &json);
        let b = api::decide_json(&mut e1, &json);
        let c = api::decide_json(&mut e2, &json);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(&a, &c);
        prop_assert!(a.starts_with(br#"{"decision_id""#), "not a decision");
    }
}

#[test]
fn the_verified_cache_skips_reverification_but_not_the_clock() {
    let fx = Fixture::telco();
    let mut engine = api::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    let req = fx.request(0, NOW, 1);
    assert_eq!(engine.cached_snapshots(), 0);
    engine.decide(&req).unwrap();
    assert_eq!(engine.cached_snapshots(), 1);
    engine.decide(&req).unwrap();
    assert_eq!(engine.cached_snapshots(), 1);
    // A cached snapshot still expires.
    let late = fx.request(0, NOW + 10 * 86_400, 1);
    assert_eq!(engine.decide(&late).unwrap_err().code(), "snapshot_expired");
}

#[test]
fn different_decisions_never_share_an_id() {
    use vitrine_engine::decision::{ContextValue, HistoryEntry, SlotRequest};
    use vitrine_engine::policy::HistoryKind;
    let fx = Fixture::telco();
    let mut engine = api::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    let base = fx.request(0, NOW, 7);
    let id = |engine: &mut vitrine_engine::Engine, req: &vitrine_engine::decision::DecideRequest| engine.decide(req).unwrap().decision_id;
    let first = id(&mut engine, &base);
    // The same request: the same id (explain only changes what is returned).
    let mut explained = base.clone();
    explained.explain = !base.explain;
    assert_eq!(id(&mut engine, &explained), first);
    // Same client, second and seed; anything else that makes the decision differs.
    let mut variants = Vec::new();
    let mut other_slots = base.clone();
    other_slots.slots = vec![SlotRequest { slot: base.slots[0].slot.clone(), k: Some(1) }];
    variants.push(("k", other_slots));
    let mut fewer = base.clone();
    fewer.slots.truncate(1);
    if base.slots.len() > 1 {
        variants.push(("slots", fewer));
    }
    let mut context = base.clone();
    context.context.insert("page".into(), ContextValue::Label("offers".into()));
    variants.push(("context", context));
    let mut context_value = base.clone();
    context_value.context.insert("page".into(), ContextValue::Label("account".into()));
    variants.push(("context value", context_value));
    let mut history = base.clone();
    history.history.push(HistoryEntry {
        offer: fx.bundle.offers[0].id.clone(),
        channel: Some("web".into()),
        at: NOW - 60,
        kind: HistoryKind::Impression,
    });
    variants.push(("history", history));
    let mut ids = std::collections::BTreeSet::from([first]);
    for (what, req) in variants {
        assert!(ids.insert(id(&mut engine, &req)), "a different {what} gave an id already seen");
    }
}
