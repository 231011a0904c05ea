//! From predictive to incremental, against the hidden truth. On the seeded demo world
//! (10,000 clients the models never saw: they were trained on another seed's history),
//! with the same contact budget for every policy:
//!
//! - `uplift`: the demo bundle, commercial offers ranked by the T-learner's uplift;
//! - `propensity`: the same bundle and model, ranked by P(sale | contacted);
//! - `bau`: the business-as-usual ranking (non-personal eligibility, fixed priorities).
//!
//! True incremental sales come from the truth (Σ of the contacted offers' effects);
//! measured ones from 20 seeded randomised repetitions (a 20% uncontacted control, sales
//! drawn from the truth, the difference of sales per client with its Welch 95% CI), whose
//! CIs must cover the truth in at least 18 of 20. Then the same for `vitrine plan` on the
//! outbound channels. The numbers go to BENCHMARKS.md ("Incremental decisioning").
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use vitrine_base::keys::{self, Role};
use vitrine_demo::{self as demo, world};
use vitrine_engine::bundle::{Bundle, OfferKind, Propensity, Score, Uplift};
use vitrine_engine::decision::{DecideRequest, SlotRequest};
use vitrine_engine::policy::{Exploration, SplitMix64};
use vitrine_engine::snapshot::Profile;
use vitrine_engine::Engine;
use vitrine_feedback::measure::means::{lift, mean};

use crate::common::vitrine;

/// Email contacts every policy may spend (20% of the base).
const BUDGET: usize = 2_000;
const REPETITIONS: u64 = 20;
const CONTROL_SHARE: f64 = 0.2;

struct Setup {
    _tmp: tempfile::TempDir,
    dir: std::path::PathBuf,
    clients: Vec<world::Client>,
    profiles: Vec<Profile>,
    policies: Vec<(&'static str, Bundle)>,
}

fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let src = dir.join("src");
    let demo_src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web-demo/bundle");
    std::fs::create_dir_all(src.join("models")).unwrap();
    for rel in ["bundle.toml", "models/offers.onnx", "models/offers.reference.json"] {
        std::fs::copy(demo_src.join(rel), src.join(rel)).unwrap();
    }
    keys::generate("snap-demo", Role::Snapshot, &src.join("keys")).unwrap();
    let mut uplift = vitrine_compile::load(&src).unwrap();
    uplift.policy.exploration = Exploration::None;
    uplift.policy.arms.bau = 0.0;
    uplift.policy.arms.no_contact = 0.0;
    let mut propensity = uplift.clone();
    for o in &mut propensity.offers {
        if let Score::Uplift(Uplift::TwoModel { treated, .. }) = o.score {
            o.score = Score::Propensity(Propensity::Model { model: treated.model, output: treated.output });
        }
    }
    let mut bau = uplift.clone();
    bau.policy.arms.bau = 1.0;

    let clients = world::clients(demo::CLIENTS, demo::SEED);
    let csv = dir.join("clients.csv");
    std::fs::write(&csv, world::csv(&clients)).unwrap();
    let mut store = vitrine_store::FeatureStore::open(&dir.join("features.sqlite"), &uplift.schema).unwrap();
    store.import_csv(&csv).unwrap();
    let index: HashMap<String, usize> = clients.iter().enumerate().map(|(i, c)| (c.id.clone(), i)).collect();
    let mut profiles = vec![None; clients.len()];
    store
        .for_each(0, 0, |id, c| {
            profiles[index[&id]] = Some(Profile { subject: c.subject, consent: c.consent, values: c.values });
            Ok(())
        })
        .unwrap();
    let profiles = profiles.into_iter().map(Option::unwrap).collect();
    Setup { _tmp: tmp, dir, clients, profiles, policies: vec![("uplift", uplift), ("propensity", propensity), ("bau", bau)] }
}

/// Each client's best proposal for the weekly email: (offer, priority).
fn proposals(bundle: &Bundle, profiles: &[Profile]) -> Vec<Option<(String, f64)>> {
    let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    let bytes = vitrine_engine::bundle::envelope::sign(bundle, "b", &key).unwrap();
    let mut engine = Engine::load(&bytes, &key.verifying_key().to_bytes()).unwrap();
    profiles
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let req = DecideRequest {
                snapshot: None,
                now: 1_800_000_000,
                seed: i as u64,
                context: Default::default(),
                slots: vec![SlotRequest { slot: "email_weekly".into(), k: None }],
                history: vec![],
                explain: false,
            };
            let r = engine.decide_profile(&req, p).unwrap();
            r.slots[0].offers.first().filter(|o| o.kind == OfferKind::Offer).map(|o| (o.offer.clone(), o.priority))
        })
        .collect()
}

/// The policy's own choice of whom to contact: its `budget` best proposals among
/// `eligible` clients (ties, as in the fixed BAU priorities, broken at random).
fn allocate(props: &[Option<(String, f64)>], eligible: &[bool], budget: usize, seed: u64) -> Vec<(usize, String)> {
    let mut rng = SplitMix64::new(seed);
    let mut ranked: Vec<(f64, u64, usize, &str)> = props
        .iter()
        .enumerate()
        .filter(|(i, _)| eligible[*i])
        .filter_map(|(i, p)| p.as_ref().map(|(o, prio)| (*prio, rng.next_u64(), i, o.as_str())))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.into_iter().take(budget).map(|(_, _, i, o)| (i, o.to_string())).collect()
}

fn true_incremental(clients: &[world::Client], contacts: &[(usize, String)]) -> f64 {
    let distinct: BTreeSet<(usize, &str)> = contacts.iter().map(|(i, o)| (*i, o.as_str())).collect();
    distinct.iter().map(|(i, o)| world::truth(&clients[*i], o).uplift()).sum()
}

/// One randomised repetition: (true per 1,000 treated clients, measured, CI low, CI high).
fn repetition(clients: &[world::Client], props: &[Option<(String, f64)>], rep: u64) -> (f64, f64, f64, f64) {
    let mut rng = SplitMix64::new(0xC0FFEE ^ rep);
    let control: Vec<bool> = clients.iter().map(|_| rng.next_f64() < CONTROL_SHARE).collect();
    let treated: Vec<bool> = control.iter().map(|c| !c).collect();
    let budget = (BUDGET as f64 * (1.0 - CONTROL_SHARE)).round() as usize;
    let contacts = allocate(props, &treated, budget, rep);
    measure(clients, &control, &contacts, &mut rng)
}

/// Sales of every client drawn from the truth (contacted offers at P(sale | contacted));
/// the treated − control difference of sales per client with its 95% CI, and the truth,
/// all per 1,000 treated clients.
fn measure(clients: &[world::Client], control: &[bool], contacts: &[(usize, String)], rng: &mut SplitMix64) -> (f64, f64, f64, f64) {
    let n_treated = control.iter().filter(|c| !**c).count();
    let mut contacted: HashMap<usize, BTreeSet<&str>> = HashMap::new();
    for (i, o) in contacts {
        contacted.entry(*i).or_default().insert(o.as_str());
    }
    let (mut t, mut c) = (Vec::new(), Vec::new());
    for (i, client) in clients.iter().enumerate() {
        let mut sales = 0.0;
        for o in world::OFFERS {
            let truth = world::truth(client, o);
            let p = if contacted.get(&i).is_some_and(|set| set.contains(o)) { truth.treated } else { truth.organic };
            sales += f64::from(u8::from(rng.next_f64() < p));
        }
        if control[i] {
            c.push(sales)
        } else {
            t.push(sales)
        }
    }
    let l = lift(&mean(t), &mean(c)).unwrap();
    let truth = 1000.0 * true_incremental(clients, contacts) / n_treated as f64;
    (truth, 1000.0 * l.absolute, 1000.0 * l.absolute_ci95.low, 1000.0 * l.absolute_ci95.high)
}

#[test]
fn uplift_beats_propensity_and_bau_on_true_incremental_sales_and_measurement_is_calibrated() {
    let s = setup();
    let n = s.clients.len() as f64;
    let everyone = vec![true; s.clients.len()];
    let mut truth = BTreeMap::new();
    println!("policy | contacts | true incremental sales per 1,000 clients | measured per 1,000 treated clients (rep 0) [95% CI] | CI covers truth");
    for (name, bundle) in &s.policies {
        let props = proposals(bundle, &s.profiles);
        let contacts = allocate(&props, &everyone, BUDGET, 7);
        assert_eq!(contacts.len(), BUDGET, "{name} has {BUDGET} clients to contact");
        let per_1000 = 1000.0 * true_incremental(&s.clients, &contacts) / n;
        truth.insert(*name, per_1000);
        let reps: Vec<_> = (0..REPETITIONS).map(|r| repetition(&s.clients, &props, r)).collect();
        let covered = reps.iter().filter(|(t, _, lo, hi)| lo <= t && t <= hi).count();
        let (t0, m0, lo0, hi0) = reps[0];
        println!("{name} | {BUDGET} | {per_1000:.1} | {m0:.1} [{lo0:.1}, {hi0:.1}] (truth {t0:.1}) | {covered}/{REPETITIONS}");
        assert!(covered >= 18, "{name}: the measured CI covers the truth in {covered} of {REPETITIONS} repetitions: {reps:?}");
    }
    let (u, p, b) = (truth["uplift"], truth["propensity"], truth["bau"]);
    assert!(u > 1.3 * p && u - p > 5.0, "uplift {u:.1} vs propensity {p:.1} true incremental sales per 1,000 clients");
    assert!(u > 1.3 * b && u - b > 5.0, "uplift {u:.1} vs bau {b:.1} true incremental sales per 1,000 clients");

    // The same comparison for `vitrine plan` on the outbound channels (same capacities).
    let key = s.dir.join("keys");
    keys::generate("plan-bundle", Role::Bundle, &key).unwrap();
    let secret = keys::load_secret(&key.join("plan-bundle.key"), Role::Bundle).unwrap();
    std::fs::write(s.dir.join("plan.toml"), PLAN).unwrap();
    let mut planned = BTreeMap::new();
    for (name, bundle) in &s.policies {
        let file = s.dir.join(format!("{name}.vbnd"));
        std::fs::write(&file, vitrine_engine::bundle::envelope::sign(bundle, &secret.kid, &secret.key).unwrap()).unwrap();
        let out_dir = s.dir.join(format!("plan-{name}"));
        let p = |x: &Path| x.to_string_lossy().into_owned();
        let args = [
            "plan".to_string(),
            "--bundle".into(),
            p(&file),
            "--bundle-key".into(),
            p(&key.join("plan-bundle.pub")),
            "--features".into(),
            p(&s.dir.join("features.sqlite")),
            "--config".into(),
            p(&s.dir.join("plan.toml")),
            "--out".into(),
            p(&out_dir),
        ];
        let out = vitrine(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let index: HashMap<&str, usize> = s.clients.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
        let mut contacts = Vec::new();
        for channel in ["email", "sms", "push"] {
            let text = std::fs::read_to_string(out_dir.join(format!("{channel}.csv"))).unwrap();
            for line in text.lines().skip(1) {
                let f: Vec<&str> = line.split(',').collect();
                contacts.push((index[f[0]], f[1].to_string()));
            }
        }
        let commercial: Vec<_> = contacts
            .iter()
            .filter(|(_, o)| !["femtocell", "support_callback", "paperless_billing"].contains(&o.as_str()))
            .cloned()
            .collect();
        let per_1000 = 1000.0 * true_incremental(&s.clients, &commercial) / n;
        // Measured: 20 repetitions, each holding a random 20% of the base back from the
        // plan (its contacts not sent), sales drawn from the truth for everyone.
        let reps: Vec<_> = (0..REPETITIONS)
            .map(|r| {
                let mut rng = SplitMix64::new(0x9_1A4 ^ r);
                let control: Vec<bool> = s.clients.iter().map(|_| rng.next_f64() < CONTROL_SHARE).collect();
                let sent: Vec<(usize, String)> = commercial.iter().filter(|(i, _)| !control[*i]).cloned().collect();
                measure(&s.clients, &control, &sent, &mut rng)
            })
            .collect();
        let covered = reps.iter().filter(|(t, _, lo, hi)| lo <= t && t <= hi).count();
        let (t0, m0, lo0, hi0) = reps[0];
        println!(
            "plan {name} | {} contacts ({} commercial) | {per_1000:.1} | {m0:.1} [{lo0:.1}, {hi0:.1}] (truth {t0:.1}) | {covered}/{REPETITIONS}",
            contacts.len(),
            commercial.len()
        );
        assert!(covered >= 18, "plan {name}: the measured CI covers the truth in {covered} of {REPETITIONS}: {reps:?}");
        planned.insert(*name, per_1000);
    }
    let (u, p, b) = (planned["uplift"], planned["propensity"], planned["bau"]);
    assert!(u > p && u > b, "plan: uplift {u:.1} vs propensity {p:.1} vs bau {b:.1} true incremental sales per 1,000 clients");
}

const PLAN: &str = r#"
start = "2026-11-23"
days = 7
seed = 2026
max_contacts = 2
min_gap_days = 2

[[channels]]
name = "email"
capacity = 2000
[[channels]]
name = "push"
capacity = 600
[[channels]]
name = "sms"
capacity = 250
"#;
