//! The exact true value of a bundle's policy on the demo world, without sampling noise:
//! for each client (the same clients and seeds for every bundle), the native engine
//! decides the home hero slot with exploration off (the greedy pick) and `explain` (the
//! offers that passed every gate); under ε-greedy the policy shows the greedy pick with
//! probability 1 − ε and a uniformly random candidate with probability ε, so its true
//! expected reward is `(1 − ε)·r(greedy) + ε·mean(r(candidates))`. The oracle shows the
//! candidate with the highest true reward. Every client is evaluated in the personalised
//! arm; those without profiling consent (the policy does not decide for them) are left
//! out of both.
use vitrine_engine::bundle::Bundle;
use vitrine_engine::decision::{ContextValue, DecideRequest, DropReason, Mode, SlotRequest};
use vitrine_engine::policy::Exploration;

use crate::day::{reward, SLOT};
use crate::world::Client;

/// A policy's exact value over a set of clients.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Evaluation {
    /// Personalised decisions evaluated.
    pub decisions: u64,
    /// True expected reward per decision of the policy (exploration included).
    pub value: f64,
    /// Of its greedy pick alone.
    pub greedy: f64,
    /// Of the oracle.
    pub oracle: f64,
}

/// Evaluates `bundle` on `clients` (index into the world, signed snapshot text) at `now`.
pub fn evaluate(bundle: &Bundle, clients: &[(&Client, String)], now: u64) -> Result<Evaluation, String> {
    let epsilon = match bundle.policy.exploration {
        Exploration::EpsilonGreedy { epsilon } => epsilon,
        Exploration::None => 0.0,
        Exploration::Softmax { .. } => return Err("exact evaluation needs ε-greedy or no exploration".into()),
    };
    let mut greedy_bundle = bundle.clone();
    greedy_bundle.policy.exploration = Exploration::None;
    // Every client in the personalised arm: subjects are salted per store, so arms differ
    // between the loop's states, and the evaluation must run on the same clients.
    greedy_bundle.policy.arms.bau = 0.0;
    greedy_bundle.policy.arms.no_contact = 0.0;
    let key = ed25519_dalek::SigningKey::from_bytes(&[0x6c; 32]);
    let bytes = vitrine_engine::bundle::envelope::sign(&greedy_bundle, "eval", &key).map_err(|e| e.to_string())?;
    let mut engine = vitrine_engine::Engine::load(&bytes, key.verifying_key().as_bytes()).map_err(|e| e.to_string())?;
    let mut e = Evaluation::default();
    for (i, (c, snapshot)) in clients.iter().enumerate() {
        let request = DecideRequest {
            snapshot: Some(snapshot.clone()),
            now,
            seed: i as u64,
            context: [("page".to_string(), ContextValue::Label("home".into()))].into(),
            slots: vec![SlotRequest { slot: SLOT.into(), k: None }],
            history: vec![],
            explain: true,
        };
        let resp = engine.decide(&request).map_err(|e| e.to_string())?;
        if resp.mode != Mode::Personalised {
            continue;
        }
        let Some(greedy) = resp.slots.first().and_then(|s| s.offers.first()) else { continue };
        let mut candidates = vec![greedy.offer.as_str()];
        candidates.extend(resp.explain.iter().flatten().filter(|d| d.reason == DropReason::Outranked).map(|d| d.offer.as_str()));
        let r: Vec<f64> = candidates.iter().map(|o| reward(c, o)).collect();
        let mean = r.iter().sum::<f64>() / r.len() as f64;
        e.decisions += 1;
        e.greedy += r[0];
        e.value += (1.0 - epsilon) * r[0] + epsilon * mean;
        e.oracle += r.iter().copied().fold(0.0, f64::max);
    }
    let n = e.decisions.max(1) as f64;
    Ok(Evaluation { decisions: e.decisions, value: e.value / n, greedy: e.greedy / n, oracle: e.oracle / n })
}
