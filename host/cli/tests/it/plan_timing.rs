//! Send time from a bundle-declared timing model (`web-demo/models/send_time.onnx`,
//! trained by `web-demo/models/train_send_time.py` on the demo world's synthetic opening
//! hours: youth 21:00, family 19:00, professional 12:00, senior 10:00): planned email
//! sends go at the client's segment hour (the truth), SMS ones never in their quiet hours;
//! a client the engine does not personalise (no profiling consent, the `bau` arm) gets the
//! default hour. A timing section without one output per hour is refused by name when the
//! bundle is built.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::{table, vitrine};
use vitrine_base::keys::{self, Role};

const CLIENTS: usize = 1500;

const PLAN: &str = r#"
start = "2026-11-23"
days = 7
seed = 5
max_contacts = 2
min_gap_days = 2
send_hour = 9

[[channels]]
name = "email"
capacity = 100000
[[channels]]
name = "sms"
capacity = 100000
quiet_hours = [20, 8]
"#;

fn run(args: &[&str]) -> std::process::Output {
    let out = vitrine(args);
    assert!(out.status.success(), "vitrine {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// The demo bundle with the send-time model and a `[timing]` section (`timing` replaces
/// the default one when given).
fn bundle_source(dir: &Path, timing: Option<&str>) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web-demo");
    let dst = dir.join("src");
    for sub in ["models", "keys"] {
        std::fs::create_dir_all(dst.join(sub)).unwrap();
        for e in std::fs::read_dir(root.join("bundle").join(sub)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dst.join(sub).join(e.file_name())).unwrap();
        }
    }
    for f in ["send_time.onnx", "send_time.reference.json"] {
        std::fs::copy(root.join("models").join(f), dst.join("models").join(f)).unwrap();
    }
    let text = std::fs::read_to_string(root.join("bundle/bundle.toml")).unwrap();
    let inputs = text.lines().find(|l| l.starts_with("inputs = [")).unwrap().to_string();
    let outputs: Vec<String> = (0..24).map(|h| format!("\"hour_{h:02}_probabilities\"")).collect();
    let default = format!("[timing]\nkind = \"hour\"\nmodel = \"send_time\"\noutputs = [{}]\n", outputs.join(", "));
    let text =
        format!("{text}\n[[models]]\nname = \"send_time\"\nfile = \"models/send_time.onnx\"\n{inputs}\n\n{}", timing.unwrap_or(&default));
    std::fs::write(dst.join("bundle.toml"), text).unwrap();
    dst
}

#[test]
fn planned_sends_go_at_the_hour_the_timing_model_gives() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let p = |n: &str| dir.join(n).to_string_lossy().into_owned();
    let src = bundle_source(dir, None);
    keys::generate("t", Role::Bundle, &dir.join("keys")).unwrap();
    run(&["bundle", "build", "--key", &p("keys/t.key"), "--out", &p("t.vbnd"), src.to_str().unwrap()]);
    run(&["demo", "seed", "--clients", &CLIENTS.to_string(), "--out", &p("clients.csv")]);
    run(&["features", "import", &p("clients.csv"), "--schema", src.to_str().unwrap(), "--db", &p("features.sqlite")]);
    std::fs::write(dir.join("plan.toml"), PLAN).unwrap();
    let plan = |out: &str, extra: &[&str]| {
        let mut args: Vec<String> =
            ["plan", "--bundle", &p("t.vbnd"), "--bundle-key", &p("keys/t.pub"), "--features", &p("features.sqlite")]
                .iter()
                .map(|s| s.to_string())
                .collect();
        args.extend(["--config".into(), p("plan.toml"), "--out".into(), p(out)]);
        args.extend(extra.iter().map(|s| s.to_string()));
        run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    };
    plan("plan", &[]);

    let clients: BTreeMap<String, BTreeMap<String, String>> =
        table(&dir.join("clients.csv")).into_iter().map(|r| (r["client_id"].clone(), r)).collect();
    let truth = |segment: &str| match segment {
        "youth" => 21,
        "family" => 19,
        "professional" => 12,
        "senior" => 10,
        other => panic!("segment {other}"),
    };
    let arms = vitrine_engine::policy::Arms { salt: "demo-2026".into(), bau: 0.10, no_contact: 0.05, no_contact_services: true };
    let store = vitrine_store::FeatureStore::open_existing(&dir.join("features.sqlite")).unwrap();
    let (mut at_truth, mut with_consent, mut default) = (0, 0, 0);
    for r in table(&dir.join("plan/email.parquet")) {
        let c = &clients[&r["client_id"]];
        let hour: u32 = r["send_hour"].parse().unwrap();
        let personalised = arms.assign(&store.subject(&r["client_id"])) == vitrine_engine::policy::Arm::Personalised;
        if c["consent_profiling"] == "true" && personalised {
            with_consent += 1;
            at_truth += u32::from(hour == truth(&c["segment"]));
        } else {
            assert_eq!(hour, 9, "not personalised: the plan's default hour, not the model's");
            default += 1;
        }
    }
    assert!(with_consent > 200 && default > 0, "{with_consent} with consent, {default} without");
    let share = f64::from(at_truth) / f64::from(with_consent);
    assert!(share >= 0.95, "email sends at the client's true opening hour: {share:.3} of {with_consent}");
    for r in table(&dir.join("plan/sms.parquet")) {
        let hour: u32 = r["send_hour"].parse().unwrap();
        assert!((8..20).contains(&hour), "an SMS at {hour}:00, in its quiet hours");
    }
    // The same plan under Wasmtime: the timing model is read natively either way.
    plan("plan-wasm", &["--wasm", "--engine", crate::common::engine_wasm().to_str().unwrap()]);
    assert!(std::fs::read(dir.join("plan/email.csv")).unwrap() == std::fs::read(dir.join("plan-wasm/email.csv")).unwrap());

    // A timing section that does not give one output per hour is refused by name.
    for (timing, want) in [
        (
            "[timing]\nkind = \"hour\"\nmodel = \"send_time\"\noutputs = [\"hour_00_probabilities\", \"hour_01_probabilities\"]\n",
            "needs 24 outputs",
        ),
        ("[timing]\nkind = \"hour\"\nmodel = \"send_time\"\noutput = \"hour_00_probabilities\"\n", "has 2 columns"),
        ("[timing]\nkind = \"minute\"\nmodel = \"send_time\"\noutput = \"x\"\n", "kind `minute`"),
        ("[timing]\nkind = \"weekday\"\nmodel = \"send_tim\"\noutput = \"x\"\n", "send_time"),
    ] {
        let bad = tempfile::tempdir().unwrap();
        let src = bundle_source(bad.path(), Some(timing));
        let out = vitrine(&["bundle", "build", "--key", &p("keys/t.key"), "--out", &p("bad.vbnd"), src.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("timing") && err.contains(want), "{timing}: {err}");
        assert!(!dir.join("bad.vbnd").exists());
    }
}
