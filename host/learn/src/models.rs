//! The bundle's model list after a learning round: a learned model per offer
//! (`learned:<offer>`, replaced in place when it is relearned), unreferenced models
//! dropped and every reference renumbered.
use vitrine_engine::bundle::{Bundle, ModelOutput, Propensity, Score, Uplift};
use vitrine_engine::models::Model;

/// The name of an offer's learned model.
pub fn learned_name(offer: &str) -> String {
    format!("learned:{offer}")
}

/// The names of an uplift offer's learned T-learner models.
pub fn learned_treated(offer: &str) -> String {
    format!("learned:{offer}:treated")
}

pub fn learned_control(offer: &str) -> String {
    format!("learned:{offer}:control")
}

/// Puts `model` into `bundle` (replacing a model of the same name) and returns its index.
pub fn put(bundle: &mut Bundle, model: Model) -> u16 {
    match bundle.models.iter().position(|m| m.name == model.name) {
        Some(i) => {
            bundle.models[i] = model;
            i as u16
        }
        None => {
            bundle.models.push(model);
            (bundle.models.len() - 1) as u16
        }
    }
}

fn outputs(score: &mut Score) -> Vec<&mut u16> {
    match score {
        Score::Propensity(Propensity::Model { model, .. }) => vec![model],
        Score::Propensity(Propensity::Constant(_)) => vec![],
        Score::Uplift(Uplift::TwoModel { treated, control }) => vec![&mut treated.model, &mut control.model],
        Score::Uplift(Uplift::Treatment(ModelOutput { model, .. }) | Uplift::Direct(ModelOutput { model, .. })) => vec![model],
    }
}

/// Drops the models no offer reads and renumbers the references.
pub fn prune(bundle: &mut Bundle) {
    let mut used = vec![false; bundle.models.len()];
    for o in &mut bundle.offers {
        for m in outputs(&mut o.score) {
            if let Some(u) = used.get_mut(*m as usize) {
                *u = true;
            }
        }
    }
    let mut remap = vec![0u16; used.len()];
    let mut next = 0u16;
    for (i, u) in used.iter().enumerate() {
        remap[i] = next;
        next += u16::from(*u);
    }
    let mut i = 0;
    bundle.models.retain(|_| {
        i += 1;
        used[i - 1]
    });
    for o in &mut bundle.offers {
        for m in outputs(&mut o.score) {
            *m = remap.get(*m as usize).copied().unwrap_or(*m);
        }
    }
}
