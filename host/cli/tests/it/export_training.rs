//! `vitrine export training`: decisions joined to the features they were decided on (the
//! ledger) and to their outcomes; a ledger miss is counted, never guessed; an empty range
//! writes nothing.
use serde_json::{json, Value};

use crate::common::{http, table, vitrine, Served};

fn now() -> u64 {
    vitrine_base::clock::now()
}

#[test]
fn the_training_table_joins_features_and_outcomes() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Served::start(tmp.path(), &[]);
    let agent = http();
    let mut shown = 0;
    let mut sold = None;
    let mut record = None;
    for i in 1..=12 {
        let client = format!("c-{i:04}");
        let snap = s.snapshot(&agent, &client);
        let d: Value = agent
            .post(&s.url("/v1/decide"))
            .send_json(json!({ "snapshot": snap["snapshot"], "slots": [{ "slot": "home_hero" }, { "slot": "offer_cards" }] }))
            .unwrap()
            .into_body()
            .read_json()
            .unwrap();
        let offers: Vec<&str> = d["slots"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["offers"].as_array().unwrap())
            .map(|o| o["offer"].as_str().unwrap())
            .collect();
        shown += offers.len() + d["record"]["withheld"].as_array().map_or(0, Vec::len);
        if sold.is_none() && d["mode"] == "personalised" && !offers.is_empty() {
            sold = Some((d["decision_id"].as_str().unwrap().to_string(), offers[0].to_string()));
            let sale = json!({ "event_id": "sale-1", "type": "sale", "subject": d["record"]["subject"], "offer": offers[0], "value": 42.0, "at": now() });
            let click = json!({ "event_id": "click-1", "decision_id": d["decision_id"], "type": "click", "offer": offers[0], "treatment": "default", "slot": "home_hero", "channel": "web", "at": now() });
            let r: Value =
                agent.post(&s.url("/v1/events")).send_json(json!({ "events": [sale, click] })).unwrap().into_body().read_json().unwrap();
            assert_eq!(r["stored"], 2, "{r}");
        }
        record = Some(d["record"].clone());
    }
    // An edge decision whose snapshot this host never signed: a ledger miss.
    let mut edge = record.unwrap();
    edge["decision_id"] = json!("e".repeat(32));
    edge["snapshot_hash"] = json!("f".repeat(32));
    let ev = json!({ "event_id": "imp-edge", "decision_id": edge["decision_id"], "type": "impression", "offer": "data_20gb", "treatment": "default", "slot": "home_hero", "channel": "web", "at": now(), "selection_probability": 0.5, "rank": 1, "record": edge });
    let r: Value = agent.post(&s.url("/v1/events")).send_json(json!({ "events": [ev] })).unwrap().into_body().read_json().unwrap();
    assert_eq!(r["stored"], 1, "{r}");
    drop(s);

    let st = |p: &str| tmp.path().join(p).to_string_lossy().into_owned();
    let out = tmp.path().join("train.csv");
    let args = |since: &str, out: &str| {
        vec![
            "export".to_string(),
            "training".into(),
            "--bundle".into(),
            st("bundle.vbundle"),
            "--bundle-key".into(),
            st("keys/bundle-dev.pub"),
            "--feedback".into(),
            st("feedback.sqlite"),
            "--features".into(),
            st("features.sqlite"),
            "--since".into(),
            since.into(),
            "--out".into(),
            out.into(),
        ]
    };
    let run = vitrine(&args("1d", out.to_str().unwrap()).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("1 miss") && stdout.contains("ledger misses"), "{stdout}");

    let table = table(&out);
    let headers: Vec<&String> = table[0].keys().collect();
    assert_eq!(table.len(), shown + 1, "every shown or withheld offer, and the edge impression's");
    assert!(headers.iter().any(|h| *h == "f_tenure_months"), "{headers:?}");
    let found = table.iter().filter(|r| r["features"] == "found").count();
    assert_eq!(found, shown, "every served decision joins to its snapshot");
    let miss: Vec<_> = table.iter().filter(|r| r["features"] == "miss").collect();
    assert_eq!(miss.len(), 1);
    assert_eq!(miss[0]["f_tenure_months"], "", "a miss has no features, never guessed ones");
    assert!(table
        .iter()
        .filter(|r| r["features"] == "found")
        .all(|r| !r["f_tenure_months"].is_empty() || r["consent_profiling"] == "false"));
    let (decision, offer) = sold.unwrap();
    let row = table.iter().find(|r| r["decision_id"] == decision && r["offer"] == offer).unwrap();
    assert_eq!(
        (row["sold"].as_str(), row["outcome"].as_str(), row["reward"].as_str(), row["clicked"].as_str()),
        ("true", "true", "42", "true"),
        "{row:?}"
    );
    assert_eq!(row["contacted"], "true");
    // The other rows' sale windows are open: not an outcome yet, never a negative.
    assert!(table.iter().filter(|r| r["sold"] == "false").all(|r| r["outcome"].is_empty()));

    // An empty range: a clear error, nothing written.
    let future = (now() + 86_400).to_string();
    let empty = tmp.path().join("empty.parquet");
    let run = vitrine(&args(&future, empty.to_str().unwrap()).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("nothing written"), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(!empty.exists());
}
