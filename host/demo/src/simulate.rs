//! `vitrine demo simulate`: visits by random demo clients through the host (and, if
//! given, the edge worker's `POST /decide`), clicks and conversions drawn from the hidden
//! truth, events posted back; then every visited client's sales (organic ones included,
//! in every arm) through the sales API. Prints the true incremental sales per client next
//! to the measured ones.
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};

use crate::world::{truth, value, Client, Rng, OFFERS};

/// Simulation settings.
#[derive(Debug, Clone)]
pub struct Options {
    pub host: String,
    pub edge: Option<String>,
    pub api_key: String,
    /// Visits per second.
    pub rate: f64,
    pub duration: Duration,
    pub seed: u64,
}

/// What happened, and the truth to check the measurement against.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub visits: u64,
    pub edge_visits: u64,
    pub modes: BTreeMap<String, u64>,
    pub impressions: u64,
    pub clicks: u64,
    pub conversions: u64,
    pub errors: u64,
    /// Sales posted (every arm, organic ones included).
    pub sales: u64,
    /// Visited clients per arm.
    pub clients: BTreeMap<String, u64>,
    /// Expected sales per visited client of each arm, from the hidden truth and what each
    /// client was shown.
    pub true_sales_per_client: BTreeMap<String, f64>,
    /// Expected extra sales per `personalised` client its contacts caused (Σ uplift of
    /// the offers it was shown): what `personalised` vs `no_contact` estimates.
    pub true_incremental_per_client: f64,
    /// The host's measured `personalised` − `no_contact` sales per client, with its 95% CI.
    pub measured_vs_no_contact: Option<(f64, f64, f64)>,
    /// The host's measured `personalised` − `bau` sales per client, with its 95% CI.
    pub measured_vs_bau: Option<(f64, f64, f64)>,
}

/// Runs the simulation against a running host over `clients` (the seeded demo world).
pub fn simulate(clients: &[Client], o: &Options) -> Result<Summary, String> {
    let opts = o;
    let agent: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(10))).build().into();
    let mut rng = Rng::new(o.seed);
    let mut s = Summary::default();
    let mut snapshots: HashMap<usize, (String, Instant)> = HashMap::new();
    // Per visited client: its subject, arm, and the offers it was shown.
    let mut seen: BTreeMap<usize, (String, String, std::collections::BTreeSet<String>)> = BTreeMap::new();
    let started = Instant::now();
    let mut next = started;
    let mut event_no = 0u64;
    while started.elapsed() < o.duration {
        let now_i = Instant::now();
        if now_i < next {
            std::thread::sleep(next - now_i);
        }
        next += Duration::from_secs_f64(1.0 / o.rate.max(0.01));
        let i = rng.below(clients.len() as u64) as usize;
        let c = &clients[i];
        let snapshot = match snapshots.get(&i) {
            Some((snap, at)) if at.elapsed() < Duration::from_secs(1800) => snap.clone(),
            _ => {
                let res = agent
                    .get(&format!("{}/v1/snapshot/{}", o.host, c.id))
                    .header("Authorization", &format!("Bearer {}", o.api_key))
                    .call()
                    .map_err(|e| e.to_string())?;
                if res.status().as_u16() != 200 {
                    s.errors += 1;
                    continue;
                }
                let v: Value = res.into_body().read_json().map_err(|e| e.to_string())?;
                let snap = v["snapshot"].as_str().unwrap_or_default().to_string();
                snapshots.insert(i, (snap.clone(), Instant::now()));
                snap
            }
        };
        let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let request = json!({ "snapshot": snapshot, "now": at, "seed": rng.next_u64() >> 12, "context": { "page": "home" }, "slots": [{ "slot": "home_hero" }, { "slot": "offer_cards" }], "history": [] });
        let via_edge = o.edge.as_ref().filter(|_| rng.chance(0.5));
        let url = match via_edge {
            Some(edge) => format!("{edge}/decide"),
            None => format!("{}/v1/decide", o.host),
        };
        let res = agent.post(&url).send_json(&request).map_err(|e| e.to_string())?;
        if res.status().as_u16() != 200 {
            s.errors += 1;
            continue;
        }
        let d: Value = res.into_body().read_json().map_err(|e| e.to_string())?;
        s.visits += 1;
        s.edge_visits += u64::from(via_edge.is_some());
        let mode = d["mode"].as_str().unwrap_or("unknown").to_string();
        *s.modes.entry(mode.clone()).or_default() += 1;
        let decision = d["decision_id"].as_str().unwrap_or_default().to_string();
        let arm = d["record"]["arm"].as_str().unwrap_or("none").to_string();
        let subject = d["record"]["subject"].as_str().unwrap_or_default().to_string();
        let shown = &mut seen.entry(i).or_insert_with(|| (subject, arm, Default::default())).2;
        let mut events = Vec::new();
        for slot in d["slots"].as_array().into_iter().flatten() {
            for offer in slot["offers"].as_array().into_iter().flatten() {
                let id = offer["offer"].as_str().unwrap_or_default();
                shown.insert(id.to_string());
                let t = truth(c, id);
                let (p_click, p_convert) = (t.click, t.convert);
                let mut event = |kind: &str, value: Option<f64>| {
                    event_no += 1;
                    let mut e = json!({ "event_id": format!("sim-{}-{event_no}", o.seed), "decision_id": decision, "type": kind, "offer": id, "treatment": offer["treatment"], "slot": slot["slot"], "channel": slot["channel"], "at": at, "value": value });
                    if via_edge.is_some() {
                        // Decisions made at the edge travel with their record.
                        e["record"] = d["record"].clone();
                        e["selection_probability"] = offer["selection_probability"].clone();
                        e["rank"] = offer["rank"].clone();
                    }
                    events.push(e);
                };
                event("impression", None);
                s.impressions += 1;
                if rng.chance(p_click) {
                    event("click", None);
                    s.clicks += 1;
                    if rng.chance(p_convert) {
                        event("conversion", Some(offer["v"].as_f64().unwrap_or(10.0)));
                        s.conversions += 1;
                    }
                }
            }
        }
        // Edge decisions are logged with their record even when they showed nothing.
        let decisions = if via_edge.is_some() { vec![d["record"].clone()] } else { Vec::new() };
        if !events.is_empty() || !decisions.is_empty() {
            let res = agent
                .post(&format!("{}/v1/events", o.host))
                .send_json(json!({ "events": events, "decisions": decisions }))
                .map_err(|e| e.to_string())?;
            if res.status().as_u16() != 202 {
                s.errors += 1;
            }
        }
    }
    // Sales: every visited client, every offer, contacted or not (organic sales too).
    let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut expected: BTreeMap<String, (f64, u64)> = BTreeMap::new();
    let mut incremental = (0.0, 0u64);
    let mut sales = Vec::new();
    for (&i, (subject, arm, shown)) in &seen {
        let c = &clients[i];
        let mut sum = 0.0;
        for o in OFFERS {
            let t = truth(c, o);
            let contacted = shown.contains(o);
            let p = if contacted { t.treated } else { t.organic };
            sum += p;
            if arm == "personalised" && contacted {
                incremental.0 += t.uplift();
            }
            if rng.chance(p) {
                event_no += 1;
                sales.push(json!({ "event_id": format!("sim-{}-{event_no}", opts.seed), "type": "sale", "subject": subject, "offer": o, "value": value(o), "at": at }));
            }
        }
        let e = expected.entry(arm.clone()).or_default();
        e.0 += sum;
        e.1 += 1;
        incremental.1 += u64::from(arm == "personalised");
    }
    for chunk in sales.chunks(1000) {
        let res = agent.post(&format!("{}/v1/events", o.host)).send_json(json!({ "events": chunk })).map_err(|e| e.to_string())?;
        if res.status().as_u16() != 202 {
            s.errors += 1;
        }
    }
    s.sales = sales.len() as u64;
    s.clients = expected.iter().map(|(k, v)| (k.clone(), v.1)).collect();
    s.true_sales_per_client = expected.into_iter().map(|(k, (sum, n))| (k, sum / n.max(1) as f64)).collect();
    s.true_incremental_per_client = incremental.0 / incremental.1.max(1) as f64;
    if let Ok(res) = agent.get(&format!("{}/v1/report", o.host)).call() {
        if let Ok(r) = res.into_body().read_json::<Value>() {
            let lift = |c: &Value| {
                let l = &c["sales_per_client"];
                Some((l["absolute"].as_f64()?, l["absolute_ci95"]["low"].as_f64()?, l["absolute_ci95"]["high"].as_f64()?))
            };
            s.measured_vs_no_contact = lift(&r["arms"]["vs_no_contact"]);
            s.measured_vs_bau = lift(&r["arms"]["vs_bau"]);
        }
    }
    Ok(s)
}
