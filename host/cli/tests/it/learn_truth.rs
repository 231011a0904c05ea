//! `vitrine learn` against a known truth: clients of the example world convert on a shown
//! offer with probability 0.6 if their tenure is at least 60 months and 0.05 otherwise
//! (drawn deterministically here, never told to the learner). The learner must find it:
//! offers with enough responses get a learned model through the held-out gate and the
//! doubly-robust check, and every promoted model is closer to the truth (cross-entropy
//! against the true P(conversion), over the clients decided for) than the best constant
//! any per-offer posterior could serve.
use serde_json::{json, Value};
use vitrine_engine::models::Scratch;

use crate::common::{http, tenures, uniform, vitrine, Served};

/// The hidden truth: P(conversion | shown) from the tenure in months.
fn truth(tenure: f64) -> f64 {
    if tenure >= 60.0 {
        0.6
    } else {
        0.05
    }
}

#[test]
fn learn_finds_a_real_signal_and_every_promotion_is_closer_to_the_truth() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Served::start(tmp.path(), &[]);
    let tenure = tenures(tmp.path());
    let agent = http();
    let (mut events, mut hashes) = (Vec::new(), Vec::new());
    let now = vitrine_base::clock::now();
    let mut n = 0u64;
    for i in 0..4000u32 {
        let client = format!("c-{:04}", 1 + i % 300);
        let snap = s.snapshot(&agent, &client);
        let d: Value = agent
            .post(&s.url("/v1/decide"))
            .send_json(json!({ "snapshot": snap["snapshot"], "seed": i, "slots": [{ "slot": "offer_cards" }] }))
            .unwrap()
            .into_body()
            .read_json()
            .unwrap();
        hashes.push(d["record"]["snapshot_hash"].as_str().unwrap().to_string());
        let at = vitrine_base::clock::now();
        for o in d["slots"][0]["offers"].as_array().unwrap() {
            let e = |kind: &str| json!({ "event_id": format!("{kind}-{i}-{}", o["offer"].as_str().unwrap()), "decision_id": d["decision_id"], "type": kind, "offer": o["offer"], "treatment": o["treatment"], "slot": "offer_cards", "channel": "web", "at": at, "value": 10.0 });
            events.push(e("impression"));
            n += 1;
            if uniform(n) < truth(tenure[&client]) {
                events.push(e("click"));
                events.push(e("conversion"));
            }
        }
    }
    for chunk in events.chunks(2000) {
        let r: Value = agent.post(&s.url("/v1/events")).send_json(json!({ "events": chunk })).unwrap().into_body().read_json().unwrap();
        assert_eq!(r["stored"].as_u64(), Some(chunk.len() as u64), "{r}");
    }
    drop(s);

    let st = |p: &str| tmp.path().join(p).to_string_lossy().into_owned();
    let out = st("v2.vbundle");
    let as_of = (now + 2 * 86_400).to_string();
    let run = vitrine(&[
        "learn",
        "--bundle",
        &st("bundle.vbundle"),
        "--bundle-key",
        &st("keys/bundle-dev.pub"),
        "--key",
        &st("keys/bundle-dev.key"),
        "--feedback",
        &st("feedback.sqlite"),
        "--features",
        &st("features.sqlite"),
        "--as-of",
        &as_of,
        "--out",
        &out,
    ]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    let log: Value = serde_json::from_slice(&std::fs::read(format!("{out}.learn.json")).unwrap()).unwrap();
    let promoted: Vec<&str> =
        log["offers"].as_array().unwrap().iter().filter(|o| o["promoted"] == true).map(|o| o["offer"].as_str().unwrap()).collect();
    println!("{stdout}");
    assert!(!promoted.is_empty(), "a signal this strong is learned\n{stdout}");
    for o in log["offers"].as_array().unwrap().iter().filter(|o| o["promoted"] == true) {
        assert!(o["p_value"].as_f64().unwrap() <= o["p_needed"].as_f64().unwrap(), "{o}");
    }

    // Each promoted model against the truth, over the clients the decisions were made for.
    let after = vitrine_base::signed::read(std::path::Path::new(&out), std::path::Path::new(&st("keys/bundle-dev.pub"))).unwrap().bundle;
    let ledger = vitrine_store::FeatureStore::open_existing(&tmp.path().join("features.sqlite")).unwrap();
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for h in &hashes {
        let e = ledger.ledger_entry(h).unwrap().expect("every snapshot the host signed is in the ledger");
        if seen.insert(e.client_id.clone()) {
            rows.push((truth(tenure[&e.client_id]), e.features.iter().map(|v| v.unwrap_or(f32::NAN)).collect::<Vec<f32>>()));
        }
    }
    let mut scratch = Scratch::default();
    let ce = |p: f64, q: f64| {
        let q = q.clamp(1e-6, 1.0 - 1e-6);
        -(p * q.ln() + (1.0 - p) * (1.0 - q).ln())
    };
    // The best constant is the mean true probability: no posterior can do better.
    let mean = rows.iter().map(|(p, _)| p).sum::<f64>() / rows.len() as f64;
    let constant = rows.iter().map(|(p, _)| ce(*p, mean)).sum::<f64>() / rows.len() as f64;
    for offer in promoted {
        let i = after.offers.iter().position(|o| o.id == offer).unwrap();
        let learned = rows.iter().map(|(p, f)| ce(*p, vitrine_learn::served_propensity(&after, i, f, &mut scratch).unwrap())).sum::<f64>()
            / rows.len() as f64;
        println!("{offer}: cross-entropy against the truth {learned:.4}, the best constant's {constant:.4}");
        assert!(learned < constant, "{offer}: cross-entropy against the truth {learned:.4}, the best constant's {constant:.4}\n{stdout}");
    }
}
