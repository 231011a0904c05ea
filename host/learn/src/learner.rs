//! One learning round: the current bundle and its feedback → the next bundle version.
use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;
use serde::Serialize;
use vitrine_engine::bundle::{Bundle, ModelOutput, Offer, Propensity, Score, Uplift};
use vitrine_engine::models::{Model, Scratch};
use vitrine_engine::snapshot::CONSENT_PROFILING;
use vitrine_feedback::learn::Reward;
use vitrine_feedback::measure::ope::OffPolicy;
use vitrine_feedback::report::Range;
use vitrine_feedback::training::{self, Outcome};
use vitrine_feedback::FeedbackRead;
use vitrine_store::FeatureStore;

use crate::arm::{self, ArmReport};
use crate::design::Design;
use crate::fit::FitOptions;
use crate::gate::{holm, FAMILY_WISE_ALPHA};
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

/// How an offer is scored, and so what the round fits for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// P(response | shown): one model on the shown rows' responses.
    Propensity,
    /// A T-learner on sales: P(sale | contacted) on the contacted rows and P(sale | not
    /// contacted) on the rows withheld from `no_contact` clients; the uplift is their
    /// difference.
    Uplift,
}

/// What the round decided for one offer.
#[derive(Debug, Clone, Serialize)]
pub struct OfferReport {
    pub offer: String,
    pub model: ModelKind,
    pub maturity: Maturity,
    /// Impressions and responses since `since` (the Beta posterior's counts).
    pub impressions: u64,
    pub responses: u64,
    /// Labelled rows with features: for fitting, and held out (for an uplift offer, the
    /// contacted rows; the withheld ones are in `control`).
    pub train_rows: usize,
    pub holdout_rows: usize,
    /// Held-out AUC of what the next bundle would serve without a promotion and of the
    /// fitted model, rows weighted by their inverse logged selection probability (for an
    /// uplift offer, its P(sale | contacted) model).
    pub auc_before: Option<f64>,
    pub auc_after: Option<f64>,
    /// Held-out mean log-loss of the same two, weighted the same way.
    pub log_loss_before: Option<f64>,
    pub log_loss_after: Option<f64>,
    /// The effective number of held-out rows under their (clipped) weights.
    pub effective_rows: Option<f64>,
    /// The paired z statistic of the log-loss improvement.
    pub log_loss_z: Option<f64>,
    /// The offer's one-sided p-value (an uplift offer's is the larger of its two models':
    /// both must improve, an intersection-union test), and the level Holm's step-down
    /// procedure held it to (5% family-wise over the offers compared this round);
    /// promotion needs `p ≤ level`.
    pub p_value: Option<f64>,
    pub p_needed: Option<f64>,
    pub iterations: Option<u64>,
    /// An uplift offer's P(sale | not contacted) model, compared the same way on the
    /// held-out withheld rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<ArmReport>,
    pub promoted: bool,
    pub reason: String,
}

impl OfferReport {
    fn new(offer: &Offer, s: &Settings, impressions: u64, responses: u64) -> Self {
        let model = if matches!(offer.score, Score::Uplift(_)) { ModelKind::Uplift } else { ModelKind::Propensity };
        OfferReport {
            offer: offer.id.clone(),
            model,
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
            control: None,
            promoted: false,
            reason: String::new(),
        }
    }

    /// What the offer keeps when nothing is promoted.
    fn kept(&self) -> &'static str {
        match self.model {
            ModelKind::Propensity => "kept the current score",
            ModelKind::Uplift => "kept its uplift models",
        }
    }

    /// Copies a (propensity or treated) model's comparison into the flat fields.
    fn set(&mut self, a: &ArmReport) {
        self.train_rows = a.train_rows;
        self.holdout_rows = a.holdout_rows;
        self.auc_before = a.auc_before;
        self.auc_after = a.auc_after;
        self.log_loss_before = a.log_loss_before;
        self.log_loss_after = a.log_loss_after;
        self.effective_rows = a.effective_rows;
        self.log_loss_z = a.log_loss_z;
        self.p_value = a.p_value;
        self.iterations = a.iterations;
    }
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

/// What `bundle` serves as offer `i`'s propensity for a feature row: the mean of its
/// Beta posterior while it is on Thompson sampling (the mean of the draws), else its
/// score; `None` for an uplift-scored offer.
pub fn served_propensity(bundle: &Bundle, i: usize, features: &[f32], scratch: &mut Scratch) -> Option<f64> {
    let cold = bundle.posteriors.iter().find(|p| p.offer as usize == i && p.observations < bundle.policy.thompson.cold_below);
    match cold {
        Some(p) => Some(f64::from(p.alpha) / f64::from(p.alpha + p.beta)),
        None => match &bundle.offers[i].score {
            Score::Propensity(Propensity::Constant(p)) => Some(f64::from(*p)),
            Score::Propensity(Propensity::Model { model, output }) => output_of(bundle, *model, *output, features, scratch),
            Score::Uplift(_) => None,
        },
    }
}

/// What `bundle`'s T-learner serves for offer `i` on a feature row: (P(sale | contacted),
/// P(sale | not contacted)); `None` unless the offer is scored by two models.
pub fn served_uplift(bundle: &Bundle, i: usize, features: &[f32], scratch: &mut Scratch) -> Option<(f64, f64)> {
    match &bundle.offers[i].score {
        Score::Uplift(Uplift::TwoModel { treated, control }) => Some((
            output_of(bundle, treated.model, treated.output, features, scratch)?,
            output_of(bundle, control.model, control.output, features, scratch)?,
        )),
        _ => None,
    }
}

/// Output `output` of model `model` on a feature row (no request context: the learner
/// reads features only).
fn output_of(bundle: &Bundle, model: u16, output: u16, features: &[f32], scratch: &mut Scratch) -> Option<f64> {
    let m = bundle.models.get(model as usize)?;
    let mut out = vec![0.0; m.n_outputs as usize];
    m.score(features, &[], scratch, &mut out);
    out.get(output as usize).map(|p| f64::from(*p))
}

/// What a promotion puts into the bundle for an offer.
enum Promotion {
    Propensity(Model),
    Uplift { treated: Model, control: Model },
}

/// A fitted challenger compared with the champion on the held-out rows.
struct Compared {
    /// The offer's index, in the bundle and in the round's reports.
    offer: usize,
    promotion: Promotion,
    /// Every model of it: held-out AUC not worse and log-loss not higher.
    better: bool,
}

/// A training row with its features and label.
pub(crate) type Usable<'a> = (&'a Joined, Vec<f32>, bool);

/// What every offer's fit reads (shared by the offers fitted in parallel).
struct Shared<'a> {
    s: &'a Settings,
    counts: &'a BTreeMap<String, (u64, u64)>,
    /// The usable rows (labelled, features found, consented) of each offer: shown rows
    /// for a propensity offer, shown and withheld rows for an uplift offer.
    by_offer: &'a HashMap<&'a str, Vec<&'a Usable<'a>>>,
    design: &'a Design,
    /// The next bundle without promotions: the champion.
    next: &'a Bundle,
}

/// One offer's round: its report, and its fitted challenger when it was compared.
fn fit_offer(shared: &Shared, i: usize, offer: &Offer) -> (OfferReport, Option<Compared>) {
    let Shared { s, counts, by_offer, design, next } = *shared;
    let (impressions, responses) = counts.get(&offer.id).copied().unwrap_or((0, 0));
    let mut r = OfferReport::new(offer, s, impressions, responses);
    let mine: Vec<&Usable> = by_offer.get(offer.id.as_str()).cloned().unwrap_or_default();
    let (hold, train): (Vec<_>, Vec<_>) =
        mine.into_iter().partition(|(j, _, _)| challenger::held_out(&j.row.offer.decision_id, s.holdout_percent));
    if let Score::Uplift(u) = &offer.score {
        return fit_uplift(shared, i, u, r, &train, &hold);
    }
    r.train_rows = train.len();
    r.holdout_rows = hold.len();
    if r.maturity == Maturity::Learning {
        r.reason = format!("{responses} responses < maturity {}: Thompson sampling on its Beta posterior", s.maturity);
        return (r, None);
    }
    let mut scratch = Scratch::default();
    // The champion: what the next bundle serves for the offer if nothing is promoted.
    let (arm, got) = arm::compare(s, design, &train, &hold, |f| served_propensity(next, i, f, &mut scratch).unwrap_or(0.0));
    r.set(&arm);
    match got {
        Err(why) => {
            r.reason = format!("kept the current score: {why}");
            (r, None)
        }
        Ok(c) => {
            r.reason = c.summary;
            let model = arm::engine_model(models::learned_name(&offer.id), design, &c.fitted);
            (r, Some(Compared { offer: i, promotion: Promotion::Propensity(model), better: c.better }))
        }
    }
}

/// Rows of `rows` that were contacted (or withheld).
fn split<'a, 'b>(rows: &[&'b Usable<'a>], contacted: bool) -> Vec<&'b Usable<'a>> {
    rows.iter().copied().filter(|(j, _, _)| j.row.contacted() == contacted).collect()
}

/// An uplift-scored offer's round: a T-learner on the offer's sales, each of its two
/// models fitted and compared with the one it would replace; the pair is a challenger
/// only when both were compared.
fn fit_uplift(
    shared: &Shared,
    i: usize,
    current: &Uplift,
    mut r: OfferReport,
    train: &[&Usable],
    hold: &[&Usable],
) -> (OfferReport, Option<Compared>) {
    let Shared { s, design, next, .. } = *shared;
    let Uplift::TwoModel { treated, control } = current else {
        r.reason =
            "kept its uplift model: only a two-model (T-learner) score is relearned; retrain others from `vitrine export training`".into();
        return (r, None);
    };
    let (train_t, train_c, hold_t, hold_c) = (split(train, true), split(train, false), split(hold, true), split(hold, false));
    let sales = |rows: &[&Usable]| rows.iter().filter(|(_, _, l)| *l).count() as u64;
    let (sales_t, sales_c) = (sales(&train_t), sales(&train_c));
    r.maturity = if sales_t.min(sales_c) >= u64::from(s.maturity) { Maturity::Mature } else { Maturity::Learning };
    r.train_rows = train_t.len();
    r.holdout_rows = hold_t.len();
    if r.maturity == Maturity::Learning {
        r.control = Some(ArmReport { train_rows: train_c.len(), holdout_rows: hold_c.len(), ..ArmReport::default() });
        r.reason = format!(
            "{sales_t} sales among contacted and {sales_c} among withheld training rows (each needs maturity {}): keeps its uplift models",
            s.maturity
        );
        return (r, None);
    }
    let mut scratch = Scratch::default();
    let (t_arm, t) =
        arm::compare(s, design, &train_t, &hold_t, |f| output_of(next, treated.model, treated.output, f, &mut scratch).unwrap_or(0.0));
    let (c_arm, c) =
        arm::compare(s, design, &train_c, &hold_c, |f| output_of(next, control.model, control.output, f, &mut scratch).unwrap_or(0.0));
    r.set(&t_arm);
    r.p_value = t_arm.p_value.zip(c_arm.p_value).map(|(a, b)| a.max(b));
    r.control = Some(c_arm);
    match (t, c) {
        (Ok(t), Ok(c)) => {
            r.reason = format!("P(sale | contacted): {}); P(sale | not contacted): {}", t.summary, c.summary);
            let promotion = Promotion::Uplift {
                treated: arm::engine_model(models::learned_treated(&r.offer), design, &t.fitted),
                control: arm::engine_model(models::learned_control(&r.offer), design, &c.fitted),
            };
            (r, Some(Compared { offer: i, promotion, better: t.better && c.better }))
        }
        (t, c) => {
            let why = |m: &str, x: Result<arm::Challenger, String>| x.err().map(|e| format!("{m}: {e}"));
            let whys: Vec<String> = [why("P(sale | contacted)", t), why("P(sale | not contacted)", c)].into_iter().flatten().collect();
            r.reason = format!("kept its uplift models: {}", whys.join("; "));
            (r, None)
        }
    }
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
    let uplift: HashSet<&str> = current.offers.iter().filter(|o| matches!(o.score, Score::Uplift(_))).map(|o| o.id.as_str()).collect();
    let mut no_consent = 0u64;
    // Usable rows: labelled, features found, the client consented to profiling; a
    // propensity offer learns from its shown rows' responses, an uplift offer from its
    // shown and withheld rows' sales.
    let usable: Vec<Usable> = joined
        .iter()
        .filter_map(|j| {
            let label = if uplift.contains(j.row.offer.offer.as_str()) {
                j.row.label(Outcome::Sale)?
            } else if j.row.contacted() {
                j.row.label(target)?
            } else {
                return None;
            };
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
    let mut promoted_models: Vec<(usize, Promotion)> = Vec::new();
    for (c, level) in compared.into_iter().zip(levels) {
        let r = &mut reports[c.offer];
        let p = r.p_value.unwrap_or(1.0);
        r.p_needed = level;
        match level {
            Some(level) if c.better && p <= level => {
                r.promoted = true;
                r.reason = format!("{}, p {p:.2e} ≤ {level:.2e})", r.reason);
                promoted_models.push((c.offer, c.promotion));
            }
            Some(level) => r.reason = format!("{}: {}, p {p:.2e} vs {level:.2e}): worse, or not better beyond noise", r.kept(), r.reason),
            None => r.reason = format!("{}: {}, p {p:.2e}): not better beyond noise (Holm stopped at a smaller p)", r.kept(), r.reason),
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
    for (i, promotion) in promoted_models {
        candidate.offers[i].score = match promotion {
            Promotion::Propensity(model) => Score::Propensity(Propensity::Model { model: models::put(&mut candidate, model), output: 0 }),
            Promotion::Uplift { treated, control } => Score::Uplift(Uplift::TwoModel {
                treated: ModelOutput { model: models::put(&mut candidate, treated), output: 0 },
                control: ModelOutput { model: models::put(&mut candidate, control), output: 0 },
            }),
        };
    }
    models::prune(&mut candidate);
    candidate.validate()?;
    // An uplift offer's held-out samples are scored by their incremental outcome, sold −
    // P(sale | not contacted) under the candidate's control model (the same number for
    // both policies): a policy that stops contacting clients who buy anyway loses nothing.
    let mut scratch = Scratch::default();
    let mut incremental: HashMap<(&str, &str), f64> = HashMap::new();
    for j in joined.iter().filter(|j| j.row.contacted() && uplift.contains(j.row.offer.offer.as_str())) {
        let Some(i) = candidate.offers.iter().position(|o| o.id == j.row.offer.offer) else { continue };
        let (Some(sold), Some(f)) = (j.row.label(Outcome::Sale), j.features()) else { continue };
        if let Some((_, organic)) = served_uplift(&candidate, i, &f, &mut scratch) {
            incremental.insert((j.row.offer.decision_id.as_str(), j.row.offer.offer.as_str()), f64::from(u8::from(sold)) - organic);
        }
    }
    let lookup = |decision: &str, offer: &str| incremental.get(&(decision, offer)).copied();
    let mut replayed = challenger::replay(&[&next, &candidate], feedback, s, &lookup)?.into_iter().map(|r| r.estimates);
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
