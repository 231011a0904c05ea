//! `vitrine features import` and `vitrine snapshot sign / sign-all`: typed imports that
//! write nothing on a bad row, and snapshots the engine accepts.
use std::path::Path;

use vitrine_base::keys::{self, Role};
use vitrine_engine::decision::{DecideRequest, Mode, SlotRequest};
use vitrine_engine::snapshot::{decode_text, UnverifiedSnapshot};

use vitrine_store::FeatureStore;

use crate::common::{example_copy, vitrine};

const NOW: u64 = 1_800_000_000;

const GOOD: &str = "client_id,tenure_months,monthly_spend,data_usage_gb,fiber_eligible,fiber_owned,indoor_coverage,plan,open_complaint,consent_profiling,consent_web,consent_email\n\
c-001,24,55.5,20,true,false,poor,basic,false,true,true,true\n\
c-002,3,19.99,,no,no,good,premium,yes,false,true,false\n";

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn import_then_sign_then_decide() {
    let tmp = tempfile::tempdir().unwrap();
    let src = example_copy(tmp.path());
    // Subjects are salted with a random per-store salt: turn the arms off so the client's
    // mode does not depend on that draw.
    let arms = "arms = { salt = \"example-2026\", bau = 0.10, no_contact = 0.05 }";
    let toml = std::fs::read_to_string(src.join("bundle.toml")).unwrap();
    assert!(toml.contains(arms));
    let toml = toml.replace(arms, "arms = { salt = \"example-2026\" }");
    std::fs::write(src.join("bundle.toml"), toml).unwrap();
    let db = tmp.path().join("features.sqlite");
    let csv = write(tmp.path(), "clients.csv", GOOD);
    let run = vitrine(&["features", "import", csv.to_str().unwrap(), "--schema", src.to_str().unwrap(), "--db", db.to_str().unwrap()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stdout).contains("imported 2 clients"));

    let key = src.join("keys/snap-demo.key");
    let one = vitrine(&[
        "snapshot",
        "sign",
        "--db",
        db.to_str().unwrap(),
        "--client",
        "c-001",
        "--key",
        key.to_str().unwrap(),
        "--now",
        &NOW.to_string(),
        "--ttl",
        "1h",
    ]);
    assert!(one.status.success(), "{}", String::from_utf8_lossy(&one.stderr));
    let text = String::from_utf8(one.stdout).unwrap().trim().to_string();

    // The engine, loaded with a bundle built from the same source, accepts it.
    let bundle = vitrine_compile::load(&src).unwrap();
    let bkey =
        keys::generate("bundle-1", Role::Bundle, &tmp.path().join("k")).map(|(s, _)| keys::load_secret(&s, Role::Bundle).unwrap()).unwrap();
    let bytes = vitrine_engine::bundle::envelope::sign(&bundle, &bkey.kid, &bkey.key).unwrap();
    let mut engine = vitrine_engine::Engine::load(&bytes, &bkey.key.verifying_key().to_bytes()).unwrap();
    let req = |snapshot: String| DecideRequest {
        snapshot: Some(snapshot),
        now: NOW,
        seed: 1,
        context: Default::default(),
        slots: vec![SlotRequest { slot: "home_hero".into(), k: None }],
        history: vec![],
        explain: false,
    };
    let resp = engine.decide(&req(text.clone())).unwrap();
    assert_eq!(resp.mode, Mode::Personalised);
    assert_eq!(resp.slots[0].offers[0].offer, "femtocell", "poor coverage, service lever 2");
    let raw = decode_text(&text).unwrap();
    let parsed = UnverifiedSnapshot::parse(&raw).unwrap();
    assert_eq!(parsed.kid(), "snap-demo");

    // A client without profiling consent gets the baseline.
    let all = tmp.path().join("all.jsonl");
    let run = vitrine(&[
        "snapshot",
        "sign-all",
        "--db",
        db.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--out",
        all.to_str().unwrap(),
        "--now",
        &NOW.to_string(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&all).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["client_id"], "c-002");
    let resp = engine.decide(&req(lines[1]["snapshot"].as_str().unwrap().to_string())).unwrap();
    assert_eq!(resp.mode, Mode::NoProfilingConsent);

    // Pseudonyms are stable per store and never the client id.
    let store = FeatureStore::open_existing(&db).unwrap();
    assert_eq!(store.subject("c-001"), store.subject("c-001"));
    assert_ne!(store.subject("c-001"), store.subject("c-002"));
    let unknown = vitrine(&["snapshot", "sign", "--db", db.to_str().unwrap(), "--client", "nobody", "--key", key.to_str().unwrap()]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no client `nobody`"));
}

#[test]
fn a_bad_row_names_row_and_column_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let src = example_copy(tmp.path());
    let schema = vitrine_compile::load(&src).unwrap().schema;
    let db = tmp.path().join("features.sqlite");
    let mut store = FeatureStore::open(&db, &schema).unwrap();
    assert_eq!(store.import_csv(&write(tmp.path(), "good.csv", GOOD)).unwrap(), 2);
    let cases = [
        ("c-003,12,x,,,,,,,,,\n", "store_bad_row", "row 3, column `monthly_spend`"),
        ("c-003,12,10,,maybe,,,,,,,\n", "store_bad_row", "column `fiber_eligible`"),
        ("c-003,12,10,,,,awful,,,,,\n", "store_bad_row", "not one of poor, fair, good"),
        ("c-003,70000,10,,,,,,,,,\n", "store_bad_row", "outside the encoded range"),
        (",12,10,,,,,,,,,\n", "store_bad_row", "a client id is required"),
    ];
    for (row, code, message) in cases {
        let text = format!("{}c-009,1,1,,,,,,,,,\n{row}", GOOD.lines().next().unwrap().to_string() + "\n");
        let err = store.import_csv(&write(tmp.path(), "bad.csv", &text)).unwrap_err();
        assert_eq!(err.code(), code, "{err}");
        assert!(err.to_string().contains(message), "{err}");
        assert_eq!(store.len().unwrap(), 2, "nothing from a failed import is kept");
        assert!(store.snapshot_content("c-009", NOW, 60).is_err());
    }
    let err = store.import_csv(&write(tmp.path(), "cols.csv", "client_id,tenure_month\nc,1\n")).unwrap_err();
    assert_eq!(err.code(), "store_bad_file");
    assert!(err.to_string().contains("did you mean `tenure_months`?"), "{err}");
    let err = store.import_csv(&write(tmp.path(), "noid.csv", "tenure_months\n1\n")).unwrap_err();
    assert!(err.to_string().contains("no `client_id`"), "{err}");

    let mut other = schema.clone();
    other.channels.push("app".into());
    assert_eq!(FeatureStore::open(&db, &other).unwrap_err().code(), "store_schema_mismatch");
}
