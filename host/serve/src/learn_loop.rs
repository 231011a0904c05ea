//! The periodic learner inside `serve` (off unless configured): every interval, learn
//! from the feedback window, sign the next version and hot-swap it. With a feature store
//! (its snapshot ledger) it is the contextual learner of `vitrine learn`, champion/
//! challenger included; without one, Beta posteriors only.
use std::path::PathBuf;
use std::sync::Arc;

use vitrine_base::keys::{self, Role};
use vitrine_feedback::learn::Reward;
use vitrine_feedback::SqliteStore;

use crate::state::AppState;
use crate::ServeError;

/// The periodic `learn` task's settings.
#[derive(Debug, Clone)]
pub struct LearnLoop {
    /// Seconds between rounds.
    pub interval: u64,
    /// Seconds of feedback each round learns from.
    pub window: u64,
    /// Bundle-role secret key that signs learned versions.
    pub key: PathBuf,
    pub reward: Reward,
    /// Impressions an offer needs before its constant propensity is replaced by its
    /// posterior mean (both learners).
    pub min_impressions: u64,
    /// The feature store whose ledger the contextual learner joins (none: Beta only).
    pub features: Option<PathBuf>,
    /// Responses an offer needs before its learned model replaces Thompson sampling.
    pub maturity: u32,
    /// Seconds after a decision within which a click or conversion counts.
    pub response_window: u64,
}

/// Starts the loop on the current tokio runtime.
pub fn spawn(state: Arc<AppState>, l: LearnLoop) -> Result<(), ServeError> {
    let secret = Arc::new(keys::load_secret(&l.key, Role::Bundle)?);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(l.interval.max(1)));
        tick.tick().await;
        loop {
            tick.tick().await;
            let (state, l, secret) = (state.clone(), l.clone(), secret.clone());
            let done = tokio::task::spawn_blocking(move || learn_once(&state, &l, &secret)).await;
            match done {
                Ok(Ok(v)) => tracing::info!(version = v, "learned and deployed"),
                Ok(Err(e)) => tracing::warn!(error = %e, "periodic learning failed; the current bundle keeps serving"),
                Err(e) => tracing::warn!(error = %e, "periodic learning panicked"),
            }
        }
    });
    Ok(())
}

/// One round of the periodic learner: learn from the feedback window, sign, swap.
fn learn_once(state: &AppState, l: &LearnLoop, secret: &keys::Secret) -> Result<u64, String> {
    // The deployment kept the bundle it verified natively when it was deployed.
    let current = state.runtime.current();
    let bundle: &vitrine_engine::bundle::Bundle =
        current.facts.bundle.as_deref().ok_or("the serving deployment carries no verified bundle")?;
    let store = SqliteStore::open_reader(&state.feedback_path).map_err(|e| e.to_string())?;
    let now = vitrine_base::clock::now();
    let since = now.saturating_sub(l.window);
    let next = match &l.features {
        None => vitrine_feedback::learn::learn(bundle, &store, since, l.reward, l.min_impressions).map_err(|e| e.to_string())?.bundle,
        Some(path) => {
            let ledger = vitrine_store::FeatureStore::open_existing(path).map_err(|e| e.to_string())?;
            let settings = vitrine_learn::Settings {
                since,
                now,
                response_window: l.response_window,
                reward: l.reward,
                maturity: l.maturity,
                min_impressions: l.min_impressions,
                ..vitrine_learn::Settings::default()
            };
            let learned = vitrine_learn::learn(bundle, &store, &ledger, &settings).map_err(|e| e.to_string())?;
            for o in &learned.offers {
                tracing::info!(offer = %o.offer, maturity = ?o.maturity, responses = o.responses, train = o.train_rows, held_out = o.holdout_rows,
                    auc_before = ?o.auc_before, auc_after = ?o.auc_after, promoted = o.promoted, reason = %o.reason, "learn: offer");
            }
            tracing::info!(verdict = %learned.verdict, ledger = ?learned.ledger, "learn: round");
            learned.bundle
        }
    };
    let signed = vitrine_engine::bundle::envelope::sign(&next, &secret.kid, &secret.key).map_err(|e| e.to_string())?;
    let d = state.runtime.swap_bundle(signed).map_err(|e| e.to_string())?;
    state.metrics.bundle_version(d.version());
    Ok(d.version())
}
