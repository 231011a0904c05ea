//! Property: a client without profiling consent never gets a decision that depends
//! on a personal feature. Flip any personal feature: the same offers, treatments
//! and probabilities come out.
use proptest::prelude::*;
use vitrine_engine::decision::{DecideRequest, DecideResponse, Mode};
use vitrine_engine::snapshot::{encode_text, SnapshotSigner, CONSENT_PROFILING};
use vitrine_engine::testkit::{snapshot_key, Fixture, NOW, SNAPSHOT_KID};
use vitrine_engine::Engine;

fn decide(engine: &mut Engine, fx: &Fixture, values: &[Option<f32>], consent: u16, seed: u64) -> DecideResponse {
    let mut content = fx.clients[0].clone();
    content.values = values.to_vec();
    content.consent = consent;
    let bytes = SnapshotSigner::new(SNAPSHOT_KID, snapshot_key()).unwrap().sign(&fx.bundle.schema, &content).unwrap();
    let mut req: DecideRequest = fx.request(0, NOW, seed);
    req.snapshot = Some(encode_text(&bytes));
    req.explain = true;
    req.slots = fx.bundle.slots.iter().map(|s| vitrine_engine::decision::SlotRequest { slot: s.id.clone(), k: None }).collect();
    engine.decide(&req).unwrap()
}

/// A random but valid value for feature `i` of the telco schema.
fn value(fx: &Fixture, i: usize, r: u32) -> Option<f32> {
    use vitrine_engine::schema::{FeatureKind, Quant};
    match &fx.bundle.schema.features[i].kind {
        FeatureKind::Boolean => Some((r % 2) as f32),
        FeatureKind::Categorical { vocab } => Some((r as usize % vocab.len()) as f32),
        FeatureKind::Numeric { quant: Quant::U8 { scale, .. } } => Some((r % 256) as f32 * scale),
        FeatureKind::Numeric { quant: Quant::U16 { scale, .. } } => Some((r % 65536) as f32 * scale),
        FeatureKind::Numeric { quant: Quant::F32 } => Some(r as f32 / 7.0),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn no_profiling_consent_reads_no_personal_feature(
        base in proptest::collection::vec(any::<u32>(), 14),
        flip_at in 0usize..14,
        flip_to in any::<u32>(),
        missing in any::<bool>(),
        seed in 0u64..1_000_000,
        channels in 0u16..16,
    ) {
        let fx = Fixture::telco();
        let mut engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
        let personal: Vec<usize> = (0..14).filter(|&i| fx.bundle.schema.features[i].personal).collect();
        let at = personal[flip_at % personal.len()];
        let a: Vec<Option<f32>> = (0..14).map(|i| value(&fx, i, base[i])).collect();
        let mut b = a.clone();
        b[at] = if missing { None } else { value(&fx, at, flip_to) };
        let consent = (channels << 1) & !CONSENT_PROFILING;
        let ra = decide(&mut engine, &fx, &a, consent, seed);
        let rb = decide(&mut engine, &fx, &b, consent, seed);
        prop_assert_eq!(ra.mode, Mode::NoProfilingConsent);
        prop_assert_eq!(&ra.slots, &rb.slots);
        prop_assert_eq!(&ra.explain, &rb.explain);
    }
}

#[test]
fn the_property_is_not_vacuous_with_consent() {
    // With consent, some personal feature does change the decision.
    let fx = Fixture::telco();
    let mut engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    let a = fx.clients[0].values.clone();
    let mut b = a.clone();
    b[8] = Some(0.0); // device age: device renewal no longer eligible
    b[9] = Some(0.0); // poor indoor coverage: femtocell becomes eligible
    let all = fx.clients[0].consent;
    let ra = decide(&mut engine, &fx, &a, all, 5);
    let rb = decide(&mut engine, &fx, &b, all, 5);
    assert_eq!(ra.mode, Mode::Personalised);
    assert_ne!(ra.slots, rb.slots);
}
