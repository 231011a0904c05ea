//! Champion / challenger: a candidate replaces the current bundle only if its policy,
//! replayed on held-out logged decisions, is not worse by the doubly-robust estimate
//! beyond the estimate's 95% bootstrap interval. (Per offer, the learner has already
//! required a held-out AUC that is not worse.)
use std::sync::Mutex;

use vitrine_engine::bundle::Bundle;
use vitrine_engine::decision::DecideResponse;
use vitrine_engine::ErrorBody;
use vitrine_feedback::learn::{ReplayReport, Samples};
use vitrine_feedback::measure::ope::OffPolicy;
use vitrine_feedback::FeedbackRead;

use crate::{LearnError, Settings};

/// Whether a decision is held out of fitting: a fixed function of its id (FNV-1a), so
/// the same decision is held out in every round.
pub fn held_out(decision_id: &str, percent: u32) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in decision_id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (h % 100) < u64::from(percent)
}

/// Replays the held-out logged server decisions through each of `bundles` with the
/// native core (the code every runtime runs), signed with a throwaway key that never
/// leaves the process. One pass over the log: each request is parsed once and decided by
/// every bundle.
///
/// `incremental` gives an uplift-scored offer's sample its incremental reward (see
/// [`vitrine_feedback::learn::Samples`]).
pub fn replay(
    bundles: &[&Bundle],
    feedback: &dyn FeedbackRead,
    s: &Settings,
    incremental: &dyn Fn(&str, &str) -> Option<f64>,
) -> Result<Vec<ReplayReport>, LearnError> {
    let key = ed25519_dalek::SigningKey::from_bytes(&[0x5e; 32]);
    let signed: Vec<Vec<u8>> =
        bundles.iter().map(|b| vitrine_engine::bundle::envelope::sign(b, "replay", &key)).collect::<Result<_, _>>()?;
    // One set of engines per worker thread (the replay decides on every core).
    let load = || -> Result<Vec<vitrine_engine::Engine>, vitrine_engine::Error> {
        signed.iter().map(|bytes| vitrine_engine::Engine::load(bytes, key.verifying_key().as_bytes())).collect()
    };
    let workers = rayon::current_num_threads().max(1);
    let pool: Vec<Mutex<Vec<vitrine_engine::Engine>>> = (0..workers).map(|_| load().map(Mutex::new)).collect::<Result<_, _>>()?;
    let decide = |request: &[u8]| -> Result<Vec<Result<DecideResponse, ErrorBody>>, std::convert::Infallible> {
        let parsed = vitrine_engine::api::parse_request(request);
        let slot = rayon::current_thread_index().unwrap_or(0) % pool.len();
        let mut engines = pool[slot].lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(engines
            .iter_mut()
            .map(|e| match &parsed {
                Ok(r) => e.decide(r).map_err(|e| e.body()),
                Err(err) => Err(err.body()),
            })
            .collect())
    };
    let percent = s.holdout_percent;
    let versions: Vec<u64> = bundles.iter().map(|b| b.version).collect();
    let samples = Samples { since: s.since, keep: &|d| held_out(d, percent), reward: s.reward, incremental };
    Ok(vitrine_feedback::learn::replay_each(decide, &versions, feedback, samples, s.resamples)?)
}

/// `Ok(why)` to promote the candidate, `Err(why)` to keep the current bundle.
pub fn verdict(current: Option<&OffPolicy>, candidate: Option<&OffPolicy>) -> Result<String, String> {
    match (current, candidate) {
        (Some(c), Some(k)) if k.dr.ci95.high < c.dr.value => Err(format!(
            "not promoted: the candidate's doubly-robust estimate {:.5} [{:.5}, {:.5}] is below the current policy's {:.5} beyond its CI",
            k.dr.value, k.dr.ci95.low, k.dr.ci95.high, c.dr.value
        )),
        (Some(c), Some(k)) => Ok(format!(
            "promoted: doubly-robust estimate {:.5} [{:.5}, {:.5}] vs the current policy's {:.5} [{:.5}, {:.5}]",
            k.dr.value, k.dr.ci95.low, k.dr.ci95.high, c.dr.value, c.dr.ci95.low, c.dr.ci95.high
        )),
        _ => Err("not promoted: no held-out logged server decision to estimate the policy on".into()),
    }
}
