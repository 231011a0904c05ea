//! `vitrine learn`'s T-learner against a known truth. In the example world, `data_20gb`
//! becomes uplift-scored (two constant models: P(sale | contacted) 0.3, P(sale | not
//! contacted) 0.1) and half the clients go to the `no_contact` arm. The hidden truth, never
//! told to the learner: a client with a tenure of at least 60 months buys the pack with
//! probability 0.60 when contacted and 0.05 when not (uplift +0.55, persuadable); a
//! newer client 0.15 and 0.40 (uplift −0.25, a sleeping dog). The learner must relearn
//! both models, promote them through the held-out gate and the doubly-robust check, and
//! the promoted uplift must be closer to the true uplift than the best constant uplift
//! and rank persuadables well above sleeping dogs.
use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};
use vitrine_engine::bundle::{ModelOutput, Score, Uplift};
use vitrine_engine::models::{Body, Input, Model, Post, Scratch};

use crate::common::{http, tenures, uniform, vitrine, Served};

const OFFER: &str = "data_20gb";

/// The hidden truth: (P(sale | contacted), P(sale | not contacted)) from the tenure.
fn truth(tenure: f64) -> (f64, f64) {
    if tenure >= 60.0 {
        (0.60, 0.05)
    } else {
        (0.15, 0.40)
    }
}

/// A model that scores `p` for everyone (one input with weight 0).
fn constant(name: &str, p: f32) -> Model {
    Model {
        name: name.into(),
        inputs: vec![Input::Feature { slot: 0, impute: Some(0.0), offset: 0.0, scale: 1.0 }],
        body: Body::Linear { weights: vec![0.0], bias: vec![(p / (1.0 - p)).ln()] },
        post: Post::Logistic,
        n_outputs: 1,
    }
}

#[test]
fn the_t_learner_finds_who_a_contact_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let st = |p: &str| tmp.path().join(p).to_string_lossy().into_owned();
    let s = Served::start(tmp.path(), &[]);
    let agent = http();

    // The uplift-scored bundle, hot-swapped into the running server.
    let pubkey = st("keys/bundle-dev.pub");
    let mut bundle = vitrine_base::signed::read(tmp.path().join("bundle.vbundle").as_path(), std::path::Path::new(&pubkey)).unwrap().bundle;
    bundle.version += 1;
    bundle.policy.arms.bau = 0.0;
    bundle.policy.arms.no_contact = 0.5;
    let first = bundle.models.len() as u16;
    bundle.models.push(constant("treated", 0.3));
    bundle.models.push(constant("control", 0.1));
    let i = bundle.offers.iter().position(|o| o.id == OFFER).unwrap();
    bundle.offers[i].score = Score::Uplift(Uplift::TwoModel {
        treated: ModelOutput { model: first, output: 0 },
        control: ModelOutput { model: first + 1, output: 0 },
    });
    let secret =
        vitrine_base::keys::load_secret(tmp.path().join("keys/bundle-dev.key").as_path(), vitrine_base::keys::Role::Bundle).unwrap();
    let signed = vitrine_engine::bundle::envelope::sign(&bundle, &secret.kid, &secret.key).unwrap();
    std::fs::write(st("v2.vbundle"), &signed).unwrap();
    let pushed = agent
        .post(&s.url("/v1/admin/bundle"))
        .header("Authorization", &format!("Bearer {}", s.api_key()))
        .header("Content-Type", "application/octet-stream")
        .send(&signed[..])
        .unwrap();
    assert!(pushed.status().is_success());

    let tenure = tenures(tmp.path());
    // Eight decisions per client; each client's sale is drawn once, from the arm it is
    // in (contacted when any decision showed the offer, not contacted when it was
    // withheld), and reported by the order system after the decisions.
    let now = vitrine_base::clock::now();
    let mut events = Vec::new();
    let mut shown: HashMap<String, (String, String)> = HashMap::new();
    let mut withheld: HashSet<String> = HashSet::new();
    let mut subject: HashMap<String, String> = HashMap::new();
    let mut hashes = Vec::new();
    for round in 0..8u32 {
        for c in 1..=1000u32 {
            let client = format!("c-{c:04}");
            let snap = s.snapshot(&agent, &client);
            let seed = round * 1000 + c;
            let d: Value = agent
                .post(&s.url("/v1/decide"))
                .send_json(json!({ "snapshot": snap["snapshot"], "seed": seed, "slots": [{ "slot": "offer_cards" }] }))
                .unwrap()
                .into_body()
                .read_json()
                .unwrap();
            assert_eq!(d["record"]["bundle_version"].as_u64(), Some(bundle.version), "{d}");
            hashes.push(d["record"]["snapshot_hash"].as_str().unwrap().to_string());
            if let Some(sub) = d["record"]["subject"].as_str() {
                subject.insert(client.clone(), sub.to_string());
            }
            if d["record"]["withheld"].as_array().is_some_and(|w| w.iter().any(|o| o["offer"] == OFFER)) {
                withheld.insert(client.clone());
            }
            for o in d["slots"][0]["offers"].as_array().unwrap() {
                events.push(json!({ "event_id": format!("imp-{seed}-{}", o["offer"].as_str().unwrap()), "decision_id": d["decision_id"], "type": "impression", "offer": o["offer"], "treatment": o["treatment"], "slot": "offer_cards", "channel": "web", "at": now }));
                if o["offer"] == OFFER {
                    shown
                        .entry(client.clone())
                        .or_insert((d["decision_id"].as_str().unwrap().to_string(), o["treatment"].as_str().unwrap().to_string()));
                }
            }
        }
    }
    assert!(withheld.len() > 200 && shown.len() > 200, "{} withheld, {} shown", withheld.len(), shown.len());
    for (n, c) in (1..=1000u32).map(|c| format!("c-{c:04}")).enumerate() {
        let (treated, organic) = truth(tenure[&c]);
        let p = match (shown.get(&c), withheld.contains(&c)) {
            (Some(_), _) => treated,
            (None, true) => organic,
            (None, false) => continue,
        };
        if uniform(n as u64) < p {
            events.push(json!({ "event_id": format!("sale-{c}"), "type": "sale", "subject": subject[&c], "offer": OFFER, "value": 10.0, "at": now + 60 }));
            if let Some((decision, treatment)) = shown.get(&c) {
                events.push(json!({ "event_id": format!("conv-{c}"), "decision_id": decision, "type": "conversion", "offer": OFFER, "treatment": treatment, "slot": "offer_cards", "channel": "web", "at": now + 60, "value": 10.0 }));
            }
        }
    }
    for chunk in events.chunks(2000) {
        let r: Value = agent.post(&s.url("/v1/events")).send_json(json!({ "events": chunk })).unwrap().into_body().read_json().unwrap();
        assert_eq!(r["stored"].as_u64(), Some(chunk.len() as u64), "{r}");
    }
    drop(s);

    let out = st("v3.vbundle");
    let (since, as_of) = ((now - 3600).to_string(), (now + 8 * 86_400).to_string());
    let run = vitrine(&[
        "learn",
        "--bundle",
        &st("v2.vbundle"),
        "--bundle-key",
        &pubkey,
        "--key",
        &st("keys/bundle-dev.key"),
        "--feedback",
        &st("feedback.sqlite"),
        "--features",
        &st("features.sqlite"),
        "--since",
        &since,
        "--as-of",
        &as_of,
        "--out",
        &out,
    ]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    println!("{stdout}");
    let log: Value = serde_json::from_slice(&std::fs::read(format!("{out}.learn.json")).unwrap()).unwrap();
    let report = log["offers"].as_array().unwrap().iter().find(|o| o["offer"] == OFFER).unwrap();
    println!("effective held-out rows: contacted {}, not contacted {}", report["effective_rows"], report["control"]["effective_rows"]);
    assert_eq!(report["model"], "uplift", "{report}");
    assert!(report["control"]["train_rows"].as_u64().unwrap() > 100, "{report}");
    assert_eq!(report["promoted"], true, "an uplift this strong is learned\n{stdout}");
    assert!(report["p_value"].as_f64().unwrap() <= report["p_needed"].as_f64().unwrap(), "{report}");
    assert!(report["p_value"].as_f64().unwrap() >= report["control"]["p_value"].as_f64().unwrap(), "{report}");

    // The promoted uplift against the truth, over the clients decided for.
    let after = vitrine_base::signed::read(std::path::Path::new(&out), std::path::Path::new(&pubkey)).unwrap().bundle;
    assert!(after.models.iter().any(|m| m.name == format!("learned:{OFFER}:control")));
    let ledger = vitrine_store::FeatureStore::open_existing(&tmp.path().join("features.sqlite")).unwrap();
    let mut seen = HashSet::new();
    let mut rows = Vec::new();
    for h in &hashes {
        let e = ledger.ledger_entry(h).unwrap().expect("every snapshot the host signed is in the ledger");
        if seen.insert(e.client_id.clone()) {
            let (t, c) = truth(tenure[&e.client_id]);
            rows.push((tenure[&e.client_id] >= 60.0, t - c, e.features.iter().map(|v| v.unwrap_or(f32::NAN)).collect::<Vec<f32>>()));
        }
    }
    let mut scratch = Scratch::default();
    let learned: Vec<f64> = rows
        .iter()
        .map(|(_, _, f)| {
            let (t, c) = vitrine_learn::served_uplift(&after, i, f, &mut scratch).unwrap();
            t - c
        })
        .collect();
    let mean_truth = rows.iter().map(|r| r.1).sum::<f64>() / rows.len() as f64;
    let mse = |est: &dyn Fn(usize) -> f64| rows.iter().enumerate().map(|(k, r)| (est(k) - r.1).powi(2)).sum::<f64>() / rows.len() as f64;
    let (ours, best_constant) = (mse(&|k| learned[k]), mse(&|_| mean_truth));
    let mean_of = |persuadable: bool| {
        let v: Vec<f64> = rows.iter().zip(&learned).filter(|(r, _)| r.0 == persuadable).map(|(_, u)| *u).collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    println!("uplift MSE against the truth {ours:.4}, the best constant's {best_constant:.4}; mean learned uplift: persuadables {:.3}, sleeping dogs {:.3}", mean_of(true), mean_of(false));
    assert!(ours < best_constant, "uplift MSE {ours:.4} vs the best constant's {best_constant:.4}\n{stdout}");
    // The truth's gap is 0.80; a linear model of a step in tenure, shrunk by its L2
    // penalty, recovers over half of it (0.46–0.56 in seven runs).
    assert!(mean_of(true) - mean_of(false) > 0.2, "persuadables {:.3}, sleeping dogs {:.3}", mean_of(true), mean_of(false));
}
