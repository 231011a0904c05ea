//! The closed loop: feedback → `learn` → a new bundle that ranks the better offer higher;
//! `replay` judges a candidate on logged decisions (on-policy, IPS equals the observed
//! value exactly).
use vitrine_base::keys::{self, Role};
use vitrine_engine::decision::{DecideRequest, DecideResponse, Mode, SlotRequest};
use vitrine_engine::snapshot::{channel_consent_bit, encode_text, SnapshotContent, SnapshotSigner, CONSENT_PROFILING};
use vitrine_feedback::learn::{learn, replay, Reward};
use vitrine_feedback::{Event, EventKind, FeedbackStore, LoggedDecision, SqliteStore};
use vitrine_runtime::{Runtime, RuntimeOptions};

const NOW: u64 = 1_800_000_000;

/// A client eligible for both fibre_upgrade and data_20gb.
fn snapshot(src: &std::path::Path, bundle: &vitrine_engine::bundle::Bundle, subject: u8) -> String {
    let secret = keys::load_secret(&src.join("keys/snap-demo.key"), Role::Snapshot).unwrap();
    let signer = SnapshotSigner::new(&secret.kid, secret.key).unwrap();
    let web = bundle.schema.channel("web").unwrap();
    // tenure, spend, usage, fiber_eligible, fiber_owned, coverage (good), plan (basic), complaint
    let values = vec![Some(24.0), Some(45.0), Some(20.0), Some(1.0), Some(0.0), Some(2.0), Some(0.0), Some(0.0)];
    let content = SnapshotContent {
        subject: [subject; 16],
        issued_at: NOW - 60,
        expires_at: NOW + 3600,
        consent: CONSENT_PROFILING | channel_consent_bit(web),
        values,
    };
    encode_text(&signer.sign(&bundle.schema, &content).unwrap())
}

fn request(snapshot: &str, seed: u64) -> DecideRequest {
    DecideRequest {
        snapshot: Some(snapshot.to_string()),
        now: NOW,
        seed,
        context: Default::default(),
        slots: vec![SlotRequest { slot: "offer_cards".into(), k: Some(3) }],
        history: vec![],
        explain: false,
    }
}

fn priorities(resp: &DecideResponse) -> (f64, f64) {
    let p = |id: &str| {
        resp.slots[0].offers.iter().find(|o| o.offer == id).map(|o| o.priority).unwrap_or_else(|| panic!("{id} not shown: {resp:?}"))
    };
    (p("fibre_upgrade"), p("data_20gb"))
}

fn events(store: &mut SqliteStore, offer: &str, impressions: u32, clicks: u32) {
    let batch: Vec<Event> = (0..impressions)
        .flat_map(|i| {
            let base = Event {
                event_id: format!("{offer}-i{i}"),
                decision_id: format!("{offer}-d{i}"),
                kind: EventKind::Impression,
                offer: offer.into(),
                treatment: "default".into(),
                slot: "offer_cards".into(),
                channel: "web".into(),
                at: NOW,
                value: None,
                selection_probability: None,
                rank: None,
                uplift: None,
                record: None,
            };
            let click = (i < clicks).then(|| Event { event_id: format!("{offer}-c{i}"), kind: EventKind::Click, ..base.clone() });
            std::iter::once(base).chain(click)
        })
        .collect();
    store.write(&batch, &[], &[]).unwrap();
}

#[test]
fn a_bundle_learns_that_b_converts_better_than_a() {
    let tmp = tempfile::tempdir().unwrap();
    let src = crate::common::example_copy(tmp.path());
    let bundle = vitrine_compile::load(&src).unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]);
    let public = key.verifying_key().to_bytes();
    let signed = vitrine_engine::bundle::envelope::sign(&bundle, "b", &key).unwrap();
    let subject = (0..=255u8)
        .find(|s| {
            let mut e = vitrine_engine::Engine::load(&signed, &public).unwrap();
            e.decide(&request(&snapshot(&src, &bundle, *s), 1)).unwrap().mode == Mode::Personalised
        })
        .unwrap();
    let snap = snapshot(&src, &bundle, subject);
    let before = vitrine_engine::Engine::load(&signed, &public).unwrap().decide(&request(&snap, 1)).unwrap();
    let (fibre, data) = priorities(&before);
    assert!(fibre > data, "before learning fibre leads: {fibre} vs {data}");

    // A (fibre) is clicked 2% of the time, B (data_20gb) 30%.
    let db = tmp.path().join("feedback.sqlite");
    let mut store = SqliteStore::open(&db).unwrap();
    events(&mut store, "fibre_upgrade", 1000, 20);
    events(&mut store, "data_20gb", 1000, 300);
    let learned = learn(&bundle, &store, 0, Reward::Click, 100).unwrap();
    assert_eq!(learned.bundle.version, bundle.version + 1);
    assert_eq!(learned.bundle.posteriors.len(), 2);
    let b = learned.offers.iter().find(|o| o.offer == "data_20gb").unwrap();
    assert_eq!((b.impressions, b.successes, b.alpha, b.beta), (1000, 300, 301.0, 701.0));

    let next = vitrine_engine::bundle::envelope::sign(&learned.bundle, "b", &key).unwrap();
    let after = vitrine_engine::Engine::load(&next, &public).unwrap().decide(&request(&snap, 1)).unwrap();
    let (fibre, data) = priorities(&after);
    assert!(data > fibre, "after learning data_20gb leads: {data} vs {fibre}");
    assert_eq!(after.slots[0].offers[0].offer, "data_20gb", "and is ranked first");
}

#[test]
fn replaying_the_logging_bundle_estimates_its_observed_value() {
    let tmp = tempfile::tempdir().unwrap();
    let src = crate::common::example_copy(tmp.path());
    let bundle = vitrine_compile::load(&src).unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]);
    let signed = vitrine_engine::bundle::envelope::sign(&bundle, "b", &key).unwrap();
    let wasm = std::fs::read(crate::common::engine_wasm()).unwrap();
    let runtime = Runtime::new(&wasm, signed, key.verifying_key().to_bytes(), RuntimeOptions::default()).unwrap();
    let mut store = SqliteStore::open(&tmp.path().join("feedback.sqlite")).unwrap();
    // 200 logged decisions over different subjects and seeds; every third first pick clicked.
    let (mut clicks, mut with_offers) = (0, 0);
    for i in 0..200u64 {
        let req = serde_json::to_string(&request(&snapshot(&src, &bundle, (i % 251) as u8), i)).unwrap();
        let (out, _) = runtime.decide(req.as_bytes()).unwrap();
        let resp: DecideResponse = serde_json::from_slice(&out).unwrap();
        let logged = LoggedDecision::from_response(resp.clone(), Some(req), "server");
        // A no_contact or bau decision may show nothing in this slot: logged, but no sample.
        let Some(first) = logged.shown.first().map(|s| s.offer.clone()) else {
            store.write(&[], &[], &[logged]).unwrap();
            continue;
        };
        with_offers += 1;
        let click = (i % 3 == 0).then(|| Event {
            event_id: format!("c{i}"),
            decision_id: resp.decision_id.clone(),
            kind: EventKind::Click,
            offer: first,
            treatment: "default".into(),
            slot: "offer_cards".into(),
            channel: "web".into(),
            at: NOW,
            value: None,
            selection_probability: None,
            rank: None,
            uplift: None,
            record: None,
        });
        clicks += usize::from(click.is_some());
        store.write(&click.into_iter().collect::<Vec<_>>(), &[], &[logged]).unwrap();
    }
    let decide = |request: &[u8]| runtime.decide(request).map(|(out, _)| vitrine_runtime::reply::<DecideResponse>(&out));
    let report = replay(decide, runtime.current().version(), &store, 0, &|_| true, Reward::Click, 500).unwrap();
    assert!(with_offers > 150, "{with_offers}");
    assert_eq!((report.decisions, report.skipped, report.samples), (200, 0, with_offers));
    assert_eq!(report.agreement, 1.0, "same bundle, same requests: same picks");
    let e = report.estimates.unwrap();
    let observed = clicks as f64 / with_offers as f64;
    assert!((e.logged.value - observed).abs() < 1e-12);
    assert!((e.ips.value - observed).abs() < 1e-9, "on-policy IPS {} vs observed {observed}", e.ips.value);
    assert!((e.snips.value - observed).abs() < 1e-9);
    assert!(e.ips.ci95.low <= observed && observed <= e.ips.ci95.high);
}
