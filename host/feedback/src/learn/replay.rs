//! Replays logged server decisions (their exact requests: same snapshot, `now` and seed)
//! through a candidate bundle's engine and estimates the candidate's value off-policy.
//!
//! Per decision and slot the logged action is the rank-1 offer with its logged selection
//! probability; the reward is whether it got a click (or conversion). The candidate's
//! probability of that action is its own selection probability when its rank-1 pick is
//! the same offer and 0 otherwise (a projection that is exact for a candidate without
//! exploration). The reward model for doubly robust is the per-offer mean reward in the
//! logged data.
use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;

use serde::Serialize;
use vitrine_engine::decision::DecideResponse;
use vitrine_engine::ErrorBody;

use super::{LearnError, Reward};
use crate::measure::ope::{evaluate, Logged, OffPolicy};
use crate::FeedbackRead;

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

/// A logged sample and its reward.
struct Sample {
    decision_index: usize,
    slot: String,
    offer: String,
    probability: f64,
    reward: f64,
}

/// A candidate's first pick per slot of one decision (offer, probability).
type Picks = BTreeMap<String, (String, f64)>;

/// Replays decisions logged at or after `since` (and for which `keep(decision_id)`)
/// through `candidate`.
///
/// `decide` is the candidate: it takes a logged request (JSON) and returns the candidate's
/// typed reply, its response or the core's error (`Err` from `decide` itself aborts the
/// replay: the candidate could not run); `candidate_version` is its bundle version. The
/// host passes its Wasmtime runtime here.
pub fn replay<D, E>(
    decide: D,
    candidate_version: u64,
    feedback: &dyn FeedbackRead,
    since: u64,
    keep: &dyn Fn(&str) -> bool,
    reward: Reward,
    resamples: usize,
) -> Result<ReplayReport, LearnError>
where
    D: Fn(&[u8]) -> Result<Result<DecideResponse, ErrorBody>, E> + Sync,
    E: std::fmt::Display,
{
    let mut reports = replay_each(
        |request| decide(request).map(|r| vec![r]),
        &[candidate_version],
        feedback,
        Samples { since, keep, reward, incremental: &|_, _| None },
        resamples,
    )?;
    Ok(reports.remove(0))
}

/// Which logged samples a replay reads, and their rewards.
pub struct Samples<'a> {
    /// Decisions logged at or after this time, whose id `keep` accepts.
    pub since: u64,
    pub keep: &'a dyn Fn(&str) -> bool,
    pub reward: Reward,
    /// A sample's reward in place of `reward`'s, by (decision id, offer): the learner
    /// gives an uplift-scored offer's incremental outcome here (sold − the predicted
    /// P(sale | not contacted)), so a policy that stops contacting clients who buy anyway
    /// is not scored as losing their sales.
    pub incremental: &'a dyn Fn(&str, &str) -> Option<f64>,
}

impl std::fmt::Debug for Samples<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Samples").field("since", &self.since).field("reward", &self.reward).finish_non_exhaustive()
    }
}

/// [`replay`] for several candidates at once, over one pass of the log: `decide` returns
/// one reply per candidate (in the order of `versions`), so the logged requests, their
/// first picks and rewards are read once however many candidates are compared.
pub fn replay_each<D, E>(
    decide: D,
    versions: &[u64],
    feedback: &dyn FeedbackRead,
    samples_of: Samples,
    resamples: usize,
) -> Result<Vec<ReplayReport>, LearnError>
where
    D: Fn(&[u8]) -> Result<Vec<Result<DecideResponse, ErrorBody>>, E> + Sync,
    E: std::fmt::Display,
{
    if versions.is_empty() {
        return Ok(Vec::new());
    }
    let Samples { since, keep, reward, incremental } = samples_of;
    let rows = feedback.logged_requests(since, keep)?;
    // The logged picks and rewards in two reads, not two per decision.
    let first = feedback.first_picks(since)?;
    let mut picks_of: HashMap<&str, Vec<&crate::FirstPick>> = HashMap::new();
    for p in &first {
        picks_of.entry(p.decision_id.as_str()).or_default().push(p);
    }
    let rewarded_pairs = feedback.rewarded(since, reward.kind())?;
    let rewarded: HashSet<(&str, &str)> = rewarded_pairs.iter().map(|(d, o)| (d.as_str(), o.as_str())).collect();
    let replayable: Vec<(&str, &str)> = rows.iter().filter_map(|r| r.request.as_deref().map(|q| (r.decision_id.as_str(), q))).collect();
    let skipped = rows.len() - replayable.len();
    let mut samples: Vec<Sample> = Vec::new();
    for (index, (decision, _)) in replayable.iter().enumerate() {
        for p in picks_of.get(decision).into_iter().flatten() {
            let r = match incremental(decision, &p.offer) {
                Some(r) => r,
                None => f64::from(u8::from(rewarded.contains(&(*decision, p.offer.as_str())))),
            };
            samples.push(Sample {
                decision_index: index,
                slot: p.slot.clone(),
                offer: p.offer.clone(),
                probability: p.selection_probability,
                reward: r,
            });
        }
    }
    // Every candidate decides every logged request, on every core; only the first pick
    // per slot is kept of each reply.
    let decided: Vec<Result<Vec<Picks>, LearnError>> = replayable
        .par_iter()
        .map(|(_, request)| {
            let replies = decide(request.as_bytes()).map_err(|e| LearnError::Candidate(e.to_string()))?;
            if replies.len() != versions.len() {
                return Err(LearnError::Candidate(format!("{} replies for {} candidates", replies.len(), versions.len())));
            }
            Ok(replies
                .into_iter()
                .map(|reply| match reply {
                    Ok(resp) => resp
                        .slots
                        .into_iter()
                        .filter_map(|s| s.offers.into_iter().next().map(|o| (s.slot, (o.offer, o.selection_probability))))
                        .collect(),
                    // The candidate refuses the request (e.g. a slot it no longer has): it shows nothing.
                    Err(_) => BTreeMap::new(),
                })
                .collect())
        })
        .collect();
    let mut picks: Vec<Vec<Picks>> = vec![Vec::with_capacity(replayable.len()); versions.len()];
    for d in decided {
        for (reply, out) in d?.into_iter().zip(&mut picks) {
            out.push(reply);
        }
    }
    // Reward model: mean logged reward per offer (overall mean for unseen offers).
    let mut by_offer: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for s in &samples {
        let e = by_offer.entry(s.offer.as_str()).or_default();
        e.0 += s.reward;
        e.1 += 1.0;
    }
    let overall = if samples.is_empty() { 0.0 } else { samples.iter().map(|s| s.reward).sum::<f64>() / samples.len() as f64 };
    let q = |offer: &str| by_offer.get(offer).map_or(overall, |(sum, n)| sum / n);
    let mut reports = Vec::with_capacity(versions.len());
    for (version, picks) in versions.iter().zip(&picks) {
        let mut agree = 0usize;
        let logged: Vec<Logged> = samples
            .iter()
            .map(|s| {
                let pick = picks[s.decision_index].get(&s.slot);
                let target = match pick {
                    Some((offer, p)) if *offer == s.offer => {
                        agree += 1;
                        *p
                    }
                    _ => 0.0,
                };
                Logged {
                    reward: s.reward,
                    logged_probability: s.probability,
                    target_probability: target,
                    q_logged: q(&s.offer),
                    q_target: pick.map_or(0.0, |(o, _)| q(o)),
                }
            })
            .collect();
        let estimates = evaluate(&logged, resamples, 7)?;
        reports.push(ReplayReport {
            reward,
            decisions: rows.len(),
            skipped,
            samples: logged.len(),
            agreement: if logged.is_empty() { 0.0 } else { agree as f64 / logged.len() as f64 },
            candidate_version: *version,
            estimates,
        });
    }
    Ok(reports)
}
