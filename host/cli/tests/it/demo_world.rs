//! The demo world: `vitrine serve --demo` (13-offer bundle, 10,000 seeded clients) and
//! `vitrine demo simulate`, whose hidden truth the measured incremental sales must agree with.
use std::time::Duration;

use vitrine_demo::{self as demo, simulate, world};

use crate::common::{http, Served};

#[test]
fn the_world_is_seeded_and_fits_the_demo_schema() {
    let a = world::clients(500, demo::SEED);
    assert_eq!(a, world::clients(500, demo::SEED), "same seed, same world");
    assert_ne!(a, world::clients(500, demo::SEED + 1));
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("keys")).unwrap();
    let demo_src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web-demo/bundle");
    std::fs::create_dir_all(src.join("models")).unwrap();
    for rel in ["bundle.toml", "models/offers.onnx", "models/offers.reference.json"] {
        std::fs::copy(demo_src.join(rel), src.join(rel)).unwrap();
    }
    vitrine_base::keys::generate("snap-demo", vitrine_base::keys::Role::Snapshot, &src.join("keys")).unwrap();
    let bundle = vitrine_compile::load(&src).unwrap();
    assert!(bundle.offers.len() >= 12, "{} offers", bundle.offers.len());
    assert_eq!(bundle.models.len(), 1, "one ONNX graph trained on the world");
    use vitrine_engine::bundle::{OfferKind, Propensity, Score, Uplift};
    for o in &bundle.offers {
        match o.kind {
            // Commercial offers by uplift (a T-learner), service actions by propensity.
            OfferKind::Offer => assert!(matches!(o.score, Score::Uplift(Uplift::TwoModel { .. })), "{}", o.id),
            OfferKind::Service => assert!(matches!(o.score, Score::Propensity(Propensity::Model { .. })), "{}", o.id),
        }
    }
    assert_eq!((bundle.policy.arms.bau, bundle.policy.arms.no_contact), (0.10, 0.05));
    // An anonymous visitor of the demo storefront gets general offers, not an empty page.
    let key = ed25519_dalek::SigningKey::from_bytes(&[4; 32]);
    let signed = vitrine_engine::bundle::envelope::sign(&bundle, "b", &key).unwrap();
    let mut engine = vitrine_engine::Engine::load(&signed, &key.verifying_key().to_bytes()).unwrap();
    let request = serde_json::json!({ "now": 1_800_000_000u64, "seed": 1, "context": { "page": "home" }, "slots": [{ "slot": "home_hero" }, { "slot": "offer_cards" }] });
    let r = engine.decide(&serde_json::from_value(request).unwrap()).unwrap();
    assert_eq!(r.mode, vitrine_engine::decision::Mode::Anonymous);
    let shown: Vec<&str> = r.slots.iter().flat_map(|s| s.offers.iter().map(|o| o.offer.as_str())).collect();
    assert!(r.slots.iter().all(|s| !s.offers.is_empty()), "general offers in every slot for an anonymous visitor: {shown:?}");
    assert!(
        shown.iter().all(|o| ["data_20gb", "new_line", "fibre_upgrade"].contains(o)),
        "only offers whose rules allow a prospect: {shown:?}"
    );
    assert_eq!(bundle.schema.channels, ["web", "email", "sms", "push"]);
    let csv = tmp.path().join("clients.csv");
    std::fs::write(&csv, world::csv(&a)).unwrap();
    let mut store = vitrine_store::FeatureStore::open(&tmp.path().join("f.sqlite"), &bundle.schema).unwrap();
    assert_eq!(store.import_csv(&csv).unwrap(), 500, "every generated client passes the schema");
    // The truth favours the right clients: poor coverage → femtocell clicks.
    let poor = a.iter().find(|c| c.indoor_coverage == "poor").unwrap();
    let good = a.iter().find(|c| c.indoor_coverage == "good").unwrap();
    assert!(world::truth(poor, "femtocell").click > 3.0 * world::truth(good, "femtocell").click);
    // It has every kind of client an uplift model is about.
    let kinds = |o: &str| {
        let (mut persuadable, mut sure, mut dog) = (0, 0, 0);
        for c in &a {
            let t = world::truth(c, o);
            persuadable += usize::from(t.uplift() > 0.05);
            sure += usize::from(t.organic > 0.15 && t.uplift().abs() < 0.03);
            dog += usize::from(t.uplift() < -0.03);
        }
        (persuadable, sure, dog)
    };
    let (p, _, d) = kinds("loyalty_discount");
    assert!(p > 10 && d > 10, "loyalty: persuadables {p}, sleeping dogs {d}");
    let (p, s, _) = kinds("data_20gb");
    assert!(p > 10 && s > 5, "data pack: persuadables {p}, sure things {s}");
}

#[test]
fn simulated_traffic_fills_the_report_and_the_measured_uplift_matches_the_truth() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Served::start(tmp.path(), &["--demo"]);
    let clients = world::clients(demo::CLIENTS, demo::SEED);
    let options = simulate::Options {
        host: s.base.clone(),
        edge: None,
        api_key: s.api_key(),
        rate: 400.0,
        duration: Duration::from_secs(8),
        seed: 1,
    };
    let summary = simulate::simulate(&clients, &options).unwrap();
    assert_eq!(summary.errors, 0);
    assert!(summary.visits > 300, "{summary:?}");
    // Subjects are salted per store, so the arms' visit counts vary run to run.
    for mode in ["personalised", "bau", "no_contact"] {
        assert!(summary.modes.get(mode).copied().unwrap_or(0) > 0, "{mode}: {summary:?}");
    }
    assert!(summary.sales > 100, "{summary:?}");
    assert!(summary.true_incremental_per_client > 0.0, "personalised contacts add sales in the demo world: {summary:?}");
    let report: serde_json::Value = http().get(&s.url("/v1/report")).call().unwrap().into_body().read_json().unwrap();
    let impressions: u64 = report["rows"].as_array().unwrap().iter().map(|r| r["impressions"].as_u64().unwrap()).sum();
    assert_eq!(impressions, summary.impressions);
    assert_eq!(report["sales"], summary.sales, "every posted sale is stored and counted");
    assert_eq!(report["arms"]["sample_ratio_mismatch"], false, "arm shares as declared: {}", report["arms"]);
    // The measured personalised − no_contact sales per client agrees with the truth.
    let (measured, lo, hi) = summary.measured_vs_no_contact.unwrap();
    let half = (hi - lo) / 2.0;
    let truth = summary.true_incremental_per_client;
    assert!((measured - truth).abs() <= 3.0 * half, "measured {measured} [{lo}, {hi}] vs true {truth}");

    // `vitrine report` reads the same store to the same numbers.
    let state = |p: &str| s.state.join(p).to_string_lossy().into_owned();
    let out = crate::common::vitrine(&[
        "report",
        "--bundle",
        &state("bundle.vbundle"),
        "--bundle-key",
        &state("keys/bundle-dev.pub"),
        "--feedback",
        &state("feedback.sqlite"),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli["sales"], report["sales"]);
    assert_eq!(cli["arms"]["arms"], report["arms"]["arms"]);
    let text = crate::common::vitrine(&[
        "report",
        "--bundle",
        &state("bundle.vbundle"),
        "--bundle-key",
        &state("keys/bundle-dev.pub"),
        "--feedback",
        &state("feedback.sqlite"),
    ]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("personalised vs bau: sales/client") && text.contains("personalised vs no_contact"), "{text}");
}
