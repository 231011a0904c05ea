//! The plan entry point: a trusted profile decides exactly like the signed snapshot
//! of the same content (same offers, treatments, priorities and probabilities), and
//! bad profiles get typed errors.
use vitrine_engine::decision::{ContextValue, PlanRequest};
use vitrine_engine::schema::FeatureKind;
use vitrine_engine::snapshot::{Profile, ProfileWire};
use vitrine_engine::testkit::{Fixture, NOW};
use vitrine_engine::{api, Engine};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn wire(fx: &Fixture, i: usize) -> ProfileWire {
    let c = &fx.clients[i];
    let schema = &fx.bundle.schema;
    let mut consent = Vec::new();
    if c.consent & 1 != 0 {
        consent.push("profiling".to_string());
    }
    for (k, ch) in schema.channels.iter().enumerate() {
        if c.consent & (1 << (k + 1)) != 0 {
            consent.push(ch.clone());
        }
    }
    let features = schema
        .features
        .iter()
        .zip(&c.values)
        .map(|(f, v)| {
            let v = v.map(|x| match &f.kind {
                FeatureKind::Boolean => ContextValue::Bool(x == 1.0),
                FeatureKind::Categorical { vocab } => ContextValue::Label(vocab[x as usize].clone()),
                FeatureKind::Numeric { .. } => ContextValue::Num(x as f64),
            });
            (f.name.clone(), v)
        })
        .collect();
    ProfileWire { subject: hex(&c.subject), consent, features }
}

#[test]
fn profile_decides_like_the_signed_snapshot() {
    let fx = Fixture::telco();
    let mut engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    let mut modes = std::collections::BTreeSet::new();
    for i in 0..fx.clients.len() {
        for seed in [1u64, 77, 9_000_001] {
            let req = fx.request(i, NOW, seed);
            let signed = engine.decide(&req).unwrap();
            let mut plain = req.clone();
            plain.snapshot = None;
            let c = &fx.clients[i];
            let profile = Profile { subject: c.subject, consent: c.consent, values: c.values.clone() };
            let native = engine.decide_profile(&plain, &profile).unwrap();
            assert_eq!(native.slots, signed.slots, "client {i} seed {seed}");
            assert_eq!(native.mode, signed.mode);
            assert_eq!(native.record.subject, signed.record.subject);
            assert_eq!(native.record.arm, signed.record.arm);
            assert_eq!(native.record.consent, signed.record.consent);
            // The record names the profile, not a snapshot that never existed.
            assert_ne!(native.record.snapshot_hash, signed.record.snapshot_hash);
            modes.insert(format!("{:?}", native.mode));

            // The JSON form (raw ABI, Spark) resolves to the same profile, and is what
            // `Profile::to_wire` writes.
            assert_eq!(profile.to_wire(&fx.bundle.schema), wire(&fx, i));
            assert_eq!(wire(&fx, i).resolve(&fx.bundle.schema).unwrap(), profile);
            let plan = PlanRequest { profile: wire(&fx, i), request: plain };
            let json = api::plan_json(&mut engine, &serde_json::to_vec(&plan).unwrap());
            assert_eq!(json, serde_json::to_vec(&native).unwrap());
        }
    }
    assert!(modes.len() >= 2, "the fixture clients cover several modes: {modes:?}");
}

#[test]
fn bad_profiles_are_typed_errors() {
    let fx = Fixture::telco();
    let mut engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    let mut plain = fx.request(0, NOW, 1);
    plain.snapshot = None;
    let code = |engine: &mut Engine, plan: &PlanRequest| {
        let out = api::plan_json(engine, &serde_json::to_vec(plan).unwrap());
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        (v["error"]["code"].as_str().unwrap_or("").to_string(), v["error"]["message"].as_str().unwrap_or("").to_string())
    };
    let good = PlanRequest { profile: wire(&fx, 0), request: plain.clone() };

    let mut p = good.clone();
    p.profile.subject = "zz".repeat(16);
    assert_eq!(code(&mut engine, &p).0, "request_bad_profile");

    let mut p = good.clone();
    p.profile.consent.push("carrier-pigeon".into());
    let (c, m) = code(&mut engine, &p);
    assert_eq!(c, "request_bad_profile");
    assert!(m.contains("carrier-pigeon"), "{m}");

    let mut p = good.clone();
    p.profile.features.insert("no_such_feature".into(), Some(ContextValue::Num(1.0)));
    let (c, m) = code(&mut engine, &p);
    assert_eq!(c, "request_bad_profile");
    assert!(m.contains("no_such_feature"), "{m}");

    let mut p = good.clone();
    let numeric = fx.bundle.schema.features.iter().find(|f| matches!(f.kind, FeatureKind::Numeric { .. })).unwrap().name.clone();
    p.profile.features.insert(numeric.clone(), Some(ContextValue::Label("lots".into())));
    let (c, m) = code(&mut engine, &p);
    assert_eq!(c, "request_bad_profile");
    assert!(m.contains(&numeric), "{m}");

    // A plan request never carries a snapshot too.
    let mut p = good.clone();
    p.request.snapshot = Some(fx.snapshot_text(0));
    assert_eq!(code(&mut engine, &p).0, "request_bad_value");

    let out = api::plan_json(&mut engine, b"{\"profile\":");
    assert!(String::from_utf8_lossy(&out).contains("request_malformed"));
}
