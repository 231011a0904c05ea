//! `POST /v1/trigger` over HTTP on the demo world: an event decides at once for its
//! outbound channels, waits out quiet hours, is logged with its send time and posted to
//! the webhook; the client's contact budget (gap and rolling window, counting the
//! triggers' own sends) suppresses what follows; bad input gets typed errors.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use serde_json::{json, Value};

use crate::common::{http, Served};

const DAY: u64 = 86_400;
/// 2026-11-20 23:30 UTC (in the past, so a snapshot issued now can decide after it):
/// SMS is quiet until 08:00, push until 08:00.
const LATE: u64 = 20_777 * DAY + 23 * 3600 + 1800;

/// A one-shot webhook: answers 200 to every POST and hands each body over.
fn webhook() -> (String, mpsc::Receiver<Value>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/contacts", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; len];
            reader.read_exact(&mut body).unwrap();
            let _ = tx.send(serde_json::from_slice(&body).unwrap_or(Value::Null));
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, rx)
}

fn post(agent: &ureq::Agent, s: &Served, body: &Value) -> (u16, Value) {
    let res = agent.post(&s.url("/v1/trigger")).header("X-Api-Key", &s.api_key()).send_json(body).unwrap();
    let status = res.status().as_u16();
    (status, res.into_body().read_json().unwrap_or(Value::Null))
}

#[test]
fn a_trigger_decides_at_once_within_the_contact_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let (url, hooked) = webhook();
    let policy = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web-demo/triggers.toml"))
        .unwrap()
        .replace("# webhook", "webhook")
        .replacen("max_contacts = 2", &format!("webhook = \"{url}\"\nmax_contacts = 2"), 1);
    let file = tmp.path().join("triggers.toml");
    std::fs::write(&file, policy).unwrap();
    let s = Served::start(&tmp.path().join("state"), &["--demo", "--triggers", file.to_str().unwrap(), "--fill-history", "3650d"]);
    let agent = http();

    // The API key, typed errors, nothing logged for them.
    let ev = |client: &str, kind: &str, at: u64| json!({ "client_id": client, "event": kind, "at": at, "seed": 7 });
    // (Without a body, on an agent of its own: the server answers 401 before it would read
    // one, and a connection left with an unread body is closed under the client.)
    let unkeyed = http().post(&s.url("/v1/trigger")).send_empty().unwrap();
    assert_eq!(unkeyed.status().as_u16(), 401);
    let (status, e) = post(&agent, &s, &ev("c-0001", "moon_landing", LATE));
    assert_eq!((status, e["error"]["code"].as_str()), (400, Some("trigger_unknown_event")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("roaming_started"), "{e}");
    let (status, e) = post(&agent, &s, &ev("nobody", "roaming_started", LATE));
    assert_eq!((status, e["error"]["code"].as_str()), (404, Some("trigger_unknown_client")), "{e}");
    let (status, e) = post(&agent, &s, &json!({ "client_id": "c-0001", "event": "roaming_started", "at": "late" }));
    assert_eq!((status, e["error"]["code"].as_str()), (400, Some("request_malformed")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("at"), "{e}");

    // The first clients a roaming trigger reaches: a contact on SMS or push, sent at 08:00.
    let mut reached = Vec::new();
    for i in 1..=200 {
        let client = format!("c-{i:04}");
        let (status, r) = post(&agent, &s, &ev(&client, "roaming_started", LATE));
        assert_eq!(status, 200, "{r}");
        if let Some(c) = r["contact"].as_object() {
            assert!(["sms", "push"].contains(&c["channel"].as_str().unwrap()), "{r}");
            assert_eq!(c["send_at"].as_u64(), Some(LATE - LATE % DAY + DAY + 8 * 3600), "quiet hours until 08:00: {r}");
            assert_eq!(r["webhook"]["delivered"], true, "{r}");
            let hook = hooked.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
            assert_eq!(hook["contact"], r["contact"]);
            assert_eq!(hook["decision_id"], r["decision_id"]);
            reached.push((client, r));
        } else {
            assert!(["no_contact", "no_channel_consent", "no_eligible_offer"].contains(&r["reason"].as_str().unwrap()), "{r}");
        }
        if reached.len() == 5 {
            break;
        }
    }
    assert_eq!(reached.len(), 5, "five of the first 200 clients get a roaming contact");

    // The contact budget: an hour later the gap stops it (nothing decided or logged);
    // two days later a second contact may go; two days after that (past its send at 08:00 and the gap) the third in a week may not.
    let (client, _) = &reached[0];
    let (_, r) = post(&agent, &s, &ev(client, "data_allowance_low", LATE + 3600));
    assert_eq!((r["reason"].as_str(), r["decision_id"].is_null()), (Some("min_gap"), true), "{r}");
    let mut second = None;
    for day in 2..5 {
        let (_, r) = post(&agent, &s, &ev(client, "subscription_failed", LATE + day * DAY));
        if r["contact"].is_object() {
            second = Some(day);
            break;
        }
    }
    let second = second.expect("a second contact within the week");
    let (_, r) = post(&agent, &s, &ev(client, "coverage_complaint", LATE + (second + 2) * DAY + 3600));
    assert_eq!(r["reason"].as_str(), Some("contact_budget"), "{r}");

    // A page decision for the same client with --fill-history carries those sends as its
    // contact history (the server reads them from the store).
    let snap = s.snapshot(&agent, client)["snapshot"].as_str().unwrap().to_string();
    let res =
        agent.post(&s.url("/v1/decide")).send_json(json!({ "snapshot": snap, "seed": 1, "slots": [{ "slot": "home_hero" }] })).unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let decided: Value = res.into_body().read_json().unwrap();
    // A page decision is logged by the group-commit writer after the answer: wait for it
    // before stopping the server.
    let db = tmp.path().join("state/feedback.sqlite");
    let id = decided["decision_id"].as_str().unwrap().to_string();
    let logged = (0..200).any(|_| {
        let found = rusqlite::Connection::open(&db)
            .and_then(|c| c.query_row("SELECT COUNT(*) FROM decisions WHERE decision_id = ?1", [&id], |r| r.get::<_, i64>(0)))
            .is_ok_and(|n| n == 1);
        if !found {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        found
    });
    assert!(logged, "the page decision was never logged");

    // Triggers are logged like any decision, with their send time, before the answer.
    drop(s);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let sends: Vec<(String, i64)> = conn
        .prepare("SELECT d.source, s.sent_at FROM shown s JOIN decisions d USING (decision_id) WHERE s.sent_at IS NOT NULL")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(sends.len(), 6, "five roaming contacts and one second contact: {sends:?}");
    assert!(sends.iter().all(|(source, _)| source == "trigger"));
    let request: String = conn
        .query_row("SELECT request FROM decisions WHERE decision_id = ?1", [decided["decision_id"].as_str().unwrap()], |r| r.get(0))
        .unwrap();
    let request: Value = serde_json::from_str(&request).unwrap();
    let contacts = request["history"].as_array().unwrap().iter().filter(|h| h["kind"] == "contact").count();
    assert_eq!(contacts, 2, "both triggered sends in the filled history: {request}");
}
