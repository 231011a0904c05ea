//! The snapshot ledger: every snapshot the host signs (`/v1/snapshot`, `snapshot sign`,
//! `snapshot sign-all`) is recorded by its identity hash with the values it carried, so a
//! logged decision joins to the features it was decided on; old entries are pruned.
use serde_json::{json, Value};
use vitrine_store::FeatureStore;

use crate::common::{http, vitrine, Served};

#[test]
fn every_signed_snapshot_is_in_the_ledger_and_decisions_join_to_it() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Served::start(tmp.path(), &[]);
    let agent = http();
    let snap: Value =
        agent.get(&s.url("/v1/snapshot/c-0007")).header("X-Api-Key", &s.api_key()).call().unwrap().into_body().read_json().unwrap();
    let d: Value = agent
        .post(&s.url("/v1/decide"))
        .send_json(json!({ "snapshot": snap["snapshot"], "slots": [{ "slot": "home_hero" }] }))
        .unwrap()
        .into_body()
        .read_json()
        .unwrap();
    let hash = d["record"]["snapshot_hash"].as_str().unwrap().to_string();
    drop(s);

    let db = tmp.path().join("features.sqlite");
    let store = FeatureStore::open_existing(&db).unwrap();
    let entry = store.ledger_entry(&hash).unwrap().expect("the served snapshot is in the ledger");
    assert_eq!(entry.client_id, "c-0007");
    assert_eq!(Some(entry.subject.as_str()), d["record"]["subject"].as_str());
    assert_eq!(entry.schema_hash, vitrine_base::hex::encode(&store.schema().hash()));
    // The values it carried: the store's, quantised as the snapshot encodes them.
    let raw = store.snapshot_content("c-0007", 0, 0).unwrap().values;
    assert_eq!(entry.features.len(), raw.len());
    for (carried, stored) in entry.features.iter().zip(&raw) {
        match (carried, stored) {
            (Some(a), Some(b)) => assert!((a - b).abs() <= 0.5 + 1e-3 * b.abs(), "{a} vs {b}"),
            (None, None) => {}
            other => panic!("presence differs: {other:?}"),
        }
    }
    assert_eq!(store.ledger_len().unwrap(), 1);
    assert!(store.ledger_entry(&"0".repeat(32)).unwrap().is_none(), "a ledger miss is a miss, never a guess");
    drop(store);

    // sign-all records every client; its JSON lines join to the ledger by hash.
    let key = tmp.path().join("src/keys/snap-demo.key");
    let out = tmp.path().join("all.jsonl");
    let run =
        vitrine(&["snapshot", "sign-all", "--db", db.to_str().unwrap(), "--key", key.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let store = FeatureStore::open_existing(&db).unwrap();
    let clients = store.len().unwrap();
    assert_eq!(store.ledger_len().unwrap(), clients + 1);
    for line in std::fs::read_to_string(&out).unwrap().lines().step_by(97) {
        let v: Value = serde_json::from_str(line).unwrap();
        let bytes = vitrine_engine::snapshot::decode_text(v["snapshot"].as_str().unwrap()).unwrap();
        let id = vitrine_base::hex::encode(&vitrine_engine::snapshot::snapshot_id(&bytes));
        assert_eq!(store.ledger_entry(&id).unwrap().unwrap().client_id, v["client_id"].as_str().unwrap());
    }
    drop(store);

    // Retention: snapshots that expired long ago are pruned on the next signing.
    let old = vitrine(&[
        "snapshot",
        "sign",
        "--db",
        db.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--client",
        "c-0001",
        "--now",
        "1000000",
    ]);
    assert!(old.status.success(), "{}", String::from_utf8_lossy(&old.stderr));
    assert_eq!(FeatureStore::open_existing(&db).unwrap().ledger_len().unwrap(), clients + 2);
    // (An hour ago: bytes unlike sign-all's, whose snapshot of c-0001 is already recorded.)
    let hour_ago = (vitrine_base::clock::now() - 3600).to_string();
    let again = vitrine(&[
        "snapshot",
        "sign",
        "--db",
        db.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--client",
        "c-0001",
        "--now",
        &hour_ago,
        "--ledger-retention",
        "30d",
    ]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(FeatureStore::open_existing(&db).unwrap().ledger_len().unwrap(), clients + 2, "the 1970 entry pruned, today's added");
}
