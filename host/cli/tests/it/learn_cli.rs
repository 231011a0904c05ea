//! `vitrine learn` end to end on the example world: every decision of the round printed
//! and logged; ledger misses and snapshots of another schema counted, never used; a fit
//! that does not converge keeps the current score; an empty range writes nothing.
use serde_json::{json, Value};

use crate::common::{http, vitrine, Served};

fn now() -> u64 {
    vitrine_base::clock::now()
}

#[test]
fn learn_reports_every_decision_and_refuses_what_it_cannot_use() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Served::start(tmp.path(), &[]);
    let agent = http();
    let mut events = Vec::new();
    let mut record = None;
    for i in 0..400u32 {
        let client = format!("c-{:04}", 1 + i % 300);
        let snap = s.snapshot(&agent, &client);
        let d: Value = agent
            .post(&s.url("/v1/decide"))
            .send_json(json!({ "snapshot": snap["snapshot"], "slots": [{ "slot": "offer_cards" }] }))
            .unwrap()
            .into_body()
            .read_json()
            .unwrap();
        for o in d["slots"][0]["offers"].as_array().unwrap() {
            let e = |kind: &str, n: u32| json!({ "event_id": format!("{kind}-{i}-{}-{n}", o["offer"].as_str().unwrap()), "decision_id": d["decision_id"], "type": kind, "offer": o["offer"], "treatment": o["treatment"], "slot": "offer_cards", "channel": "web", "at": now(), "value": 10.0 });
            events.push(e("impression", 0));
            if i % 4 == 0 {
                events.push(e("click", 0));
                events.push(e("conversion", 0));
            }
        }
        record = Some(d["record"].clone());
    }
    // An edge decision whose snapshot this host never signed: a ledger miss.
    let mut edge = record.unwrap();
    edge["decision_id"] = json!("e".repeat(32));
    edge["snapshot_hash"] = json!("f".repeat(32));
    events.push(json!({ "event_id": "imp-edge", "decision_id": edge["decision_id"], "type": "impression", "offer": "data_20gb", "treatment": "default", "slot": "offer_cards", "channel": "web", "at": now(), "selection_probability": 0.5, "rank": 1, "record": edge }));
    for chunk in events.chunks(2000) {
        let r: Value = agent.post(&s.url("/v1/events")).send_json(json!({ "events": chunk })).unwrap().into_body().read_json().unwrap();
        assert_eq!(r["stored"].as_u64(), Some(chunk.len() as u64), "{r}");
    }
    drop(s);

    let st = |p: &str| tmp.path().join(p).to_string_lossy().into_owned();
    let as_of = (now() + 2 * 86_400).to_string();
    let learn = |bundle: &str, out: &str, extra: &[&str]| {
        let mut args = vec![
            "learn".to_string(),
            "--bundle".into(),
            bundle.into(),
            "--bundle-key".into(),
            st("keys/bundle-dev.pub"),
            "--key".into(),
            st("keys/bundle-dev.key"),
            "--feedback".into(),
            st("feedback.sqlite"),
            "--features".into(),
            st("features.sqlite"),
            "--as-of".into(),
            as_of.clone(),
            "--maturity".into(),
            "5".into(),
            "--out".into(),
            out.into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        vitrine(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };

    let out = st("v2.vbundle");
    let run = learn(&st("bundle.vbundle"), &out, &[]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    assert!(stdout.contains("1 miss") && stdout.contains("ledger misses"), "{stdout}");
    assert!(stdout.contains("held-out DR") || stdout.contains("no offer promoted"), "{stdout}");
    let log: Value = serde_json::from_slice(&std::fs::read(format!("{out}.learn.json")).unwrap()).unwrap();
    let offers = log["offers"].as_array().unwrap();
    assert!(!offers.is_empty());
    for o in offers {
        assert!(!o["reason"].as_str().unwrap().is_empty(), "every offer's decision says why: {o}");
        assert!(o["maturity"] == "mature" || o["maturity"] == "learning", "{o}");
    }
    assert!(offers.iter().any(|o| o["auc_after"].is_number()), "some offer was fitted and scored on held-out rows: {log}");
    assert_eq!(log["ledger"]["miss"], 1, "{log}");
    assert!(std::path::Path::new(&out).exists());
    // The report shows each offer's maturity in the learned bundle.
    let report = vitrine(&[
        "report",
        "--bundle",
        &out,
        "--bundle-key",
        &st("keys/bundle-dev.pub"),
        "--feedback",
        &st("feedback.sqlite"),
        "--format",
        "json",
    ]);
    assert!(report.status.success(), "{}", String::from_utf8_lossy(&report.stderr));
    let report: Value = serde_json::from_slice(&report.stdout).unwrap();
    let maturity = report["maturity"].as_array().unwrap();
    assert_eq!(maturity.len(), offers.len());
    for m in maturity {
        let logged = offers.iter().find(|o| o["offer"] == m["offer"]).unwrap();
        let promoted = logged["promoted"] == true;
        assert_eq!(m["stage"] == "learning", logged["maturity"] == "learning", "{m} vs {logged}");
        assert_eq!(m["scored_by"] == "learned_model", promoted, "{m} vs {logged}");
    }

    // A fit that cannot converge in one iteration: the offer keeps its score, the round still lands.
    let out1 = st("v2-one-iteration.vbundle");
    let run = learn(&st("bundle.vbundle"), &out1, &["--max-iterations", "1"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let log: Value = serde_json::from_slice(&std::fs::read(format!("{out1}.learn.json")).unwrap()).unwrap();
    let failed: Vec<&Value> =
        log["offers"].as_array().unwrap().iter().filter(|o| o["reason"].as_str().unwrap().contains("fit_not_converged")).collect();
    assert!(!failed.is_empty(), "{log}");
    assert!(failed.iter().all(|o| o["promoted"] == false));

    // Features added between bundle versions: the ledger's snapshots have the old schema.
    let src = tmp.path().join("src");
    let toml = std::fs::read_to_string(src.join("bundle.toml")).unwrap();
    let changed =
        toml.replacen("[[schema.features]]", "[[schema.features]]\nname = \"added_later\"\ntype = \"boolean\"\n\n[[schema.features]]", 1);
    std::fs::write(src.join("bundle.toml"), changed).unwrap();
    let v2src = st("schema-v2.vbundle");
    let build = vitrine(&["bundle", "build", &st("src"), "--key", &st("keys/bundle-dev.key"), "--out", &v2src]);
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
    let out2 = st("v3.vbundle");
    let run = learn(&v2src, &out2, &[]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    assert!(stdout.contains("schema_changed") && !stdout.contains(" found"), "no row of the old schema is used: {stdout}");

    // Nothing to learn from: a clear error, nothing written.
    let empty = st("empty.vbundle");
    let future = (now() + 86_400).to_string();
    let run = learn(&st("bundle.vbundle"), &empty, &["--since", &future]);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("nothing to learn from"), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(!std::path::Path::new(&empty).exists());

    // A gate setting that cannot work is refused, never clamped; nothing written.
    for arg in ["--max-weight=0.5", "--max-weight=NaN", "--min-effective-rows=-1"] {
        let bad = st("bad.vbundle");
        let run = learn(&st("bundle.vbundle"), &bad, &[arg]);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success(), "{arg}");
        assert!(stderr.contains("must be a finite number"), "{arg}: {stderr}");
        assert!(!std::path::Path::new(&bad).exists());
    }
}
