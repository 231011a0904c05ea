//! One learning round: the current bundle and its feedback → the next bundle version.
use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::Serialize;
use vitrine_engine::bundle::{Bundle, Offer, Propensity, Score};
use vitrine_engine::models::{Body, Model, Post, Scratch};
use vitrine_engine::snapshot::CONSENT_PROFILING;
use vitrine_feedback::learn::Reward;
use vitrine_feedback::measure::ope::OffPolicy;
use vitrine_feedback::report::Range;
use vitrine_feedback::training::{self, Outcome};
use vitrine_feedback::FeedbackRead;
use vitrine_store::FeatureStore;

use crate::auc::weighted_auc;
use crate::design::Design;
use crate::fit::{fit, FitOptions};
use crate::gate::{effective_rows, holm, improvement_z, log_loss, p_value, FAMILY_WISE_ALPHA};
use crate::join::{join, Joined};
use crate::{challenger, models, LearnError};

/// How training rows are weighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Weighting {
    /// Every shown offer counts once.
    None,
    /// By the inverse of its logged selection probability (capped at 100), so the rows
    /// stand for every client the offer could have been shown to.
    Ips,
}

/// Where an offer is on the maturity ramp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Maturity {
    /// Fewer responses than the bundle's `maturity`: Thompson sampling on its Beta posterior.
    Learning,
    /// Enough responses: its model (learned or given) scores it.
    Mature,
}

/// A round's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Decisions at or after this unix time.
    pub since: u64,
    /// Outcomes as of this time (windows still open at `now` are not outcomes yet).
    pub now: u64,
    /// Clicks and conversions count within this long after the decision.
    pub response_window: u64,
    pub reward: Reward,
    /// Responses an offer needs before a learned model replaces Thompson sampling.
    pub maturity: u32,
    pub weighting: Weighting,
    pub fit: FitOptions,
    /// Percent of decisions held out (by a hash of the decision id) for the champion/challenger test.
    pub holdout_percent: u32,
    /// Bootstrap resamples for the off-policy confidence intervals.
    pub resamples: usize,
    /// Impressions before a constant propensity is replaced by its posterior mean.
    pub min_impressions: u64,
    /// The held-out gate's inverse-propensity weights are clipped at this (clipped IPS:
    /// an explored row stands for at most this many clients, so a handful of them cannot
    /// decide a comparison on their own).
    pub max_weight: f64,
    /// Held-out rows an offer's comparison needs, counted as the effective sample size of
    /// their weights (`(Σw)² / Σw²`).
    pub min_effective_rows: f64,
}

impl Settings {
    /// The gate's settings are numbers a round cannot run without: refused, never clamped.
    pub fn check(&self) -> Result<(), LearnError> {
        let bad = |name, expected, value| Err(LearnError::Setting { name, expected, value });
        if !(self.max_weight.is_finite() && self.max_weight >= 1.0) {
            return bad("max_weight", "a finite number ≥ 1 (a row's weight is 1 / its selection probability)", self.max_weight);
        }
        if !(self.min_effective_rows.is_finite() && self.min_effective_rows >= 0.0) {
            return bad("min_effective_rows", "a finite number ≥ 0", self.min_effective_rows);
        }
        Ok(())
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            since: 0,
            now: 0,
            response_window: 86_400,
            reward: Reward::Conversion,
            maturity: 20,
            weighting: Weighting::None,
            fit: FitOptions::default(),
            holdout_percent: 20,
            resamples: 500,
            min_impressions: 100,
            max_weight: 10.0,
            min_effective_rows: 100.0,
        }
    }
}

/// What the round decided for one offer.
#[derive(Debug, Clone, Serialize)]
pub struct OfferReport {
    pub offer: String,
    pub maturity: Maturity,
    /// Impressions and responses since `since` (the Beta posterior's counts).
    pub impressions: u64,
    pub responses: u64,
    /// Labelled shown rows with features: for fitting, and held out.
    pub train_rows: usize,
    pub holdout_rows: usize,
    /// Held-out AUC of what the next bundle would serve without a promotion and of the
    /// fitted model, rows weighted by their inverse logged selection probability.
    pub auc_before: Option<f64>,
    pub auc_after: Option<f64>,
    /// Held-out mean log-loss of the same two, weighted the same way.
    pub log_loss_before: Option<f64>,
    pub log_loss_after: Option<f64>,
    /// The effective number of held-out rows under their (clipped) weights.
    pub effective_rows: Option<f64>,
    /// The paired z statistic of the log-loss improvement.
    pub log_loss_z: Option<f64>,
    /// Its one-sided p-value, and the level Holm's step-down procedure held it to (5%
    /// family-wise over the offers compared this round); promotion needs `p ≤ level`.
    pub p_value: Option<f64>,
    pub p_needed: Option<f64>,
    pub iterations: Option<u64>,
    pub promoted: bool,
    pub reason: String,
}

/// The next bundle and everything that went into it.
#[derive(Debug, Clone, Serialize)]
pub struct Learned {
    #[serde(skip)]
    pub bundle: Bundle,
    pub version: u64,
    pub offers: Vec<OfferReport>,
    /// Training rows by how their features were found (`found`, `miss`, `schema_changed`, `no_snapshot`).
    pub ledger: BTreeMap<&'static str, u64>,
    /// Rows left out because the client had not consented to profiling.
    pub no_profiling_consent: u64,
    /// Off-policy estimates on the held-out logged decisions: the bundle without the
    /// promotions, and with them (when any offer was promoted on AUC).
    pub current: Option<OffPolicy>,
    pub candidate: Option<OffPolicy>,
    /// The champion/challenger verdict on the whole candidate.
    pub verdict: String,
    /// Seconds each stage took: `posteriors`, `rows` (training rows with their outcomes),
    /// `join` (the ledger), `fit` (every offer's fit and held-out comparison), `replay`
    /// (both policies on the held-out logged decisions).
    pub seconds: BTreeMap<&'static str, f64>,
}

fn outcome(reward: Reward) -> Outcome {
    match reward {
        Reward::Click => Outcome::Click,
        Reward::Conversion => Outcome::Conversion,
    }
}

/// Held-out responses an offer needs before two of its models are compared.
pub const MIN_HELD_OUT_POSITIVES: usize = 5;

/// A row's inverse-propensity weight: 1 / its logged selection probability (at most 100).
fn ipw(j: &Joined) -> f64 {
    1.0 / j.row.offer.selection_probability.unwrap_or(1.0).clamp(0.01, 1.0)
}

/// What `bundle` serves as offer `i`'s propensity for a feature row: the mean of its
/// Beta posterior while it is on Thompson sampling (the mean of the draws), else its
/// score; `None` for an uplift-scored offer.
pub fn served_propensity(bundle: &Bundle, i: usize, features: &[f32], scratch: &mut Scratch) -> Option<f64> {
    let cold = bundle.posteriors.iter().find(|p| p.offer as usize == i && p.observations < bundle.policy.thompson.cold_below);
    match cold {
        Some(p) => Some(f64::from(p.alpha) / f64::from(p.alpha + p.beta)),
        None => current_score(bundle, i, features, scratch),
    }
}

/// The current score of offer `i` on a feature row, when it is a propensity.
fn current_score(bundle: &Bundle, i: usize, features: &[f32], scratch: &mut Scratch) -> Option<f64> {
    match &bundle.offers[i].score {
        Score::Propensity(Propensity::Constant(p)) => Some(f64::from(*p)),
        Score::Propensity(Propensity::Model { model, output }) => {
            let m = bundle.models.get(*model as usize)?;
            let mut out = vec![0.0; m.n_outputs as usize];
            m.score(features, &[], scratch, &mut out);
            out.get(*output as usize).map(|p| f64::from(*p))
        }
        Score::Uplift(_) => None,
    }
}

/// A fitted model compared with the champion on the held-out rows.
struct Compared {
    /// The offer's index, in the bundle and in the round's reports.
    offer: usize,
    model: Model,
    /// Held-out AUC not worse and log-loss not higher.
    better: bool,
}

/// A training row with its features and label.
type Usable<'a> = (&'a Joined, Vec<f32>, bool);

/// What every offer's fit reads (shared by the offers fitted in parallel).
struct Shared<'a> {
    s: &'a Settings,
    counts: &'a BTreeMap<String, (u64, u64)>,
    /// The usable rows (shown, labelled, features found, consented) of each offer.
    by_offer: &'a HashMap<&'a str, Vec<&'a Usable<'a>>>,
    design: &'a Design,
    /// The next bundle without promotions: the champion.
    next: &'a Bundle,
}

/// One offer's round: its report, and its fitted challenger when it was compared.
fn fit_offer(shared: &Shared, i: usize, offer: &Offer) -> (OfferReport, Option<Compared>) {
    let Shared { s, counts, by_offer, design, next } = *shared;
    let d = design.width();
    let mut scratch = Scratch::default();
    let mut challenger = None;
    let (impressions, responses) = counts.get(&offer.id).copied().unwrap_or((0, 0));
    let mut r = OfferReport {
        offer: offer.id.clone(),
        maturity: if responses >= u64::from(s.maturity) { Maturity::Mature } else { Maturity::Learning },
        impressions,
        responses,
        train_rows: 0,
        holdout_rows: 0,
        auc_before: None,
        auc_after: None,
        log_loss_before: None,
        log_loss_after: None,
        effective_rows: None,
        log_loss_z: None,
        p_value: None,
        p_needed: None,
        iterations: None,
        promoted: false,
        reason: String::new(),
    };
    if matches!(offer.score, Score::Uplift(_)) {
        r.reason = "uplift-scored: keeps its uplift models (retrain them from `vitrine export training`)".into();
        return (r, None);
    }
    let mine: Vec<&Usable> = by_offer.get(offer.id.as_str()).cloned().unwrap_or_default();
    let (hold, train): (Vec<_>, Vec<_>) =
        mine.into_iter().partition(|(j, _, _)| challenger::held_out(&j.row.offer.decision_id, s.holdout_percent));
    r.train_rows = train.len();
    r.holdout_rows = hold.len();
    if r.maturity == Maturity::Learning {
        r.reason = format!("{responses} responses < maturity {}: Thompson sampling on its Beta posterior", s.maturity);
        return (r, None);
    }
    let mut x = Vec::with_capacity(train.len() * d);
    for (_, f, _) in &train {
        design.encode(f, &mut x);
    }
    let y: Vec<bool> = train.iter().map(|(_, _, l)| *l).collect();
    let w: Vec<f64> = train
        .iter()
        .map(|(j, _, _)| match s.weighting {
            Weighting::None => 1.0,
            Weighting::Ips => ipw(j),
        })
        .collect();
    let fitted = match fit(&x, d, &y, &w, s.fit) {
        Ok(f) => f,
        Err(e) => {
            r.reason = format!("kept the current score: fit failed ({}: {e})", e.code());
            return (r, None);
        }
    };
    r.iterations = Some(fitted.iterations);
    let labels: Vec<bool> = hold.iter().map(|(_, _, l)| *l).collect();
    let mut row = Vec::with_capacity(d);
    let after: Vec<f64> = hold
        .iter()
        .map(|(_, f, _)| {
            row.clear();
            design.encode(f, &mut row);
            fitted.predict(&row)
        })
        .collect();
    // The champion: what the next bundle serves for the offer if nothing is promoted.
    let before: Vec<f64> = hold.iter().map(|(_, f, _)| served_propensity(next, i, f, &mut scratch).unwrap_or(0.0)).collect();
    // Inverse-propensity weights: the held-out rows stand for every client the logging
    // policy could have shown the offer to, as the promoted model will score them all.
    let weights: Vec<f64> = hold.iter().map(|(j, _, _)| ipw(j).min(s.max_weight)).collect();
    let effective = effective_rows(&weights);
    r.effective_rows = Some(effective);
    r.auc_before = weighted_auc(&before, &labels, &weights);
    r.auc_after = weighted_auc(&after, &labels, &weights);
    r.log_loss_before = log_loss(&before, &labels, &weights);
    r.log_loss_after = log_loss(&after, &labels, &weights);
    let positives = labels.iter().filter(|&&l| l).count();
    let z = improvement_z(&before, &after, &labels, &weights);
    r.log_loss_z = Some(z);
    r.p_value = Some(p_value(z));
    match (r.auc_before, r.auc_after, r.log_loss_before, r.log_loss_after) {
        _ if effective < s.min_effective_rows => {
            r.p_value = None;
            r.reason = format!(
                "kept the current score: {} held-out rows weigh as {effective:.0} effective rows (< {:.0}): too few to compare models",
                hold.len(),
                s.min_effective_rows
            );
        }
        _ if positives < MIN_HELD_OUT_POSITIVES => {
            r.p_value = None;
            r.reason = format!("kept the current score: {positives} held-out responses (< {MIN_HELD_OUT_POSITIVES}) cannot compare models");
        }
        (Some(b), Some(a), Some(lb), Some(la)) => {
            let model = Model {
                name: models::learned_name(&offer.id),
                inputs: design.inputs.clone(),
                body: Body::Linear { weights: fitted.weights.iter().map(|v| *v as f32).collect(), bias: vec![fitted.bias as f32] },
                post: Post::Logistic,
                n_outputs: 1,
            };
            challenger = Some(Compared { offer: i, model, better: a >= b && la <= lb });
            r.reason = format!("held-out AUC {b:.3} → {a:.3}, log-loss {lb:.4} → {la:.4} (z {z:.2}");
        }
        _ => {
            r.p_value = None;
            r.reason = format!("kept the current score: the held-out rows ({}) lack a positive or a negative", hold.len());
        }
    }
    (r, challenger)
}

/// Learns the next version of `current` from `feedback` (joined to `ledger`).
pub fn learn(current: &Bundle, feedback: &dyn FeedbackRead, ledger: &FeatureStore, s: &Settings) -> Result<Learned, LearnError> {
    s.check()?;
    // Beta posteriors; a constant propensity with enough impressions becomes its
    // posterior mean (what a mature offer falls back to when no model is promoted).
    let mut seconds = BTreeMap::new();
    let mut clock = std::time::Instant::now();
    let mut lap = |stage: &'static str| {
        seconds.insert(stage, clock.elapsed().as_secs_f64());
        clock = std::time::Instant::now();
    };
    let base = vitrine_feedback::learn::learn(current, feedback, s.since, s.reward, s.min_impressions)?;
    let mut next = base.bundle.clone();
    next.policy.thompson.cold_below = s.maturity;
    let counts: BTreeMap<String, (u64, u64)> = base.offers.iter().map(|o| (o.offer.clone(), (o.impressions, o.successes))).collect();
    for p in &mut next.posteriors {
        // The maturity ramp counts responses.
        p.observations = counts.get(&next.offers[p.offer as usize].id).map_or(0, |c| u32::try_from(c.1).unwrap_or(u32::MAX));
    }
    // An offer never shown yet starts on the ramp with the uniform prior (explored by
    // Thompson sampling, as a new action should be).
    for (i, o) in next.offers.iter().enumerate() {
        if matches!(o.score, Score::Propensity(_)) && !next.posteriors.iter().any(|p| p.offer as usize == i) {
            next.posteriors.push(vitrine_engine::policy::Posterior { offer: i as u16, alpha: 1.0, beta: 1.0, observations: 0 });
        }
    }
    next.posteriors.sort_by_key(|p| p.offer);

    let windows = current.offers.iter().map(|o| (o.id.clone(), o.attribution_secs)).collect();
    lap("posteriors");
    let rows = training::rows(feedback, Range { from: s.since, to: s.now.saturating_add(1) }, &windows, s.response_window, s.now)?;
    lap("rows");
    if rows.is_empty() && base.offers.is_empty() {
        return Err(LearnError::NoData { from: s.since, to: s.now });
    }
    let schema_hash = vitrine_base::hex::encode(&current.schema.hash());
    let (joined, found) = join(rows, ledger, &schema_hash)?;
    lap("join");
    let target = outcome(s.reward);
    let mut no_consent = 0u64;
    // Usable rows: shown, labelled, features found, the client consented to profiling.
    let usable: Vec<Usable> = joined
        .iter()
        .filter(|j| j.row.contacted())
        .filter_map(|j| {
            let label = j.row.label(target)?;
            let entry = j.entry.as_ref()?;
            if entry.consent & CONSENT_PROFILING == 0 {
                no_consent += 1;
                return None;
            }
            Some((j, j.features()?, label))
        })
        .collect();
    let design = Design::fit(&current.schema, usable.iter().map(|(_, f, _)| f.as_slice()));
    let mut by_offer: HashMap<&str, Vec<&Usable>> = HashMap::new();
    for u in &usable {
        by_offer.entry(u.0.row.offer.offer.as_str()).or_default().push(u);
    }
    let shared = Shared { s, counts: &counts, by_offer: &by_offer, design: &design, next: &next };
    // The offers' fits are independent: one per core.
    let (mut reports, compared): (Vec<OfferReport>, Vec<Option<Compared>>) =
        current.offers.par_iter().enumerate().map(|(i, offer)| fit_offer(&shared, i, offer)).unzip();
    let compared: Vec<Compared> = compared.into_iter().flatten().collect();
    // Every compared offer is one hypothesis of the round's family.
    let p: Vec<f64> = compared.iter().map(|c| reports[c.offer].p_value.unwrap_or(1.0)).collect();
    let levels = holm(&p, FAMILY_WISE_ALPHA);
    let mut promoted_models: Vec<(usize, Model)> = Vec::new();
    for (c, level) in compared.into_iter().zip(levels) {
        let r = &mut reports[c.offer];
        let p = r.p_value.unwrap_or(1.0);
        r.p_needed = level;
        match level {
            Some(level) if c.better && p <= level => {
                r.promoted = true;
                r.reason = format!("{}, p {p:.2e} ≤ {level:.2e})", r.reason);
                promoted_models.push((c.offer, c.model));
            }
            Some(level) => {
                r.reason = format!("kept the current score: {}, p {p:.2e} vs {level:.2e}): worse, or not better beyond noise", r.reason)
            }
            None => {
                r.reason =
                    format!("kept the current score: {}, p {p:.2e}): not better beyond noise (Holm stopped at a smaller p)", r.reason)
            }
        }
    }

    lap("fit");
    let mut learned = Learned {
        bundle: next.clone(),
        version: next.version,
        offers: reports,
        ledger: found.iter().map(|(k, v)| (k.as_str(), *v)).collect(),
        no_profiling_consent: no_consent,
        current: None,
        candidate: None,
        verdict: "no offer promoted on held-out AUC: the bundle keeps its scores (posteriors updated)".into(),
        seconds: BTreeMap::new(),
    };
    if promoted_models.is_empty() {
        models::prune(&mut learned.bundle);
        learned.bundle.validate()?;
        learned.seconds = seconds;
        return Ok(learned);
    }
    let mut candidate = next.clone();
    for (i, model) in promoted_models {
        let m = models::put(&mut candidate, model);
        candidate.offers[i].score = Score::Propensity(Propensity::Model { model: m, output: 0 });
    }
    models::prune(&mut candidate);
    candidate.validate()?;
    let mut replayed = challenger::replay(&[&next, &candidate], feedback, s)?.into_iter().map(|r| r.estimates);
    let (current_ope, candidate_ope) = (replayed.next().flatten(), replayed.next().flatten());
    lap("replay");
    let verdict = challenger::verdict(current_ope.as_ref(), candidate_ope.as_ref());
    learned.current = current_ope;
    learned.candidate = candidate_ope;
    match verdict {
        Ok(v) => {
            learned.verdict = v;
            learned.bundle = candidate;
        }
        Err(v) => {
            for r in learned.offers.iter_mut().filter(|r| r.promoted) {
                r.promoted = false;
                r.reason = format!("{}; {v}", r.reason);
            }
            learned.verdict = v;
            models::prune(&mut learned.bundle);
            learned.bundle.validate()?;
        }
    }
    learned.seconds = seconds;
    Ok(learned)
}
