//! One day of a closed loop (`vitrine demo loop`): visits by random demo clients to the
//! home page's hero slot, through the real server (or, for a share of them, the edge
//! worker), as fast as the host answers; clicks and conversions drawn from the hidden
//! truth and posted back. For every personalised decision it scores, from the truth, the
//! offer shown and the best offer the engine could have shown (the oracle: among the
//! offers that passed every gate for this client, `explain` says which), so the policy's
//! true expected reward, the oracle's and the regret come out of the same visits.
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};

use crate::world::{truth, value, Client, Rng};

/// The slot a loop day decides.
pub const SLOT: &str = "home_hero";

/// The true expected reward of showing `offer` to `c`: P(click) × P(conversion | click) × V.
pub fn reward(c: &Client, offer: &str) -> f64 {
    let t = truth(c, offer);
    t.click * t.convert * value(offer)
}

/// Settings of one day.
#[derive(Debug, Clone)]
pub struct DayOptions {
    pub host: String,
    /// The edge worker's base URL: every other visit decides there.
    pub edge: Option<String>,
    pub api_key: String,
    pub visits: u64,
    pub seed: u64,
}

/// What one day measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Day {
    pub visits: u64,
    pub edge_visits: u64,
    pub modes: BTreeMap<String, u64>,
    pub errors: u64,
    pub clicks: u64,
    pub conversions: u64,
    /// Personalised decisions, and the sums of their true and oracle rewards.
    pub personalised: u64,
    pub reward_sum: f64,
    pub oracle_sum: f64,
    /// (client index, snapshot hash) of the personalised decisions: the clients the truth
    /// checks of learned models run on.
    #[serde(skip)]
    pub seen: Vec<(usize, String)>,
}

impl Day {
    /// True expected reward per personalised decision.
    pub fn reward(&self) -> f64 {
        self.reward_sum / self.personalised.max(1) as f64
    }
    /// The oracle's.
    pub fn oracle(&self) -> f64 {
        self.oracle_sum / self.personalised.max(1) as f64
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Runs one day against a running host.
pub fn day(clients: &[Client], o: &DayOptions) -> Result<Day, String> {
    let agent: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(10))).build().into();
    let mut rng = Rng::new(o.seed);
    let mut d = Day::default();
    let mut snapshots: HashMap<usize, String> = HashMap::new();
    let mut event_no = 0u64;
    let mut events: Vec<Value> = Vec::new();
    let mut decisions: Vec<Value> = Vec::new();
    for v in 0..o.visits {
        let i = rng.below(clients.len() as u64) as usize;
        let c = &clients[i];
        let snapshot = match snapshots.get(&i) {
            Some(s) => s.clone(),
            None => {
                let res = agent
                    .get(&format!("{}/v1/snapshot/{}", o.host, c.id))
                    .header("Authorization", &format!("Bearer {}", o.api_key))
                    .call()
                    .map_err(|e| e.to_string())?;
                if res.status().as_u16() != 200 {
                    d.errors += 1;
                    continue;
                }
                let body: Value = res.into_body().read_json().map_err(|e| e.to_string())?;
                let s = body["snapshot"].as_str().unwrap_or_default().to_string();
                snapshots.insert(i, s.clone());
                s
            }
        };
        let at = unix_now();
        let request = json!({ "snapshot": snapshot, "now": at, "seed": rng.next_u64() >> 12, "context": { "page": "home" }, "slots": [{ "slot": SLOT }], "history": [], "explain": true });
        let via_edge = o.edge.as_ref().filter(|_| v % 2 == 1);
        let url = match via_edge {
            Some(edge) => format!("{edge}/decide"),
            None => format!("{}/v1/decide", o.host),
        };
        let res = agent.post(&url).send_json(&request).map_err(|e| e.to_string())?;
        if res.status().as_u16() != 200 {
            d.errors += 1;
            continue;
        }
        let r: Value = res.into_body().read_json().map_err(|e| e.to_string())?;
        d.visits += 1;
        d.edge_visits += u64::from(via_edge.is_some());
        let mode = r["mode"].as_str().unwrap_or("unknown").to_string();
        *d.modes.entry(mode.clone()).or_default() += 1;
        let decision = r["decision_id"].as_str().unwrap_or_default().to_string();
        let shown: Vec<&Value> =
            r["slots"].as_array().into_iter().flatten().flat_map(|s| s["offers"].as_array().into_iter().flatten()).collect();
        if mode == "personalised" {
            let mut candidates: Vec<&str> = shown.iter().filter_map(|x| x["offer"].as_str()).collect();
            candidates.extend(
                r["explain"].as_array().into_iter().flatten().filter(|x| x["reason"] == "outranked").filter_map(|x| x["offer"].as_str()),
            );
            d.personalised += 1;
            d.reward_sum += shown.iter().filter_map(|x| x["offer"].as_str()).map(|id| reward(c, id)).sum::<f64>();
            d.oracle_sum += candidates.iter().map(|id| reward(c, id)).fold(0.0, f64::max);
            if let Some(h) = r["record"]["snapshot_hash"].as_str() {
                d.seen.push((i, h.to_string()));
            }
        }
        let record = r["record"].clone();
        for offer in &shown {
            let id = offer["offer"].as_str().unwrap_or_default();
            let t = truth(c, id);
            let mut event = |kind: &str, value: Option<f64>| {
                event_no += 1;
                let mut e = json!({ "event_id": format!("loop-{}-{event_no}", o.seed), "decision_id": decision, "type": kind, "offer": id, "treatment": offer["treatment"], "slot": SLOT, "channel": "web", "at": at, "value": value });
                if via_edge.is_some() {
                    e["record"] = record.clone();
                    e["selection_probability"] = offer["selection_probability"].clone();
                    e["rank"] = offer["rank"].clone();
                }
                events.push(e);
            };
            event("impression", None);
            if rng.chance(t.click) {
                event("click", None);
                d.clicks += 1;
                if rng.chance(t.convert) {
                    event("conversion", Some(value(id)));
                    d.conversions += 1;
                }
            }
        }
        if via_edge.is_some() {
            decisions.push(record);
        }
        if events.len() >= 500 || decisions.len() >= 200 {
            flush(&agent, &o.host, &mut events, &mut decisions, &mut d)?;
        }
    }
    flush(&agent, &o.host, &mut events, &mut decisions, &mut d)?;
    Ok(d)
}

fn flush(agent: &ureq::Agent, host: &str, events: &mut Vec<Value>, decisions: &mut Vec<Value>, d: &mut Day) -> Result<(), String> {
    if events.is_empty() && decisions.is_empty() {
        return Ok(());
    }
    let res = agent
        .post(&format!("{host}/v1/events"))
        .send_json(json!({ "events": std::mem::take(events), "decisions": std::mem::take(decisions) }))
        .map_err(|e| e.to_string())?;
    if res.status().as_u16() != 202 {
        d.errors += 1;
    }
    Ok(())
}
