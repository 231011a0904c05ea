//! `vitrine scenario`: the bundle and the bundle with one offer's lever doubled, over the
//! same sample. The test computes the shift independently: each client's email
//! candidates ranked by the engine (every offer asked for), the doubled offer's priority
//! doubled, the new first pick counted; the scenario's reach must move by exactly that.
use std::collections::BTreeMap;
use std::path::Path;

use crate::common::{table, vitrine};
use vitrine_base::keys::{self, Role};
use vitrine_plan::PlanConfig;
use vitrine_store::FeatureStore;

const CLIENTS: usize = 1500;
const DOUBLED: &str = "tv_option";

const PLAN: &str = r#"
start = "2026-11-23"
days = 7
seed = 11
max_contacts = 1
[[channels]]
name = "email"
capacity = 1000000
k = 1
"#;

fn run(args: &[&str]) -> std::process::Output {
    let out = vitrine(args);
    assert!(out.status.success(), "vitrine {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// The demo bundle without exploration and without an email cost, so a doubled lever
/// doubles the offer's priority exactly.
fn bundle_source(dir: &Path) -> std::path::PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web-demo/bundle");
    let dst = dir.join("src");
    std::fs::create_dir_all(dst.join("models")).unwrap();
    for e in std::fs::read_dir(src.join("models")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join("models").join(e.file_name())).unwrap();
    }
    std::fs::create_dir_all(dst.join("keys")).unwrap();
    for e in std::fs::read_dir(src.join("keys")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join("keys").join(e.file_name())).unwrap();
    }
    let text = std::fs::read_to_string(src.join("bundle.toml")).unwrap();
    let text = text
        .replace("exploration = \"epsilon_greedy\"\nepsilon = 0.1", "exploration = \"none\"")
        .replace("channel_costs = { email = 0.05, sms = 0.5, push = 0.02 }", "channel_costs = { sms = 0.5, push = 0.02 }");
    assert!(text.contains("exploration = \"none\"") && !text.contains("email = 0.05"));
    std::fs::write(dst.join("bundle.toml"), text).unwrap();
    dst
}

#[test]
fn a_doubled_lever_shifts_reach_by_what_the_ranking_predicts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let p = |n: &str| dir.join(n).to_string_lossy().into_owned();
    let src = bundle_source(dir);
    keys::generate("s", Role::Bundle, &dir.join("keys")).unwrap();
    run(&["bundle", "build", "--key", &p("keys/s.key"), "--out", &p("s.vbnd"), src.to_str().unwrap()]);
    run(&["demo", "seed", "--clients", &CLIENTS.to_string(), "--out", &p("clients.csv")]);
    run(&["features", "import", &p("clients.csv"), "--schema", src.to_str().unwrap(), "--db", &p("features.sqlite")]);
    std::fs::write(dir.join("plan.toml"), PLAN).unwrap();
    let common = [p("s.vbnd"), p("keys/s.pub"), p("features.sqlite"), p("plan.toml")];
    let scenario = |extra: &[&str]| {
        let mut args = vec!["scenario", "--bundle", &common[0], "--bundle-key", &common[1], "--features", &common[2], "--plan", &common[3]];
        args.extend_from_slice(extra);
        vitrine(&args)
    };
    let ok = |out: std::process::Output| {
        assert!(out.status.success(), "vitrine scenario: {}", String::from_utf8_lossy(&out.stderr));
        out
    };

    let out = ok(scenario(&["--sample", "100000", "--lever", &format!("offer:{DOUBLED}=2"), "--json"]));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["sample"], CLIENTS as u64, "a sample larger than the base is the base");
    let reach = |v: usize| -> u64 {
        report["variants"][v]["reach"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["offer"] == DOUBLED)
            .map(|r| r["contacts"].as_u64().unwrap())
            .sum()
    };
    let (before, after) = (reach(0), reach(1));

    // The prediction, from the engine's own ranking of every email candidate.
    let bundle = std::fs::read(dir.join("s.vbnd")).unwrap();
    let key = keys::load_public(&dir.join("keys/s.pub"), Role::Bundle).unwrap().bytes(&dir.join("keys/s.pub")).unwrap();
    let mut engine = vitrine_engine::Engine::load(&bundle, &key).unwrap();
    let config = PlanConfig::load(&dir.join("plan.toml"), engine.bundle()).unwrap();
    let all = engine.bundle().offers.len().min(vitrine_engine::limits::MAX_K) as u8;
    let store = FeatureStore::open_existing(&dir.join("features.sqlite")).unwrap();
    let (mut top_before, mut top_after) = (0u64, 0u64);
    for r in table(&dir.join("clients.csv")) {
        let id = &r["client_id"];
        let c = store.snapshot_content(id, 0, 0).unwrap();
        let profile = vitrine_engine::snapshot::Profile { subject: c.subject, consent: c.consent, values: c.values };
        let mut req = vitrine_plan::request(&config, id);
        req.slots[0].k = Some(all);
        let resp = engine.decide_profile(&req, &profile).unwrap();
        let ranked: BTreeMap<String, f64> = resp.slots[0].offers.iter().map(|o| (o.offer.clone(), o.priority)).collect();
        let best = |double: bool| {
            ranked
                .iter()
                .map(|(o, &p)| (o, if double && o == DOUBLED { 2.0 * p } else { p }))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(o, _)| o.clone())
        };
        top_before += u64::from(best(false).as_deref() == Some(DOUBLED));
        top_after += u64::from(best(true).as_deref() == Some(DOUBLED));
    }
    assert_eq!(before, top_before, "the base plan sends {DOUBLED} to every client it ranks first");
    assert_eq!(after, top_after, "the doubled lever sends it to every client it would then rank first");
    assert!(after > before + 20, "doubling the lever shifts reach toward {DOUBLED}: {before} → {after}");
    let contacts = |v: usize| report["variants"][v]["contacts"].as_u64().unwrap();
    assert_eq!(contacts(0), contacts(1), "unlimited capacity: the same clients are contacted, with other offers");
    let ev = |v: usize| report["variants"][v]["expected_value"].as_f64().unwrap();
    assert!(ev(1) < ev(0), "a lever that overrides the ranking costs expected value: {} vs {}", ev(1), ev(0));

    // Pricing the levers: the doubled lever at 1 is the base plan again, so its cost is
    // exactly the difference in expected value; the bundle's own `service` lever (1.5) is
    // priced in both variants.
    let out = ok(scenario(&["--sample", "100000", "--lever", &format!("offer:{DOUBLED}=2"), "--price-levers", "--json"]));
    let priced: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let costs = |v: usize| priced["variants"][v]["lever_costs"].as_array().unwrap().clone();
    let doubled = costs(1).into_iter().find(|c| c["lever"]["id"] == DOUBLED).expect("the doubled lever is priced");
    assert!((doubled["expected_value_at_1"].as_f64().unwrap() - ev(0)).abs() < 1e-6, "{doubled}");
    assert!((doubled["change"].as_f64().unwrap() - (ev(1) - ev(0))).abs() < 1e-6, "{doubled}");
    for v in 0..2 {
        assert!(costs(v).iter().any(|c| c["lever"]["scope"] == "category" && c["lever"]["id"] == "service"), "{}", priced["variants"][v]);
    }

    // The readable table names both variants and the offer's shift; bad levers are named.
    let out = ok(scenario(&["--sample", "300", "--lever", &format!("offer:{DOUBLED}=2")]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("sample: 300 of 1500") && text.contains(&format!("{DOUBLED} @ email")), "{text}");
    let bad = scenario(&["--lever", "offer:tv_optoin=2"]);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success() && err.contains("unknown offer `tv_optoin`") && err.contains("tv_option"), "{err}");
}
