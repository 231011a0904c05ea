//! `vitrine plan --history`: two consecutive weekly plans over a feedback store that also
//! holds the clients' web impressions (decided by the same engine on the home page) and
//! clicks. Every cap of the bundle (per offer, per category, per channel, suppression)
//! and the plan's `max_contacts` in any rolling week and `min_gap_days` hold over the
//! union of both weeks' sends and the web impressions; the second week planned without
//! the history would break them. Send hours follow each client's click times, outside
//! the channel's quiet hours.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::{table, vitrine};
use vitrine_base::keys::{self, Role};
use vitrine_engine::decision::{DecideRequest, SlotRequest};
use vitrine_feedback::{Event, EventKind, FeedbackStore, LoggedDecision};
use vitrine_store::FeatureStore;

const CLIENTS: usize = 1200;
const DAY: u64 = 86_400;
/// 2026-11-23, the first week's start (a Monday).
const WEEK1: u64 = 20_780 * DAY;
const OFFER_CAP: (u64, u64) = (1, 14 * DAY);
const CATEGORY_CAP: (u64, u64) = (2, 21 * DAY);
const SMS_CAP: (u64, u64) = (2, 7 * DAY);
const SUPPRESS: (u64, u64) = (5, 14 * DAY);

fn plan_toml(start: &str) -> String {
    format!(
        r#"
start = "{start}"
days = 7
seed = 2026
max_contacts = 2
min_gap_days = 2

[[channels]]
name = "email"
capacity = 100000
[[channels]]
name = "sms"
capacity = 100000
quiet_hours = [21, 8]
[[channels]]
name = "push"
capacity = 100000
"#
    )
}

fn run(args: &[&str]) {
    let out = vitrine(args);
    assert!(out.status.success(), "vitrine {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// One contact of a client: (time, offer, category, channel, is a planned send).
type Contact = (u64, String, String, String, bool);

struct Setup {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Setup {
    fn p(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    fn plan(&self, start: &str, out: &str, history: bool) -> std::process::Output {
        std::fs::write(self.dir.join(format!("{out}.toml")), plan_toml(start)).unwrap();
        let mut args: Vec<String> = [
            "plan",
            "--bundle",
            &self.p("capped.vbnd"),
            "--bundle-key",
            &self.p("keys/b.pub"),
            "--features",
            &self.p("features.sqlite"),
            "--config",
            &self.p(&format!("{out}.toml")),
            "--out",
            &self.p(out),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if history {
            args.extend(["--history".into(), self.p("feedback.sqlite"), "--feedback".into(), self.p("feedback.sqlite")]);
        }
        vitrine(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }
}

/// The demo bundle with caps on every offer and on email too.
fn capped_bundle(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web-demo/bundle");
    let dst = dir.join("capped");
    std::fs::create_dir_all(dst.join("models")).unwrap();
    for e in std::fs::read_dir(src.join("models")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join("models").join(e.file_name())).unwrap();
    }
    let text = std::fs::read_to_string(src.join("bundle.toml")).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        if line.starts_with("[[offers]]") {
            out.push_str(
                "caps = [{ scope = \"offer\", max = 1, window = \"14d\" }, { scope = \"category\", max = 2, window = \"21d\" }]\n",
            );
        }
    }
    assert_eq!(out.matches("scope = \"offer\"").count(), text.matches("[[offers]]").count());
    std::fs::write(dst.join("bundle.toml"), out).unwrap();
    copy_keys(&src, &dst);
    dst
}

fn copy_keys(src: &Path, dst: &Path) {
    if let Ok(dir) = std::fs::read_dir(src.join("keys")) {
        std::fs::create_dir_all(dst.join("keys")).unwrap();
        for e in dir {
            let e = e.unwrap();
            std::fs::copy(e.path(), dst.join("keys").join(e.file_name())).unwrap();
        }
    }
}

/// Web page views decided by the engine itself (the home page's offer cards), logged as
/// edge decisions: the impressions the plans must count. Clients in `clicks` click the
/// first card at that hour (their send hour); returns those who did.
fn web_views(s: &Setup, times: &[u64], clicks: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    let mut clicked = BTreeMap::new();
    let bundle = std::fs::read(s.dir.join("capped.vbnd")).unwrap();
    let key = keys::load_public(&s.dir.join("keys/b.pub"), Role::Bundle).unwrap().bytes(&s.dir.join("keys/b.pub")).unwrap();
    let mut engine = vitrine_engine::Engine::load(&bundle, &key).unwrap();
    let features = FeatureStore::open_existing(&s.dir.join("features.sqlite")).unwrap();
    let mut fb = vitrine_feedback::SqliteStore::open(&s.dir.join("feedback.sqlite")).unwrap();
    let ids: Vec<String> = table(&s.dir.join("clients.csv")).into_iter().map(|r| r["client_id"].clone()).collect();
    let mut decisions = Vec::new();
    let mut events = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        // A third of the clients browse at every time given (repeat views: suppression);
        // the rest once.
        let views: &[u64] = if i % 3 == 0 { times } else { &times[..1] };
        let c = features.snapshot_content(id, 0, 0).unwrap();
        let profile = vitrine_engine::snapshot::Profile { subject: c.subject, consent: c.consent, values: c.values };
        for (v, &now) in views.iter().enumerate() {
            let req = DecideRequest {
                snapshot: None,
                now,
                seed: (i * 31 + v) as u64,
                context: Default::default(),
                slots: vec![SlotRequest { slot: "offer_cards".into(), k: None }],
                history: Vec::new(),
                explain: false,
            };
            let resp = engine.decide_profile(&req, &profile).unwrap();
            if let (Some(&hour), Some(first)) = (clicks.get(id), resp.slots[0].offers.first()) {
                clicked.insert(id.clone(), hour);
                events.push(Event {
                    event_id: format!("click-{i}-{v}"),
                    decision_id: resp.decision_id.clone(),
                    kind: EventKind::Click,
                    offer: first.offer.clone(),
                    treatment: first.treatment.clone(),
                    slot: "offer_cards".into(),
                    channel: "web".into(),
                    at: now - now % DAY + hour * 3600 + 600,
                    value: None,
                    selection_probability: None,
                    rank: None,
                    uplift: None,
                    record: None,
                });
            }
            decisions.push(LoggedDecision::from_response(resp, None, "edge"));
        }
    }
    fb.write(&[], &[], &decisions).unwrap();
    fb.write(&events, &[], &[]).unwrap();
    clicked
}

/// Every client's contacts: web impressions from the store, planned sends from the plans.
fn contacts(s: &Setup, plans: &[&str], categories: &BTreeMap<String, String>) -> BTreeMap<String, Vec<Contact>> {
    let features = FeatureStore::open_existing(&s.dir.join("features.sqlite")).unwrap();
    let ids: Vec<String> = table(&s.dir.join("clients.csv")).into_iter().map(|r| r["client_id"].clone()).collect();
    let by_subject: BTreeMap<String, String> =
        ids.iter().map(|id| (vitrine_base::hex::encode(&features.subject(id)), id.clone())).collect();
    let mut all: BTreeMap<String, Vec<Contact>> = BTreeMap::new();
    let conn = rusqlite::Connection::open(s.dir.join("feedback.sqlite")).unwrap();
    let mut q = conn
        .prepare("SELECT d.subject, s.offer, s.channel, d.at FROM shown s JOIN decisions d USING (decision_id) WHERE d.source = 'edge'")
        .unwrap();
    let rows =
        q.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))).unwrap();
    for r in rows {
        let (subject, offer, channel, at) = r.unwrap();
        let id = by_subject[&subject].clone();
        all.entry(id).or_default().push((at as u64, offer.clone(), categories[&offer].clone(), channel, false));
    }
    for plan in plans {
        for ch in ["email", "sms", "push"] {
            for r in table(&s.dir.join(plan).join(format!("{ch}.parquet"))) {
                let day = vitrine_store::table::days_from_civil(
                    r["send_date"][..4].parse().unwrap(),
                    r["send_date"][5..7].parse().unwrap(),
                    r["send_date"][8..].parse().unwrap(),
                )
                .unwrap() as u64;
                let at = day * DAY + r["send_hour"].parse::<u64>().unwrap() * 3600;
                all.entry(r["client_id"].clone()).or_default().push((
                    at,
                    r["offer"].clone(),
                    categories[&r["offer"]].clone(),
                    ch.into(),
                    true,
                ));
            }
        }
    }
    for v in all.values_mut() {
        v.sort();
    }
    all
}

/// Violations of every cap by planned sends, given all contacts before each.
fn violations(all: &BTreeMap<String, Vec<Contact>>, clicked: &BTreeMap<String, u64>) -> Vec<String> {
    let mut bad = Vec::new();
    for (id, cs) in all {
        for (i, (t, offer, category, channel, planned)) in cs.iter().enumerate() {
            if !*planned {
                continue;
            }
            // What the plan could know: every planned send, and the web impressions before
            // the send's week began (a page view during the week comes after the plan).
            let start = t - (t - WEEK1) % (7 * DAY);
            let known = |c: &&Contact| c.4 || c.0 < start;
            let before =
                |w: u64, f: &dyn Fn(&Contact) -> bool| cs[..i].iter().filter(known).filter(|c| c.0 + w > *t && f(c)).count() as u64;
            if before(OFFER_CAP.1, &|c| c.1 == *offer) >= OFFER_CAP.0 {
                bad.push(format!("{id}: offer cap on {offer} at {t}"));
            }
            if before(CATEGORY_CAP.1, &|c| c.2 == *category) >= CATEGORY_CAP.0 {
                bad.push(format!("{id}: category cap on {category} at {t}"));
            }
            if channel == "sms" && before(SMS_CAP.1, &|c| c.3 == "sms") >= SMS_CAP.0 {
                bad.push(format!("{id}: sms cap at {t}"));
            }
            if !clicked.contains_key(id) && before(SUPPRESS.1, &|c| c.1 == *offer) >= SUPPRESS.0 {
                bad.push(format!("{id}: {offer} suppressed at {t}"));
            }
            let day = t / DAY;
            let sends: Vec<u64> = cs.iter().filter(|c| c.4).map(|c| c.0 / DAY).collect();
            if sends.iter().any(|&d| d != day && d.abs_diff(day) < 2) {
                bad.push(format!("{id}: sends closer than 2 days around day {day}"));
            }
            for from in day.saturating_sub(6)..=day {
                let n = sends.iter().filter(|&&d| d >= from && d < from + 7).count();
                if n > 2 {
                    bad.push(format!("{id}: {n} sends in the week from day {from}"));
                }
            }
        }
    }
    bad
}

#[test]
fn two_weekly_plans_hold_every_cap_over_both_weeks_and_the_web() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let s = Setup { _tmp: tmp, dir: dir.clone() };
    let source = capped_bundle(&dir);
    keys::generate("b", Role::Bundle, &dir.join("keys")).unwrap();
    run(&["bundle", "build", "--key", &s.p("keys/b.key"), "--out", &s.p("capped.vbnd"), source.to_str().unwrap()]);
    run(&["demo", "seed", "--clients", &CLIENTS.to_string(), "--out", &s.p("clients.csv")]);
    run(&["features", "import", &s.p("clients.csv"), "--schema", source.to_str().unwrap(), "--db", &s.p("features.sqlite")]);
    let categories: BTreeMap<String, String> = {
        let bundle = std::fs::read(dir.join("capped.vbnd")).unwrap();
        let key = keys::load_public(&dir.join("keys/b.pub"), Role::Bundle).unwrap().bytes(&dir.join("keys/b.pub")).unwrap();
        let e = vitrine_engine::Engine::load(&bundle, &key).unwrap();
        e.bundle().offers.iter().map(|o| (o.id.clone(), o.category.clone())).collect()
    };
    // Every seventh client clicks in the evening (19:00), every eleventh at 23:00.
    let ids: Vec<String> = table(&dir.join("clients.csv")).into_iter().map(|r| r["client_id"].clone()).collect();
    let clicks: BTreeMap<String, u64> = ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| match (i % 7, i % 11) {
            (0, _) => Some((id.clone(), 19)),
            (_, 0) => Some((id.clone(), 23)),
            _ => None,
        })
        .collect();

    // Web views in the two weeks before the first plan (five for a third of the base).
    let clicks = web_views(&s, &[WEEK1 - 10 * DAY + 3600 * 9, WEEK1 - 8 * DAY, WEEK1 - 5 * DAY, WEEK1 - 3 * DAY, WEEK1 - DAY], &clicks);
    assert!(clicks.values().any(|&h| h == 23) && clicks.values().any(|&h| h == 19));
    let out = s.plan("2026-11-23", "week1", true);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let week1: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("week1/summary.json")).unwrap()).unwrap();
    assert!(week1["history_rows"].as_u64().unwrap() > CLIENTS as u64, "{week1}");
    // More web views during the first week.
    web_views(&s, &[WEEK1 + 2 * DAY, WEEK1 + 4 * DAY], &BTreeMap::new());
    // The second week, first without the history (a counterfactual, not logged), then with it.
    let blind = s.plan("2026-11-30", "week2-blind", false);
    assert!(blind.status.success(), "{}", String::from_utf8_lossy(&blind.stderr));
    let out = s.plan("2026-11-30", "week2", true);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let all = contacts(&s, &["week1", "week2"], &categories);
    for week in [WEEK1, WEEK1 + 7 * DAY] {
        let sends: usize = all.values().map(|c| c.iter().filter(|x| x.4 && (week..week + 7 * DAY).contains(&x.0)).count()).sum();
        assert!(sends > 100, "each plan sends: {sends} in the week from {week}");
    }
    let bad = violations(&all, &clicks);
    assert!(bad.is_empty(), "{} violations, e.g. {:?}", bad.len(), &bad[..bad.len().min(5)]);
    let blind_bad = violations(&contacts(&s, &["week1", "week2-blind"], &categories), &clicks);
    assert!(blind_bad.len() > 20, "without --history the second week breaks caps: {}", blind_bad.len());
    // The history reached the engine: its caps and suppression leave more clients without
    // an eligible offer than the blind plan.
    let summary =
        |p: &str| -> serde_json::Value { serde_json::from_slice(&std::fs::read(dir.join(p).join("summary.json")).unwrap()).unwrap() };
    let (week2, blind) = (summary("week2"), summary("week2-blind"));
    let none = |s: &serde_json::Value| s["uncontacted"]["no_eligible_offer"].as_u64().unwrap();
    assert!(none(&week2) > none(&blind) + 100, "{} vs {}", week2["uncontacted"], blind["uncontacted"]);

    // Send hours: a client's click hour, else the default (10:00); never in SMS quiet hours.
    for ch in ["email", "sms", "push"] {
        for r in table(&dir.join("week1").join(format!("{ch}.parquet"))) {
            let hour: u64 = r["send_hour"].parse().unwrap();
            let want = match (clicks.get(&r["client_id"]), ch) {
                (Some(23), "sms") => 8,
                (Some(&h), _) => h,
                (None, _) => 10,
            };
            assert_eq!(hour, want, "{ch} send hour of {}", r["client_id"]);
        }
    }
}
