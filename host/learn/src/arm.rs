//! One model's fit and held-out comparison with the model it would replace: the
//! propensity model of a propensity-scored offer, or either model of an uplift-scored
//! offer's T-learner (P(sale | contacted) on the contacted rows, P(sale | not contacted)
//! on the rows withheld from `no_contact` clients).
use serde::Serialize;
use vitrine_engine::models::{Body, Model, Post};

use crate::auc::weighted_auc;
use crate::design::Design;
use crate::fit::{fit, Fitted};
use crate::gate::{effective_rows, improvement_z, log_loss, p_value};
use crate::learner::{Settings, Usable, Weighting};

/// Held-out responses a model needs before two of its versions are compared.
pub const MIN_HELD_OUT_POSITIVES: usize = 5;

/// How one model compared with the one it would replace.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ArmReport {
    /// Labelled rows with features: for fitting, and held out.
    pub train_rows: usize,
    pub holdout_rows: usize,
    /// Held-out AUC and mean log-loss of the current model and of the fitted one.
    pub auc_before: Option<f64>,
    pub auc_after: Option<f64>,
    pub log_loss_before: Option<f64>,
    pub log_loss_after: Option<f64>,
    /// The effective number of held-out rows under their (clipped) weights.
    pub effective_rows: Option<f64>,
    /// The paired z statistic of the log-loss improvement, and its one-sided p-value.
    pub log_loss_z: Option<f64>,
    pub p_value: Option<f64>,
    pub iterations: Option<u64>,
}

/// A fitted model that was compared with the current one.
pub struct Challenger {
    pub fitted: Fitted,
    /// Held-out AUC not worse and log-loss not higher.
    pub better: bool,
    /// `AUC a → b, log-loss c → d (z e`, for the offer's reason.
    pub summary: String,
}

/// A row's inverse-propensity weight: 1 / its logged selection probability (at most
/// 100); a withheld row (no selection probability) weighs 1.
pub fn ipw(u: &Usable) -> f64 {
    1.0 / u.0.row.offer.selection_probability.unwrap_or(1.0).clamp(0.01, 1.0)
}

/// Fits a model on `train` and compares it on `hold` with `before` (the current model's
/// probability for a feature row). `Err` says why the current model is kept.
pub fn compare(
    s: &Settings,
    design: &Design,
    train: &[&Usable],
    hold: &[&Usable],
    mut before: impl FnMut(&[f32]) -> f64,
) -> (ArmReport, Result<Challenger, String>) {
    let d = design.width();
    let mut r = ArmReport { train_rows: train.len(), holdout_rows: hold.len(), ..ArmReport::default() };
    let mut x = Vec::with_capacity(train.len() * d);
    for (_, f, _) in train {
        design.encode(f, &mut x);
    }
    let y: Vec<bool> = train.iter().map(|(_, _, l)| *l).collect();
    let w: Vec<f64> = train
        .iter()
        .map(|u| match s.weighting {
            Weighting::None => 1.0,
            Weighting::Ips => ipw(u),
        })
        .collect();
    let fitted = match fit(&x, d, &y, &w, s.fit) {
        Ok(f) => f,
        Err(e) => return (r, Err(format!("fit failed ({}: {e})", e.code()))),
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
    let before: Vec<f64> = hold.iter().map(|(_, f, _)| before(f)).collect();
    // Inverse-propensity weights: the held-out rows stand for every client the logging
    // policy could have shown the offer to, as the promoted model will score them all.
    let weights: Vec<f64> = hold.iter().map(|u| ipw(u).min(s.max_weight)).collect();
    let effective = effective_rows(&weights);
    r.effective_rows = Some(effective);
    r.auc_before = weighted_auc(&before, &labels, &weights);
    r.auc_after = weighted_auc(&after, &labels, &weights);
    r.log_loss_before = log_loss(&before, &labels, &weights);
    r.log_loss_after = log_loss(&after, &labels, &weights);
    let positives = labels.iter().filter(|&&l| l).count();
    let z = improvement_z(&before, &after, &labels, &weights);
    r.log_loss_z = Some(z);
    if effective < s.min_effective_rows {
        let why = format!(
            "{} held-out rows weigh as {effective:.0} effective rows (< {:.0}): too few to compare models",
            hold.len(),
            s.min_effective_rows
        );
        return (r, Err(why));
    }
    if positives < MIN_HELD_OUT_POSITIVES {
        return (r, Err(format!("{positives} held-out responses (< {MIN_HELD_OUT_POSITIVES}) cannot compare models")));
    }
    match (r.auc_before, r.auc_after, r.log_loss_before, r.log_loss_after) {
        (Some(b), Some(a), Some(lb), Some(la)) => {
            r.p_value = Some(p_value(z));
            let summary = format!("held-out AUC {b:.3} → {a:.3}, log-loss {lb:.4} → {la:.4} (z {z:.2}");
            (r, Ok(Challenger { fitted, better: a >= b && la <= lb, summary }))
        }
        _ => (r, Err(format!("the held-out rows ({}) lack a positive or a negative", hold.len()))),
    }
}

/// The fitted model as the engine's own linear model named `name`.
pub fn engine_model(name: String, design: &Design, fitted: &Fitted) -> Model {
    Model {
        name,
        inputs: design.inputs.clone(),
        body: Body::Linear { weights: fitted.weights.iter().map(|v| *v as f32).collect(), bias: vec![fitted.bias as f32] },
        post: Post::Logistic,
        n_outputs: 1,
    }
}
