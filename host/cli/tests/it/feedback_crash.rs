//! Durability: a client posts events in a loop while the test `kill -9`s the server;
//! after a restart every event that got a 202 is in the store, each exactly once.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::common::{http, Served};

#[test]
fn every_acknowledged_event_survives_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let mut served = Served::start(tmp.path(), &[]);
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (url, acked, stop) = (served.url("/v1/events"), acked.clone(), stop.clone());
            std::thread::spawn(move || {
                let agent = http();
                let mut batch_no = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
                    let ids: Vec<String> = (0..20).map(|i| format!("c{c}-b{batch_no}-e{i}")).collect();
                    let events: Vec<_> = ids.iter().map(|id| json!({ "event_id": id, "decision_id": format!("d-{c}-{batch_no}"), "type": "click", "offer": "fibre_upgrade", "treatment": "default", "slot": "home_hero", "channel": "web", "at": now })).collect();
                    batch_no += 1;
                    match agent.post(&url).send_json(json!({ "events": events })) {
                        Ok(res) if res.status().as_u16() == 202 => acked.lock().unwrap().extend(ids),
                        // The server died mid-request: no 202, no promise.
                        _ => {}
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    // SIGKILL: no graceful shutdown, no flush.
    served.child.kill().unwrap();
    served.child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 200, "only {} events acknowledged before the kill", acked.len());

    // Restart on the same state: the store opens (WAL recovery) and holds every acked event.
    drop(served);
    let served = Served::start(tmp.path(), &[]);
    let conn = rusqlite::Connection::open(tmp.path().join("feedback.sqlite")).unwrap();
    let mut q = conn.prepare("SELECT COUNT(*) FROM events WHERE event_id = ?1").unwrap();
    let missing: Vec<&String> = acked.iter().filter(|id| q.query_row([id.as_str()], |r| r.get::<_, i64>(0)).unwrap() != 1).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged events lost, e.g. {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );
    let report: serde_json::Value = http().get(&served.url("/v1/report")).call().unwrap().into_body().read_json().unwrap();
    let clicks: u64 = report["rows"].as_array().unwrap().iter().map(|r| r["clicks"].as_u64().unwrap()).sum();
    assert!(clicks >= acked.len() as u64, "report counts {clicks} clicks for {} acked", acked.len());
    eprintln!("{} events acknowledged before kill -9; all {} found after restart; {clicks} stored in total", acked.len(), acked.len());
}
