//! `vitrine learn`: feedback → the next bundle version, signed.
//!
//! `--learner contextual` (the default): per offer, a logistic regression over the
//! bundle's features, fitted on logged decisions joined to the snapshot ledger, behind
//! the maturity ramp and the champion/challenger gate (`vitrine_learn`). `--learner beta`:
//! one Beta posterior per offer, the same for every client (the learner before this one).
use std::path::PathBuf;

use anyhow::{Context, Result};
use vitrine_base::keys::{self, Role};
use vitrine_feedback::learn::Reward;
use vitrine_feedback::SqliteStore;
use vitrine_learn::fit::FitOptions;
use vitrine_learn::{Learned, Settings, Weighting};
use vitrine_store::FeatureStore;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The current signed bundle and its signer's public key.
    #[command(flatten)]
    bundle: super::signed_bundle::BundleArgs,
    /// The bundle-role secret key that signs the new version.
    #[arg(long)]
    key: PathBuf,
    #[arg(long)]
    feedback: PathBuf,
    /// The feature store whose snapshot ledger joins decisions to their features
    /// (contextual learner).
    #[arg(long, required_if_eq("learner", "contextual"))]
    features: Option<PathBuf>,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_enum, default_value = "contextual")]
    learner: Learner,
    /// Only decisions and events this recent (a duration like 30d) or after this unix time.
    #[arg(long, default_value = "30d")]
    since: String,
    /// What counts as a success.
    #[arg(long, value_enum, default_value = "conversion")]
    reward: Reward,
    /// Clicks and conversions count within this long after the decision; a decision whose
    /// window has closed without one is a negative outcome, one still open is not used.
    #[arg(long, default_value = "1d")]
    response_window: String,
    /// Outcomes as of this unix time (default: now).
    #[arg(long)]
    as_of: Option<u64>,
    /// Responses an offer needs before its learned model replaces Thompson sampling on
    /// its Beta posterior (the maturity ramp; written into the bundle).
    #[arg(long, default_value_t = 20)]
    maturity: u32,
    /// Training rows weighted by 1 / logged selection probability (`ips`) or not (`none`).
    #[arg(long, value_enum, default_value = "none")]
    weighting: WeightingArg,
    /// L2 penalty λ in units of one row's loss (scikit-learn's 1 / C).
    #[arg(long, default_value_t = FitOptions::default().l2)]
    l2: f64,
    /// L-BFGS iterations before a fit counts as not converged.
    #[arg(long, default_value_t = 200)]
    max_iterations: u64,
    /// Percent of decisions held out for the champion/challenger test.
    #[arg(long, default_value_t = 20)]
    holdout: u32,
    /// Where the round's decisions go as JSON (default: OUT with `.learn.json` appended).
    #[arg(long)]
    log: Option<PathBuf>,
    /// Impressions an offer needs before its constant propensity is replaced by its
    /// posterior mean (both learners).
    #[arg(long, default_value_t = 100)]
    min_impressions: u64,
    /// The held-out gate's inverse-propensity weights are clipped at this.
    #[arg(long, default_value_t = Settings::default().max_weight)]
    max_weight: f64,
    /// Effective held-out rows (`(Σw)² / Σw²`) an offer needs before its models are compared.
    #[arg(long, default_value_t = Settings::default().min_effective_rows)]
    min_effective_rows: f64,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Learner {
    Contextual,
    Beta,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum WeightingArg {
    None,
    Ips,
}

pub fn run(a: Args) -> Result<()> {
    let current = a.bundle.read()?.bundle;
    let secret = keys::load_secret(&a.key, Role::Bundle)?;
    let store = SqliteStore::open_reader(&a.feedback)?;
    let since = super::since(&a.since)?;
    let next = match a.learner {
        Learner::Beta => {
            let learned = vitrine_feedback::learn::learn(&current, &store, since, a.reward, a.min_impressions)?;
            for o in &learned.offers {
                let p = o.propensity.map(|(a, b)| format!("; propensity {a:.4} → {b:.4}")).unwrap_or_default();
                println!(
                    "{:<20} {:>8} impressions {:>7} {}s  Beta({}, {}){p}",
                    o.offer,
                    o.impressions,
                    o.successes,
                    a.reward.kind(),
                    o.alpha,
                    o.beta
                );
            }
            learned.bundle
        }
        Learner::Contextual => {
            let features = a.features.as_ref().context("--features is required by the contextual learner")?;
            let ledger = FeatureStore::open_existing(features)?;
            let settings = Settings {
                since,
                now: a.as_of.unwrap_or_else(vitrine_base::clock::now),
                response_window: super::seconds(&a.response_window)?,
                reward: a.reward,
                maturity: a.maturity,
                weighting: match a.weighting {
                    WeightingArg::None => Weighting::None,
                    WeightingArg::Ips => Weighting::Ips,
                },
                fit: FitOptions { l2: a.l2, max_iterations: a.max_iterations },
                holdout_percent: a.holdout.min(90),
                min_impressions: a.min_impressions,
                max_weight: a.max_weight,
                min_effective_rows: a.min_effective_rows,
                ..Settings::default()
            };
            let learned = vitrine_learn::learn(&current, &store, &ledger, &settings)?;
            print(&learned);
            let log = a.log.clone().unwrap_or_else(|| PathBuf::from(format!("{}.learn.json", a.out.display())));
            vitrine_base::atomic::write(&log, &serde_json::to_vec_pretty(&learned)?)
                .with_context(|| format!("writing {}", log.display()))?;
            println!("decisions logged to {}", log.display());
            learned.bundle
        }
    };
    let signed = vitrine_engine::bundle::envelope::sign(&next, &secret.kid, &secret.key)?;
    vitrine_base::atomic::write(&a.out, &signed).with_context(|| format!("writing {}", a.out.display()))?;
    println!("{} v{} → v{}: {} bytes → {}", next.name, current.version, next.version, signed.len(), a.out.display());
    Ok(())
}

fn auc(v: Option<f64>) -> String {
    v.map_or("—".into(), |x| format!("{x:.3}"))
}

fn print(l: &Learned) {
    let ledger: Vec<String> = l.ledger.iter().map(|(k, v)| format!("{v} {k}")).collect();
    println!("training rows by ledger lookup: {}; {} left out (no profiling consent)", ledger.join(", "), l.no_profiling_consent);
    if l.ledger.get("miss").copied().unwrap_or(0) > 0 {
        println!(
            "ledger misses: decisions whose snapshot this feature store never signed (or whose entry expired); not used, never guessed"
        );
    }
    println!(
        "{:<20} {:>8} {:>9} {:>8} {:>7} {:>7} {:>7} {:>9}  why",
        "offer", "maturity", "responses", "train", "held", "AUC was", "AUC now", "promoted"
    );
    for o in &l.offers {
        println!(
            "{:<20} {:>8} {:>9} {:>8} {:>7} {:>7} {:>7} {:>9}  {}",
            o.offer,
            format!("{:?}", o.maturity).to_lowercase(),
            o.responses,
            o.train_rows,
            o.holdout_rows,
            auc(o.auc_before),
            auc(o.auc_after),
            if o.promoted { "yes" } else { "no" },
            o.reason
        );
        // An uplift offer's P(sale | not contacted) model, on the withheld rows.
        if let Some(c) = &o.control {
            let (train, held) = (c.train_rows, c.holdout_rows);
            println!(
                "{:<20} {:>8} {:>9} {train:>8} {held:>7} {:>7} {:>7}",
                "  └ not contacted",
                "",
                "",
                auc(c.auc_before),
                auc(c.auc_after)
            );
        }
    }
    for (name, e) in [("current policy", &l.current), ("candidate", &l.candidate)] {
        if let Some(e) = e {
            println!(
                "{name:<16} held-out DR {:.5} [{:.5}, {:.5}], IPS {:.5}, SNIPS {:.5} over {} slot samples",
                e.dr.value, e.dr.ci95.low, e.dr.ci95.high, e.ips.value, e.snips.value, e.n
            );
        }
    }
    println!("{}", l.verdict);
    let took: Vec<String> = l.seconds.iter().map(|(stage, s)| format!("{stage} {s:.1} s")).collect();
    println!("took: {}", took.join(", "));
}
