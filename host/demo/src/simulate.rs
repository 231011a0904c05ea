//! `vitrine demo simulate`: visits by random demo clients through the host (and, if
//! given, the edge worker's `POST /decide`), clicks and conversions drawn from the hidden
//! truth, events posted back; prints the true uplift next to the measured one.
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};

use crate::world::{truth, Client, Rng};

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
    /// Expected share of decisions with a conversion, from the hidden truth.
    pub true_treated_rate: f64,
    pub true_holdout_rate: f64,
    pub true_uplift: f64,
    /// The host's measured uplift (treated − holdout conversion share), if any.
    pub measured_uplift: Option<f64>,
    pub measured_ci95: Option<(f64, f64)>,
}

/// Runs the simulation against a running host over `clients` (the seeded demo world).
pub fn simulate(clients: &[Client], o: &Options) -> Result<Summary, String> {
    let agent: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(10))).build().into();
    let mut rng = Rng::new(o.seed);
    let mut s = Summary::default();
    let mut snapshots: HashMap<usize, (String, Instant)> = HashMap::new();
    let (mut treated, mut holdout) = ((0.0, 0u64), (0.0, 0u64));
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
        let mut events = Vec::new();
        let mut p_none = 1.0;
        for slot in d["slots"].as_array().into_iter().flatten() {
            for offer in slot["offers"].as_array().into_iter().flatten() {
                let id = offer["offer"].as_str().unwrap_or_default();
                let (p_click, p_convert) = truth(c, id);
                p_none *= 1.0 - p_click * p_convert;
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
        match mode.as_str() {
            "personalised" => treated = (treated.0 + 1.0 - p_none, treated.1 + 1),
            "holdout" => holdout = (holdout.0 + 1.0 - p_none, holdout.1 + 1),
            _ => {}
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
    let rate = |(sum, n): (f64, u64)| if n == 0 { 0.0 } else { sum / n as f64 };
    s.true_treated_rate = rate(treated);
    s.true_holdout_rate = rate(holdout);
    s.true_uplift = s.true_treated_rate - s.true_holdout_rate;
    if let Ok(res) = agent.get(&format!("{}/v1/report", o.host)).call() {
        if let Ok(r) = res.into_body().read_json::<Value>() {
            let u = &r["uplift"]["conversion"];
            s.measured_uplift = u["absolute"].as_f64();
            s.measured_ci95 = u["absolute_ci95"]["low"].as_f64().zip(u["absolute_ci95"]["high"].as_f64());
        }
    }
    Ok(s)
}
