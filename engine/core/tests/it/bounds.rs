//! Property: random bundles, snapshots and requests never panic and always finish.
use proptest::prelude::*;
use vitrine_engine::bundle::envelope;
use vitrine_engine::rules::{Arith, Cmp, Op, Program};
use vitrine_engine::snapshot::encode_text;
use vitrine_engine::testkit::{bundle_key, Fixture, BUNDLE_KID, NOW};
use vitrine_engine::{api, Engine};

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<f64>().prop_map(Op::Num),
        any::<bool>().prop_map(Op::Bool),
        Just(Op::Null),
        Just(Op::Now),
        (0u16..20).prop_map(Op::FeatureNum),
        (0u16..20).prop_map(Op::FeatureBool),
        (0u16..20).prop_map(Op::FeatureCat),
        (0u16..6).prop_map(Op::ContextNum),
        (0u16..6).prop_map(Op::ContextCat),
        Just(Op::Add),
        Just(Op::Sub),
        Just(Op::Mul),
        Just(Op::Div),
        Just(Op::Neg),
        Just(Op::Lt),
        Just(Op::Le),
        Just(Op::Gt),
        Just(Op::Ge),
        Just(Op::Eq),
        Just(Op::Ne),
        (0u16..5).prop_map(Op::CatIs),
        Just(Op::And),
        Just(Op::Or),
        Just(Op::Not),
        Just(Op::IsNull),
        Just(Op::Select),
        (0u16..2).prop_map(Op::InNums),
        (0u16..2).prop_map(Op::InCats),
        (0u16..20, 0u16..6, -5.0f64..5.0).prop_map(|(slot, c, value)| Op::CmpFeature {
            slot,
            cmp: [Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge, Cmp::Eq, Cmp::Ne][c as usize],
            value
        }),
        (0u16..6, 0u16..6, -5.0f64..30.0).prop_map(|(slot, c, value)| Op::CmpContext {
            slot,
            cmp: [Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge, Cmp::Eq, Cmp::Ne][c as usize],
            value
        }),
        (0u16..20, 0u16..5).prop_map(|(slot, cat)| Op::FeatureIs { slot, cat }),
        (0u16..20, 0u16..4, -5.0f64..5.0).prop_map(|(slot, a, value)| Op::ArithFeature {
            slot,
            arith: [Arith::Add, Arith::Sub, Arith::Mul, Arith::Div][a as usize],
            value
        }),
        (0u16..20, 0u16..2).prop_map(|(slot, set)| Op::FeatureIn { slot, set }),
    ]
}

fn program() -> impl Strategy<Value = Program> {
    (proptest::collection::vec(op(), 0..24), proptest::collection::vec(proptest::collection::vec(-5.0f64..5.0, 0..4), 0..2))
        .prop_map(|(ops, num_sets)| Program { ops, num_sets, cat_sets: vec![vec![0, 2]] })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_rule_programs_load_or_fail_cleanly_and_decide_in_bounds(p in program(), at in 0usize..12, stage in 0usize..3, seed in 0u64..1000) {
        let fx = Fixture::telco();
        let mut b = fx.bundle.clone();
        match stage {
            0 => b.offers[at].eligibility = p,
            1 => b.offers[at].applicability = p,
            _ => b.offers[at].suitability = p,
        }
        let bytes = envelope::sign_unvalidated(&b, BUNDLE_KID, &bundle_key()).unwrap();
        match Engine::load(&bytes, &fx.bundle_public_key) {
            Ok(mut engine) => {
                let out = api::decide_json(&mut engine, fx.request_json(1, NOW, seed).as_bytes());
                prop_assert!(out.starts_with(br#"{"decision_id""#) || out.starts_with(br#"{"error""#), "neither decision nor error");
            }
            Err(e) => prop_assert!(e.code().starts_with("rule_") || e.code() == "bundle_invalid", "{}", e),
        }
    }

    #[test]
    fn random_bytes_never_load(bytes in proptest::collection::vec(any::<u8>(), 0..512), prefix in any::<bool>()) {
        let fx = Fixture::telco();
        let mut b = if prefix { b"VBND\x01\x0dbundle-test-1".to_vec() } else { Vec::new() };
        b.extend(bytes);
        prop_assert!(Engine::load(&b, &fx.bundle_public_key).is_err());
    }

    #[test]
    fn random_snapshots_are_rejected_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..1500), keep in 0usize..200) {
        let fx = Fixture::telco();
        let mut engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
        let good = fx.snapshot_bytes(0);
        let mut b = good[..keep.min(good.len())].to_vec();
        b.extend(bytes);
        prop_assume!(b != good);
        let mut req = fx.request(0, NOW, 1);
        req.snapshot = Some(encode_text(&b));
        let err = engine.decide(&req).unwrap_err();
        prop_assert!(err.code().starts_with("snapshot_"), "{}", err);
    }

    #[test]
    fn random_request_text_never_panics(text in "\\PC{0,300}", json in proptest::option::of(any::<u32>())) {
        let fx = Fixture::telco();
        let mut engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
        let body = match json {
            Some(n) => format!("{{\"now\":{n},\"seed\":{n},\"slots\":[{{\"slot\":\"home_hero\",\"k\":{}}}],\"context\":{{\"hour\":\"{text}\"}}}}", n % 20),
            None => text,
        };
        let out = api::decide_json(&mut engine, body.as_bytes());
        prop_assert!(out.starts_with(br#"{"error""#) || out.starts_with(br#"{"decision_id""#), "neither decision nor error");
    }
}
