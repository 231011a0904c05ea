//! `vitrine plan` on the seeded demo world: every cap holds, `no_contact` clients get no
//! commercial offer,
//! Parquet and CSV agree, the store and its export give the same plan, the plan under
//! Wasmtime equals the native one, a sample replayed through `engine-abi.wasm` gives
//! the same offers; bad input fails with a clear error and leaves nothing behind.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common::{engine_wasm, table, vitrine};
use vitrine_base::keys::{self, Role};
use vitrine_plan::{plan_json, Client, PlanConfig};
use vitrine_store::FeatureStore;

const CLIENTS: usize = 3000;

const CONFIG: &str = r#"
start = "2026-11-23"
days = 7
seed = 2026
max_contacts = 2
min_gap_days = 2
quiet_days = ["sunday", "2026-11-25"]

[[channels]]
name = "email"
capacity = 1500
[[channels]]
name = "push"
capacity = 600
[[channels]]
name = "sms"
capacity = 250
"#;

struct World {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl World {
    fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web-demo/bundle");
        keys::generate("plan-bundle", Role::Bundle, &dir.join("keys")).unwrap();
        let s = |p: PathBuf| p.to_string_lossy().into_owned();
        run(&["bundle", "build", "--key", &s(dir.join("keys/plan-bundle.key")), "--out", &s(dir.join("demo.vbnd")), &s(demo.clone())]);
        run(&["demo", "seed", "--clients", &CLIENTS.to_string(), "--out", &s(dir.join("clients.csv"))]);
        run(&["features", "import", &s(dir.join("clients.csv")), "--schema", &s(demo), "--db", &s(dir.join("features.sqlite"))]);
        run(&["features", "export", "--db", &s(dir.join("features.sqlite")), "--out", &s(dir.join("clients.parquet"))]);
        run(&["features", "export", "--db", &s(dir.join("features.sqlite")), "--out", &s(dir.join("clients.csv.export.csv"))]);
        std::fs::write(dir.join("plan.toml"), CONFIG).unwrap();
        World { _tmp: tmp, dir }
    }

    fn p(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    fn plan(&self, features: &str, config: &str, out: &str, extra: &[&str]) -> std::process::Output {
        let mut args =
            vec!["plan", "--bundle", self.dir.join("demo.vbnd").to_str().unwrap()].into_iter().map(String::from).collect::<Vec<_>>();
        args.extend([
            "--bundle-key".into(),
            self.p("keys/plan-bundle.pub"),
            "--features".into(),
            self.p(features),
            "--config".into(),
            self.p(config),
            "--out".into(),
            self.p(out),
        ]);
        args.extend(extra.iter().map(|s| s.to_string()));
        vitrine(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }
}

fn run(args: &[&str]) {
    let out = vitrine(args);
    assert!(out.status.success(), "vitrine {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[derive(serde::Deserialize)]
struct Guest {
    decision_id: String,
    slots: Vec<GuestSlot>,
}

#[derive(serde::Deserialize)]
struct GuestSlot {
    channel: String,
    offers: Vec<GuestOffer>,
}

#[derive(serde::Deserialize)]
struct GuestOffer {
    offer: String,
    treatment: String,
    priority: Box<serde_json::value::RawValue>,
}

fn day(date: &str) -> i64 {
    let p: Vec<i64> = date.split('-').map(|x| x.parse().unwrap()).collect();
    vitrine_store::table::days_from_civil(p[0], p[1] as u32, p[2] as u32).unwrap()
}

#[test]
fn a_plan_respects_every_cap_and_is_the_edge_s_decision() {
    let w = World::new();
    let out = w.plan("features.sqlite", "plan.toml", "plan", &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let plan = w.dir.join("plan");
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(plan.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["clients"], CLIENTS as u64);

    let consent: BTreeMap<String, BTreeMap<String, String>> =
        table(&w.dir.join("clients.parquet")).into_iter().map(|r| (r["client_id"].clone(), r)).collect();
    let (start, quiet) = (day("2026-11-23"), [day("2026-11-29"), day("2026-11-25")]);
    let mut per_client: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut per_client_offers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut contacts = Vec::new();
    let mut full = 0;
    for (channel, capacity) in [("email", 1500), ("push", 600), ("sms", 250)] {
        let rows = table(&plan.join(format!("{channel}.parquet")));
        assert_eq!(rows, table(&plan.join(format!("{channel}.csv"))), "{channel}: Parquet and CSV hold the same rows");
        assert!(rows.len() <= capacity, "{channel}: {} contacts over a capacity of {capacity}", rows.len());
        full += usize::from(rows.len() == capacity);
        for r in &rows {
            assert_eq!(r["channel"], channel);
            assert_eq!(
                consent[&r["client_id"]][&format!("consent_{channel}")],
                "true",
                "{} has not consented to {channel}",
                r["client_id"]
            );
            let d = day(&r["send_date"]);
            assert!((start..start + 7).contains(&d) && !quiet.contains(&d), "send date {} outside the window or quiet", r["send_date"]);
            let hour: u32 = r["send_hour"].parse().unwrap();
            assert!(hour < 24);
            assert_eq!(r["send_at"], format!("{}T{hour:02}:00:00Z", r["send_date"]));
            per_client.entry(r["client_id"].clone()).or_default().push(d);
            assert!(
                per_client_offers.entry(r["client_id"].clone()).or_default().insert(r["offer"].clone()),
                "{} gets {} twice",
                r["client_id"],
                r["offer"]
            );
            contacts.push(r.clone());
        }
        assert_eq!(
            summary["channels"].as_array().unwrap().iter().find(|c| c["channel"] == channel).unwrap()["contacts"],
            rows.len() as u64
        );
    }
    assert!(full >= 1, "the test capacities bind on at least one channel");
    for (client, days) in &per_client {
        assert!(days.len() <= 2, "{client}: {} contacts over max_contacts 2", days.len());
        if let [a, b] = days[..] {
            assert!((a - b).abs() >= 2, "{client}: contacts {a} and {b} less than 2 days apart");
        }
    }

    // Everyone is either contacted or listed with a reason; `no_contact` clients get no
    // commercial offer (a service action may still reach them).
    let uncontacted = table(&plan.join("uncontacted.parquet"));
    assert_eq!(uncontacted, table(&plan.join("uncontacted.csv")));
    assert_eq!(uncontacted.len() + per_client.len(), CLIENTS);
    let reasons: BTreeMap<String, usize> = uncontacted.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r["reason"].clone()).or_default() += 1;
        m
    });
    for (reason, n) in &reasons {
        assert_eq!(summary["uncontacted"][reason], *n as u64, "{reason}");
    }
    let no_contact: BTreeSet<&str> = uncontacted.iter().filter(|r| r["no_contact"] == "true").map(|r| r["client_id"].as_str()).collect();
    assert_eq!(no_contact.len(), reasons["no_contact"]);
    assert!(!no_contact.is_empty() && no_contact.len() < 250, "no_contact clients without a service action: {}", no_contact.len());
    assert!(reasons.get("channel_capacity").copied().unwrap_or(0) > 0, "capacity left some clients out: {reasons:?}");
    assert!(no_contact.iter().all(|h| !per_client.contains_key(*h)));
    let arms = vitrine_engine::policy::Arms { salt: "demo-2026".into(), bau: 0.10, no_contact: 0.05, no_contact_services: true };
    let services = ["femtocell", "support_callback", "paperless_billing"];
    let store = FeatureStore::open_existing(&w.dir.join("features.sqlite")).unwrap();
    for r in &contacts {
        if arms.assign(&store.subject(&r["client_id"])) == vitrine_engine::policy::Arm::NoContact {
            assert!(services.contains(&r["offer"].as_str()), "a no_contact client got {}", r["offer"]);
        }
    }
    drop(store);

    // Same semantics as the edge: replay a sample through engine-abi.wasm under Wasmtime.
    let bundle = std::fs::read(w.dir.join("demo.vbnd")).unwrap();
    let key =
        keys::load_public(&w.dir.join("keys/plan-bundle.pub"), Role::Bundle).unwrap().bytes(&w.dir.join("keys/plan-bundle.pub")).unwrap();
    let engine = vitrine_engine::Engine::load(&bundle, &key).unwrap();
    let config = PlanConfig::load(&w.dir.join("plan.toml"), engine.bundle()).unwrap();
    let schema = engine.bundle().schema.clone();
    let runtime = vitrine_runtime::Runtime::new(&std::fs::read(engine_wasm()).unwrap(), bundle, key, Default::default()).unwrap();
    let store = FeatureStore::open_existing(&w.dir.join("features.sqlite")).unwrap();
    for r in contacts.iter().step_by(contacts.len() / 40 + 1) {
        let c = store.snapshot_content(&r["client_id"], 0, 0).unwrap();
        let client = Client {
            id: r["client_id"].clone(),
            profile: vitrine_engine::snapshot::Profile { subject: c.subject, consent: c.consent, values: c.values },
        };
        let resp: Guest = serde_json::from_slice(&runtime.plan(&plan_json(&config, &schema, &client, &[])).unwrap()).unwrap();
        assert_eq!(resp.decision_id, r["decision_id"]);
        let slot = resp.slots.iter().find(|s| s.channel == r["channel"]).unwrap();
        let chosen =
            slot.offers.iter().find(|o| o.offer == r["offer"]).unwrap_or_else(|| panic!("{} not proposed on {}", r["offer"], r["channel"]));
        assert_eq!(chosen.treatment, r["treatment"]);
        // The guest's number as printed, parsed exactly (serde_json's own parser can be an ulp off).
        assert_eq!(chosen.priority.get().parse::<f64>().unwrap(), r["priority"].parse::<f64>().unwrap());
    }

    // The export gives the same plan as the store, and Wasmtime the same as native.
    assert!(w.plan("clients.parquet", "plan.toml", "plan-export", &[]).status.success());
    let out = w.plan("clients.csv.export.csv", "plan.toml", "plan-wasm", &["--wasm", "--engine", engine_wasm().to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for other in ["plan-export", "plan-wasm"] {
        for f in
            ["email.parquet", "push.parquet", "sms.parquet", "email.csv", "sms.csv", "push.csv", "uncontacted.csv", "uncontacted.parquet"]
        {
            assert!(std::fs::read(plan.join(f)).unwrap() == std::fs::read(w.dir.join(other).join(f)).unwrap(), "{other}/{f} differs");
        }
    }

    // Logged to a feedback store, the plan's decisions let the host's report measure the
    // campaign: every arm, each decision once even after a rerun.
    // Their profiles go to the feature store's snapshot ledger, once.
    let fb = w.dir.join("feedback.sqlite");
    for run in 0..2 {
        let out = w.plan("features.sqlite", "plan.toml", "plan-logged", &["--feedback", fb.to_str().unwrap(), "--force"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let s: serde_json::Value = serde_json::from_slice(&std::fs::read(w.dir.join("plan-logged/summary.json")).unwrap()).unwrap();
        assert_eq!(s["logged_decisions"], CLIENTS as u64);
        assert_eq!(s["ledger_entries"], if run == 0 { CLIENTS as u64 } else { 0 }, "{s}");
        assert!(std::fs::read(plan.join("email.csv")).unwrap() == std::fs::read(w.dir.join("plan-logged/email.csv")).unwrap());
    }
    let conn = vitrine_feedback::SqliteStore::open_reader(&fb).unwrap();
    let logged: i64 = rusqlite::Connection::open(&fb)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM decisions WHERE source = 'plan'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(logged, CLIENTS as i64, "each decision logged once");
    // Every planned decision joins to the profile it was decided on: same client, same
    // subject, the bundle's schema, the values the engine read.
    let ledger = vitrine_store::FeatureStore::open_existing(&w.dir.join("features.sqlite")).unwrap();
    let schema_hash = vitrine_base::hex::encode(&ledger.schema().hash());
    let records: Vec<String> = rusqlite::Connection::open(&fb)
        .unwrap()
        .prepare("SELECT record FROM decisions WHERE source = 'plan'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for r in &records {
        let r: serde_json::Value = serde_json::from_str(r).unwrap();
        let e = ledger.ledger_entry(r["snapshot_hash"].as_str().unwrap()).unwrap().unwrap_or_else(|| panic!("no ledger entry for {r}"));
        assert_eq!(Some(e.subject.as_str()), r["subject"].as_str());
        assert_eq!(e.schema_hash, schema_hash);
        let c = ledger.snapshot_content(&e.client_id, 0, 1).unwrap();
        let profile = vitrine_engine::snapshot::Profile { subject: c.subject, consent: c.consent, values: c.values };
        assert_eq!(e.features, profile.carried(ledger.schema()).unwrap().1, "{}", e.client_id);
    }
    let setup = vitrine_feedback::report::Setup { arms: arms.clone(), windows: Default::default(), maturity: vec![] };
    let report = vitrine_feedback::report::report(&conn, vitrine_feedback::report::Range { from: 0, to: u64::MAX >> 1 }, &setup).unwrap();
    let clients: u64 = report.arms.arms.iter().map(|a| a.clients).sum();
    assert_eq!(clients, CLIENTS as u64, "every client in its arm");
    assert!(!report.arms.sample_ratio_mismatch, "{:?}", report.arms);
    let nc = report.arms.arms.iter().find(|a| a.arm == vitrine_engine::policy::Arm::NoContact).unwrap();
    assert!(nc.clients >= no_contact.len() as u64);
    assert!((90..=220).contains(&nc.clients), "about 5% of {CLIENTS} in no_contact: {}", nc.clients);

    // Without --force an existing plan is kept.
    let again = w.plan("features.sqlite", "plan.toml", "plan", &[]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
}

#[test]
fn bad_input_is_named_and_leaves_no_output() {
    let w = World::new();
    let bad = |config: &str, features: &str, want: &[&str]| {
        std::fs::write(w.dir.join("bad.toml"), config).unwrap();
        let out = w.plan(features, "bad.toml", "bad-plan", &[]);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{want:?} should fail");
        for s in want {
            assert!(err.contains(s), "error `{err}` does not name `{s}`");
        }
        let left: Vec<String> = std::fs::read_dir(&w.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("bad-plan"))
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    };
    bad(&CONFIG.replace("name = \"sms\"", "name = \"fax\""), "features.sqlite", &["fax", "not a channel", "email, sms"]);
    bad(&CONFIG.replace("capacity = 600", "capacity = -600"), "features.sqlite", &["push", "-600", "negative"]);
    bad(&CONFIG.replace("days = 7", "days = 90"), "features.sqlite", &["days = 90"]);
    bad(&CONFIG.replace("quiet_days = [\"sunday\", \"2026-11-25\"]", "quiet_days = [\"someday\"]"), "features.sqlite", &["someday"]);
    // Infeasible limits are refused before any decision, naming the constraint.
    let limit = |extra: &str| format!("{CONFIG}\n{extra}\n");
    bad(&limit("[[offers]]\nid = \"fibre_upgrade\"\nmin = 5000"), "features.sqlite", &["infeasible", "offers.fibre_upgrade", "min = 5000"]);
    bad(&limit("[[offers]]\nid = \"fibre_upgrade\"\nmin = 20\nmax = 10"), "features.sqlite", &["offers.fibre_upgrade", "above max"]);
    bad(&limit("[[offers]]\nid = \"fibre_upgrad\"\nmax = 10"), "features.sqlite", &["unknown offer `fibre_upgrad`", "fibre_upgrade"]);
    bad(&limit("[[categories]]\nid = \"mobile\"\nmax_share = 1.5"), "features.sqlite", &["mobile", "max_share = 1.5"]);
    bad(
        &limit("[[offers]]\nid = \"device_renewal\"\nmin = 1400\n[[offers]]\nid = \"new_line\"\nmin = 1400"),
        "features.sqlite",
        &["infeasible", "minimum volumes add up to 2800"],
    );
    let no_costs = CONFIG
        .replace("capacity = 1500", "capacity = 1500\ncost = 0.0")
        .replace("capacity = 600", "capacity = 600\ncost = 0.0")
        .replace("capacity = 250", "capacity = 250\ncost = 0.0");
    bad(&format!("budget = 10.0\n{no_costs}"), "features.sqlite", &["infeasible", "`budget`", "no planned channel has a cost"]);
    bad(&CONFIG.replace("capacity = 250", "capacity = 250\nquiet_hours = [21, 21]"), "features.sqlite", &["sms", "quiet_hours"]);
    // Proposals decided elsewhere (`--proposals`, the Spark driver's): a bad row is named
    // by line, and decisions cannot be logged from them.
    std::fs::write(w.dir.join("bad.toml"), CONFIG).unwrap();
    let header = "client_id,decision_id,status,pref,rank,offer,treatment,priority,selection_probability,uplift\n";
    let id = "0123456789abcdef0123456789abcdef";
    for (row, want) in [
        (format!("c-0001,{id},candidates,0,1,fibre_upgrad,default,1.5,1.0,\n"), "line 2: offer `fibre_upgrad` is not in the bundle"),
        (format!("c-0001,{id},maybe,0,1,,,,,\n"), "status `maybe`"),
        (format!("c-0001,{id},candidates,7,1,new_line,default,1.5,1.0,\n"), "pref `7`"),
        (format!("c-0001,{id},candidates,0,1,new_line,default,NaN,1.0,\n"), "priority `NaN`"),
        ("c-0001,nothex,candidates,0,1,new_line,default,1.5,1.0,\n".to_string(), "decision_id `nothex`"),
    ] {
        std::fs::write(w.dir.join("proposals.csv"), format!("{header}{row}")).unwrap();
        let out = w.plan("features.sqlite", "bad.toml", "bad-plan", &["--proposals", &w.p("proposals.csv")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(want), "{want}: {err}");
        assert!(!w.dir.join("bad-plan").exists());
    }
    std::fs::write(w.dir.join("proposals.csv"), format!("{header}c-0001,{id},no_eligible_offer,0,0,,,,,\n")).unwrap();
    let out = w.plan("features.sqlite", "bad.toml", "bad-plan", &["--proposals", &w.p("proposals.csv"), "--feedback", &w.p("fb.sqlite")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--feedback and --history need the decisions"), "{err}");
    // A history store of another bundle's clients.
    let other_fb = w.dir.join("other-feedback.sqlite");
    {
        use vitrine_feedback::FeedbackStore;
        let mut store = vitrine_feedback::SqliteStore::open(&other_fb).unwrap();
        let f = vitrine_engine::testkit::Fixture::telco();
        let mut engine = vitrine_engine::Engine::load(&f.bundle_bytes, &f.bundle_public_key).unwrap();
        let record = engine.decide(&f.request(0, vitrine_engine::testkit::NOW, 1)).unwrap().record;
        store.write(&[], &[], &[vitrine_feedback::LoggedDecision::from_edge(record)]).unwrap();
    }
    std::fs::write(w.dir.join("bad.toml"), CONFIG).unwrap();
    let out = w.plan("features.sqlite", "bad.toml", "bad-plan", &["--history", other_fb.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("history store") && err.contains("another bundle"), "{err}");
    assert!(!w.dir.join("bad-plan").exists());

    // A feature store made for another schema.
    let example = crate::common::example_copy(&w.dir.join("other"));
    let csv = w.dir.join("other.csv");
    std::fs::write(&csv, "client_id\nx-1\n").unwrap();
    run(&["features", "import", csv.to_str().unwrap(), "--schema", example.to_str().unwrap(), "--db", &w.p("other.sqlite")]);
    bad(CONFIG, "other.sqlite", &["schema"]);
    // A ledger of another schema: refused before any decision is logged.
    let fb = w.dir.join("bad-feedback.sqlite");
    let out = w.plan("features.sqlite", "plan.toml", "bad-plan", &["--feedback", fb.to_str().unwrap(), "--ledger", &w.p("other.sqlite")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("snapshot ledger") && err.contains("another schema"), "{err}");
    assert!(!w.dir.join("bad-plan").exists());
    let logged: i64 = match fb.exists() {
        true => rusqlite::Connection::open(&fb).unwrap().query_row("SELECT COUNT(*) FROM decisions", [], |r| r.get(0)).unwrap_or(0),
        false => 0,
    };
    assert_eq!(logged, 0, "no decision logged without its profile");

    // An export that lacks a feature of the bundle's schema.
    let text = std::fs::read_to_string(w.dir.join("clients.csv.export.csv")).unwrap();
    let mut lines: Vec<Vec<String>> = text.lines().map(|l| l.split(',').map(String::from).collect()).collect();
    let col = lines[0].iter().position(|h| h == "tenure_months").unwrap();
    let dropped: Vec<String> = lines
        .iter()
        .map(|l| l.iter().enumerate().filter(|(i, _)| *i != col).map(|(_, c)| c.clone()).collect::<Vec<_>>().join(","))
        .collect();
    std::fs::write(w.dir.join("dropped.csv"), dropped.join("\n")).unwrap();
    bad(CONFIG, "dropped.csv", &["tenure_months", "lacks"]);

    // A client twice (an export with a row repeated).
    let mut twice = lines.clone();
    twice.push(lines[1200].clone());
    std::fs::write(w.dir.join("twice.csv"), twice.iter().map(|l| l.join(",")).collect::<Vec<_>>().join("\n")).unwrap();
    bad(CONFIG, "twice.csv", &[&lines[1200][0], "more than once"]);

    // A row that fails the schema, deep in the file: row and column named, no output.
    lines[2500][col] = "eleven".into();
    std::fs::write(w.dir.join("badrow.csv"), lines.iter().map(|l| l.join(",")).collect::<Vec<_>>().join("\n")).unwrap();
    bad(CONFIG, "badrow.csv", &["row 2501", "tenure_months", "eleven"]);
}
