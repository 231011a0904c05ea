//! `vitrine serve` over real HTTP on 127.0.0.1: every endpoint, bad input, hot swap and
//! rollback while requests flow.
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::common::{http, Served};

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn get_json(agent: &ureq::Agent, url: &str) -> (u16, Value) {
    let res = agent.get(url).call().unwrap();
    let status = res.status().as_u16();
    (status, res.into_body().read_json().unwrap_or(Value::Null))
}

fn post_json(agent: &ureq::Agent, url: &str, body: &Value) -> (u16, Value) {
    let res = agent.post(url).send_json(body).unwrap();
    let status = res.status().as_u16();
    (status, res.into_body().read_json().unwrap_or(Value::Null))
}

fn snapshot(s: &Served, agent: &ureq::Agent, client: &str) -> String {
    let res =
        agent.get(&s.url(&format!("/v1/snapshot/{client}"))).header("Authorization", &format!("Bearer {}", s.api_key())).call().unwrap();
    assert_eq!(res.status().as_u16(), 200);
    res.into_body().read_json::<Value>().unwrap()["snapshot"].as_str().unwrap().to_string()
}

fn event(id: &str, decision: &str, kind: &str, offer: &str, at: u64) -> Value {
    json!({ "event_id": id, "decision_id": decision, "type": kind, "offer": offer, "treatment": "default", "slot": "home_hero", "channel": "web", "at": at })
}

/// POSTs `len` body bytes on a raw connection (the server may stop reading once the cap
/// is passed, so write errors are ignored); returns the status.
fn announce_body(base: &str, path: &str, len: usize) -> u16 {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    write!(conn, "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n").unwrap();
    let _ = conn.write_all(&vec![b' '; len]);
    let mut buf = [0u8; 64];
    let n = conn.read(&mut buf).unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).to_string();
    head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("no status in {head:?}"))
}

#[test]
fn every_endpoint_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Served::start(tmp.path(), &[]);
    let agent = http();

    let (status, health) = get_json(&agent, &s.url("/healthz"));
    assert_eq!((status, health["status"].as_str(), health["bundle_version"].as_u64()), (200, Some("ok"), Some(1)));

    let (status, api) = get_json(&agent, &s.url("/openapi.json"));
    assert_eq!(status, 200);
    for path in ["/v1/decide", "/v1/trigger", "/v1/bundle", "/v1/snapshot/{client}", "/v1/events", "/v1/report", "/metrics", "/healthz"] {
        assert!(api["paths"].get(path).is_some(), "openapi.json lacks {path}");
    }

    // The bundle, with ETag revalidation.
    let res = agent.get(&s.url("/v1/bundle")).call().unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let etag = res.headers().get("etag").unwrap().to_str().unwrap().to_string();
    let bytes = res.into_body().read_to_vec().unwrap();
    assert_eq!(&bytes[..4], b"VBND");
    let res = agent.get(&s.url("/v1/bundle")).header("If-None-Match", &etag).call().unwrap();
    assert_eq!(res.status().as_u16(), 304);

    // Snapshots need the API key.
    assert_eq!(agent.get(&s.url("/v1/snapshot/c-0001")).call().unwrap().status().as_u16(), 401);
    assert_eq!(agent.get(&s.url("/v1/snapshot/c-0001")).header("X-Api-Key", "wrong").call().unwrap().status().as_u16(), 401);
    let missing = agent.get(&s.url("/v1/snapshot/nobody")).header("X-Api-Key", &s.api_key()).call().unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    // Decide for the first client the personalised arm shows an offer (subjects are salted
    // per store, so which clients are in `bau` or `no_contact` differs per run); every
    // decision is logged.
    let mut decided = 0;
    let d = (1..=40)
        .find_map(|i| {
            let snap = snapshot(&s, &agent, &format!("c-{i:04}"));
            let (status, d) = post_json(
                &agent,
                &s.url("/v1/decide"),
                &json!({ "snapshot": snap, "slots": [{ "slot": "home_hero" }], "context": { "page": "home" } }),
            );
            assert_eq!(status, 200, "{d}");
            assert!(["personalised", "bau", "no_contact", "no_profiling_consent"].contains(&d["mode"].as_str().unwrap()), "{d}");
            decided += 1;
            (d["mode"] == "personalised" && d["slots"][0]["offers"][0]["offer"].is_string()).then_some(d)
        })
        .unwrap();
    let decision = d["decision_id"].as_str().unwrap().to_string();
    let offer = d["slots"][0]["offers"][0]["offer"].as_str().unwrap().to_string();
    let subject = d["record"]["subject"].as_str().unwrap().to_string();

    // Bad input: malformed JSON, wrong type naming the field, unknown slot, oversized body.
    let res = agent.post(&s.url("/v1/decide")).send("{not json").unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(res.into_body().read_json::<Value>().unwrap()["error"]["code"], "request_malformed");
    let (status, e) = post_json(&agent, &s.url("/v1/decide"), &json!({ "slots": "home_hero" }));
    assert_eq!(status, 400);
    assert!(e["error"]["message"].as_str().unwrap().starts_with("`slots`: invalid type"), "{e}");
    let (status, e) = post_json(&agent, &s.url("/v1/decide"), &json!({ "slots": [{ "slot": "nowhere" }] }));
    assert_eq!((status, e["error"]["code"].as_str()), (400, Some("request_unknown_slot")), "{e}");
    assert_eq!(announce_body(&s.base, "/v1/decide", (1 << 20) + 1), 413, "a body over the cap is refused before it is read");

    // Events: stored, duplicates absorbed, too old / future rejected per event, rest kept.
    let t = now();
    let batch = json!({ "events": [
        event("e-1", &decision, "impression", &offer, t),
        event("e-2", &decision, "click", &offer, t),
        event("e-3", &decision, "conversion", &offer, t),
        event("e-old", &decision, "click", &offer, t - 30 * 86_400),
        event("e-future", &decision, "click", &offer, t + 3600),
    ]});
    let (status, r) = post_json(&agent, &s.url("/v1/events"), &batch);
    assert_eq!(status, 202, "{r}");
    assert_eq!((r["stored"].as_u64(), r["duplicates"].as_u64(), r["rejected"].as_u64()), (Some(3), Some(0), Some(2)), "{r}");
    assert!(r["results"][3]["reason"].as_str().unwrap().contains("older"), "{r}");
    assert!(r["results"][4]["reason"].as_str().unwrap().contains("future"), "{r}");
    let (status, r) = post_json(&agent, &s.url("/v1/events"), &batch);
    assert_eq!((status, r["stored"].as_u64(), r["duplicates"].as_u64()), (202, Some(0), Some(3)), "retries are absorbed: {r}");
    let (status, e) = post_json(
        &agent,
        &s.url("/v1/events"),
        &json!({ "events": [{ "event_id": "x", "decision_id": "d", "type": "click", "offer": "o", "treatment": "t", "slot": "s", "channel": "web", "at": "yesterday" }] }),
    );
    assert_eq!((status, e["error"]["code"].as_str()), (400, Some("request_malformed")));
    assert!(e["error"]["message"].as_str().unwrap().starts_with("`events[0].at`: invalid type"), "{e}");
    let (status, e) = post_json(&agent, &s.url("/v1/events"), &json!({ "events": [{ "event_id": "x", "type": "click" }] }));
    assert_eq!(status, 400);
    assert!(e["error"]["message"].as_str().unwrap().contains("decision_id"), "{e}");

    // Sales from the order system: keyed by subject and offer, no decision id; idempotent
    // by event id; bad ones rejected one by one with their code, nothing of them written.
    let sale = |id: &str, subject: &str, offer: &str, at: u64| json!({ "event_id": id, "type": "sale", "subject": subject, "offer": offer, "value": 30.0, "at": at });
    let batch = json!({ "events": [
        sale("s-1", &subject, &offer, t),
        sale("s-unknown-offer", &subject, "fibre_upgrad", t),
        sale("s-unknown-subject", &"ab".repeat(16), &offer, t),
        sale("s-not-a-pseudonym", "c-0001", &offer, t),
        sale("s-future", &subject, &offer, t + 3600),
        sale("s-old", &subject, &offer, t - 30 * 86_400),
    ]});
    let (status, r) = post_json(&agent, &s.url("/v1/events"), &batch);
    assert_eq!((status, r["stored"].as_u64(), r["rejected"].as_u64()), (202, Some(1), Some(5)), "{r}");
    let codes: Vec<&str> =
        r["results"].as_array().unwrap().iter().map(|x| x["code"].as_str().unwrap_or(x["status"].as_str().unwrap())).collect();
    assert_eq!(codes, ["stored", "sale_unknown_offer", "sale_unknown_subject", "sale_unknown_subject", "event_in_future", "event_too_old"]);
    assert!(r["results"][1]["reason"].as_str().unwrap().contains("did you mean `fibre_upgrade`"), "{r}");
    let (status, r) = post_json(&agent, &s.url("/v1/events"), &json!({ "events": [sale("s-1", &subject, &offer, t)] }));
    assert_eq!((status, r["duplicates"].as_u64()), (202, Some(1)), "a retried sale is absorbed: {r}");
    let (status, e) = post_json(
        &agent,
        &s.url("/v1/events"),
        &json!({ "events": [{ "event_id": "s-2", "type": "sale", "subject": subject, "offer": offer, "at": t }] }),
    );
    assert_eq!((status, e["error"]["code"].as_str()), (400, Some("request_malformed")), "{e}");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("events[0]") && e["error"]["message"].as_str().unwrap().contains("value"),
        "{e}"
    );

    // The report counts each event once.
    let (status, rep) = get_json(&agent, &s.url("/v1/report"));
    assert_eq!(status, 200);
    let row = rep["rows"].as_array().unwrap().iter().find(|r| r["offer"] == offer.as_str()).unwrap().clone();
    assert_eq!(
        (row["impressions"].as_u64(), row["clicks"].as_u64(), row["conversions"].as_u64(), row["bundle_version"].as_u64()),
        (Some(1), Some(1), Some(1), Some(1)),
        "{row}"
    );
    assert_eq!(row["ctr"]["rate"].as_f64(), Some(1.0));
    let csv = agent.get(&s.url("/v1/report?format=csv")).call().unwrap().into_body().read_to_string().unwrap();
    assert!(csv.starts_with("bundle_version,offer,treatment,slot,channel,impressions,clicks"), "{csv}");
    assert!(csv.contains(&format!("1,{offer},default,home_hero,web,1,1,1,0,")), "{csv}");
    assert_eq!(agent.get(&s.url("/v1/report?format=xml")).call().unwrap().status().as_u16(), 400);
    // Down to the sale: the one stored sale, in its client's arm, attributed to the shown offer.
    assert_eq!(rep["sales"], 1, "{rep}");
    let arms = rep["arms"]["arms"].as_array().unwrap();
    assert_eq!(arms.iter().map(|a| a["clients"].as_u64().unwrap()).sum::<u64>(), decided, "{rep}");
    let personalised = arms.iter().find(|a| a["arm"] == "personalised").unwrap();
    assert_eq!((personalised["sales"].as_u64(), personalised["revenue"].as_f64()), (Some(1), Some(30.0)), "{personalised}");
    let row = rep["offers"].as_array().unwrap().iter().find(|o| o["offer"] == offer.as_str()).unwrap();
    assert_eq!((row["contacted"]["trials"].as_u64(), row["attributed_sales"].as_u64()), (Some(1), Some(1)), "{row}");
    let arms_csv = agent.get(&s.url("/v1/report?format=csv&table=arms")).call().unwrap().into_body().read_to_string().unwrap();
    assert!(arms_csv.starts_with("arm,expected_share,clients,sales,revenue,contacts,sales_per_client"), "{arms_csv}");
    let offers_csv = agent.get(&s.url("/v1/report?format=csv&table=offers")).call().unwrap().into_body().read_to_string().unwrap();
    assert!(offers_csv.contains(&format!("{offer},web,1,604800,1,1,")), "{offers_csv}");
    assert_eq!(agent.get(&s.url("/v1/report?format=csv&table=nope")).call().unwrap().status().as_u16(), 400);

    let metrics = agent.get(&s.url("/metrics")).call().unwrap().into_body().read_to_string().unwrap();
    assert!(metrics.contains(&format!("vitrine_http_requests_total{{route=\"/v1/decide\",status=\"200\"}} {decided}")), "{metrics}");
    assert!(metrics.contains("vitrine_http_request_duration_seconds_bucket{route=\"/v1/decide\""), "{metrics}");
    assert!(metrics.contains(&format!("vitrine_decisions_total{{offer=\"{offer}\"}}")), "{metrics}");
    assert!(metrics.contains("vitrine_events_total{type=\"sale\"} 1"), "{metrics}");
    assert!(metrics.contains("vitrine_events_total{type=\"click\"} 1"), "{metrics}");
    assert!(metrics.contains("vitrine_bundle_version 1"), "{metrics}");
}

/// Builds version 2 of the default bundle (same source, same dev key).
fn next_version(state: &std::path::Path) -> Vec<u8> {
    let src = state.join("src");
    let toml = std::fs::read_to_string(src.join("bundle.toml")).unwrap().replacen("version = 1", "version = 2", 1);
    std::fs::write(src.join("bundle.toml"), toml).unwrap();
    let bundle = vitrine_compile::load(&src).unwrap();
    let key = vitrine_base::keys::load_secret(&state.join("keys/bundle-dev.key"), vitrine_base::keys::Role::Bundle).unwrap();
    vitrine_engine::bundle::envelope::sign(&bundle, &key.kid, &key.key).unwrap()
}

#[test]
fn hot_swap_and_rollback_while_requests_flow() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Served::start(tmp.path(), &[]);
    let agent = http();
    let snap = snapshot(&s, &agent, "c-0002");
    let v2 = next_version(tmp.path());

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (url, stop, snap) = (s.url("/v1/decide"), stop.clone(), snap.clone());
        std::thread::spawn(move || {
            let agent = http();
            let mut versions = std::collections::BTreeSet::new();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (status, d) = post_json(&agent, &url, &json!({ "snapshot": snap, "slots": [{ "slot": "home_hero" }] }));
                assert_eq!(status, 200, "a request failed during a swap: {d}");
                versions.insert(d["record"]["bundle_version"].as_u64().unwrap());
                n += 1;
            }
            (n, versions)
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(200));
    let admin = |path: &str, body: &[u8], key: &str| {
        let res = agent.post(&s.url(path)).header("Authorization", &format!("Bearer {key}")).send(body).unwrap();
        let status = res.status().as_u16();
        (status, res.into_body().read_json::<Value>().unwrap_or(Value::Null))
    };
    let key = s.api_key();
    assert_eq!(admin("/v1/admin/bundle", &v2, "wrong").0, 401);
    let (status, r) = admin("/v1/admin/bundle", &v2, &key);
    assert_eq!((status, r["version"].as_u64()), (200, Some(2)), "{r}");
    std::thread::sleep(std::time::Duration::from_millis(200));
    // A tampered bundle is refused and version 2 keeps serving.
    let mut bad = v2.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let (status, r) = admin("/v1/admin/bundle", &bad, &key);
    assert_eq!((status, r["error"]["code"].as_str()), (422, Some("runtime_bundle_refused")), "{r}");
    assert_eq!(get_json(&agent, &s.url("/healthz")).1["bundle_version"], 2);
    // An engine module swap goes through the same gate: garbage is refused, the real
    // module is accepted (and serves the current bundle).
    let (status, r) = admin("/v1/admin/engine", b"\0asm garbage", &key);
    assert_eq!((status, r["error"]["code"].as_str()), (422, Some("runtime_module")), "{r}");
    let wasm = std::fs::read(crate::common::engine_wasm()).unwrap();
    let (status, r) = admin("/v1/admin/engine", &wasm, &key);
    assert_eq!((status, r["version"].as_u64()), (200, Some(2)), "{r}");
    // Rollback through the CLI (to the deployment before the engine swap: same bundle v2).
    let out = crate::common::vitrine(&["bundle", "rollback", "--server", &s.base, "--api-key", &key]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(get_json(&agent, &s.url("/healthz")).1["bundle_version"], 2);
    // And once more, to version 1.
    let out = crate::common::vitrine(&["bundle", "rollback", "--server", &s.base, "--api-key", &key]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(get_json(&agent, &s.url("/healthz")).1["bundle_version"], 1);
    std::thread::sleep(std::time::Duration::from_millis(200));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (n, versions) = load.join().unwrap();
    assert!(n > 20, "only {n} requests");
    assert_eq!(versions.into_iter().collect::<Vec<_>>(), [1, 2], "both versions served, no failure");
    let res = agent.get(&s.url("/v1/bundle")).call().unwrap();
    assert_eq!(res.headers().get("x-vitrine-bundle-version").unwrap(), "1");
}

#[test]
fn periodic_learning_deploys_a_new_version_when_enabled() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Served::start(tmp.path(), &["--learn-every", "1s"]);
    let agent = http();
    let t = now();
    let mut batch = Vec::new();
    for i in 0..150 {
        batch.push(event(&format!("i{i}"), &format!("d{i}"), "impression", "data_20gb", t));
        if i % 3 == 0 {
            batch.push(event(&format!("c{i}"), &format!("d{i}"), "click", "data_20gb", t));
        }
    }
    let (status, r) = post_json(&agent, &s.url("/v1/events"), &json!({ "events": batch }));
    assert_eq!((status, r["stored"].as_u64()), (202, Some(200)), "{r}");
    let mut version = 1;
    for _ in 0..60 {
        version = get_json(&agent, &s.url("/healthz")).1["bundle_version"].as_u64().unwrap();
        if version > 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(version >= 2, "no learned version deployed");
    let res = agent.get(&s.url("/v1/bundle")).call().unwrap();
    assert_eq!(res.headers().get("x-vitrine-bundle-version").unwrap().to_str().unwrap(), version.to_string());
}

#[test]
fn the_connection_cap_holds_and_sigterm_shuts_down_gracefully() {
    use std::io::{Read, Write};
    let tmp = tempfile::tempdir().unwrap();
    let mut s = Served::start(tmp.path(), &["--max-connections", "2"]);
    let addr = s.base.trim_start_matches("http://").to_string();
    let health = |conn: &mut std::net::TcpStream| -> bool {
        conn.set_read_timeout(Some(std::time::Duration::from_millis(700))).unwrap();
        write!(conn, "GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
        let mut buf = [0u8; 512];
        matches!(conn.read(&mut buf), Ok(n) if n > 0 && buf.starts_with(b"HTTP/1.1 200"))
    };
    let mut a = std::net::TcpStream::connect(&addr).unwrap();
    let mut b = std::net::TcpStream::connect(&addr).unwrap();
    assert!(health(&mut a) && health(&mut b), "two connections are served");
    let mut c = std::net::TcpStream::connect(&addr).unwrap();
    assert!(!health(&mut c), "a third open connection waits while two are held");
    drop(a);
    let mut buf = [0u8; 512];
    c.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    let n = c.read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "served once a slot frees up");
    drop((b, c));

    // SIGTERM: in-flight work finishes, the writer flushes, the process exits cleanly.
    let status = std::process::Command::new("kill").args(["-TERM", &s.child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = s.child.wait().unwrap();
    assert!(exit.success(), "graceful shutdown exits 0: {exit:?}");
}
