//! Replays logged server decisions (their exact requests: same snapshot, `now` and seed)
//! through a candidate bundle's engine and estimates the candidate's value off-policy.
//!
//! Per decision and slot the logged action is the rank-1 offer with its logged selection
//! probability; the reward is whether it got a click (or conversion). The candidate's
//! probability of that action is its own selection probability when its rank-1 pick is
//! the same offer and 0 otherwise (a projection that is exact for a candidate without
//! exploration). The reward model for doubly robust is the per-offer mean reward in the
//! logged data.
use std::collections::BTreeMap;

use rusqlite::{params, Connection};
use serde::Serialize;
use vitrine_engine::decision::DecideResponse;

use super::{LearnError, Reward};
use crate::measure::ope::{evaluate, Logged, OffPolicy};
use crate::runtime::Runtime;

/// What `vitrine replay` prints.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayReport {
    pub reward: Reward,
    /// Logged decisions since the start time.
    pub decisions: usize,
    /// Decisions made elsewhere (edge, browser): no request to replay.
    pub skipped: usize,
    /// (decision, slot) pairs evaluated.
    pub samples: usize,
    /// Share of samples where the candidate's first pick equals the logged one.
    pub agreement: f64,
    pub candidate_version: u64,
    pub estimates: Option<OffPolicy>,
}

/// A logged sample, its reward and the candidate's first pick (offer, probability).
type Replayed = (Sample, f64, Option<(String, f64)>);

struct Sample {
    decision: String,
    slot: String,
    offer: String,
    probability: f64,
}

/// Replays decisions logged at or after `since` through `candidate`.
pub fn replay(candidate: &Runtime, feedback: &Connection, since: u64, reward: Reward, resamples: usize) -> Result<ReplayReport, LearnError> {
    let mut decisions = feedback.prepare("SELECT decision_id, request FROM decisions WHERE at >= ?1 ORDER BY at, decision_id")?;
    let rows: Vec<(String, Option<String>)> = decisions.query_map(params![since as i64], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    let mut shown = feedback.prepare("SELECT slot, offer, selection_probability FROM shown WHERE decision_id = ?1 AND rank = 1 ORDER BY slot")?;
    let mut rewarded = feedback.prepare("SELECT EXISTS (SELECT 1 FROM events WHERE decision_id = ?1 AND offer = ?2 AND kind = ?3)")?;
    let mut samples: Vec<Replayed> = Vec::new();
    let mut skipped = 0;
    for (decision, request) in &rows {
        let Some(request) = request else {
            skipped += 1;
            continue;
        };
        let logged: Vec<Sample> = shown
            .query_map([decision], |r| Ok(Sample { decision: decision.clone(), slot: r.get(0)?, offer: r.get(1)?, probability: r.get(2)? }))?
            .collect::<Result<_, _>>()?;
        let (out, _) = candidate.decide(request.as_bytes())?;
        let picks: BTreeMap<String, (String, f64)> = match serde_json::from_slice::<DecideResponse>(&out) {
            Ok(resp) => resp.slots.into_iter().filter_map(|s| s.offers.into_iter().next().map(|o| (s.slot, (o.offer, o.selection_probability)))).collect(),
            // The candidate refuses the request (e.g. a slot it no longer has): it shows nothing.
            Err(_) => BTreeMap::new(),
        };
        for s in logged {
            let r = f64::from(u8::from(rewarded.query_row(params![s.decision, s.offer, reward.kind()], |r| r.get::<_, bool>(0))?));
            let pick = picks.get(&s.slot).cloned();
            samples.push((s, r, pick));
        }
    }
    // Reward model: mean logged reward per offer (overall mean for unseen offers).
    let mut by_offer: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for (s, r, _) in &samples {
        let e = by_offer.entry(s.offer.as_str()).or_default();
        e.0 += r;
        e.1 += 1.0;
    }
    let overall = if samples.is_empty() { 0.0 } else { samples.iter().map(|(_, r, _)| r).sum::<f64>() / samples.len() as f64 };
    let q = |offer: &str| by_offer.get(offer).map_or(overall, |(sum, n)| sum / n);
    let mut agree = 0usize;
    let logged: Vec<Logged> = samples
        .iter()
        .map(|(s, r, pick)| {
            let target = match pick {
                Some((offer, p)) if *offer == s.offer => {
                    agree += 1;
                    *p
                }
                _ => 0.0,
            };
            Logged { reward: *r, logged_probability: s.probability, target_probability: target, q_logged: q(&s.offer), q_target: pick.as_ref().map_or(0.0, |(o, _)| q(o)) }
        })
        .collect();
    let estimates = evaluate(&logged, resamples, 7)?;
    Ok(ReplayReport {
        reward,
        decisions: rows.len(),
        skipped,
        samples: logged.len(),
        agreement: if logged.is_empty() { 0.0 } else { agree as f64 / logged.len() as f64 },
        candidate_version: candidate.current().version(),
        estimates,
    })
}
