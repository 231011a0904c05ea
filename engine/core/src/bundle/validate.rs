//! Load-time validation: after this, every index in the bundle is in range, every
//! program type-checks and every number the engine multiplies is finite.
use super::{Bundle, BundleError, ModelOutput, Propensity, Score, Uplift};
use crate::limits::{MAX_K, MAX_OFFERS};
use crate::policy::Exploration;
use crate::Error;

fn invalid(msg: String) -> Error {
    BundleError::Invalid(msg).into()
}

fn finite_nonneg(x: f32) -> bool {
    x.is_finite() && x >= 0.0
}

fn unique<'a>(what: &str, ids: impl Iterator<Item = &'a str>) -> Result<(), Error> {
    let mut v: Vec<&str> = ids.collect();
    v.sort_unstable();
    match v.windows(2).find(|w| w[0] == w[1]) {
        Some(w) => Err(invalid(format!("duplicate {what} id `{}`", w[0]))),
        None => Ok(()),
    }
}

impl Bundle {
    /// Checks the whole bundle; the engine relies on this at load.
    pub fn validate(&self) -> Result<(), Error> {
        let s = &self.schema;
        s.validate()?;
        unique("slot", self.slots.iter().map(|x| x.id.as_str()))?;
        unique("offer", self.offers.iter().map(|x| x.id.as_str()))?;
        for slot in &self.slots {
            if slot.channel as usize >= s.channels.len() || slot.k as usize > MAX_K || slot.k == 0 {
                return Err(invalid(format!("slot `{}`: channel out of range or k not in 1..={MAX_K}", slot.id)));
            }
        }
        if self.offers.len() > MAX_OFFERS {
            return Err(invalid(format!("{} offers, more than the limit of {MAX_OFFERS}", self.offers.len())));
        }
        for (i, m) in self.models.iter().enumerate() {
            m.validate(s).map_err(|e| Error::from(e).within(format!("model {i}")))?;
        }
        if let Some(t) = &self.timing {
            if t.outputs.len() != t.kind.outputs() {
                return Err(invalid(format!(
                    "timing: a {:?} model needs {} outputs, one per {}, not {}",
                    t.kind,
                    t.kind.outputs(),
                    if t.kind == super::TimingKind::Hour { "hour" } else { "weekday" },
                    t.outputs.len()
                )));
            }
            for m in &t.outputs {
                match self.models.get(m.model as usize) {
                    Some(model) if m.output < model.n_outputs && !model.has_treatment_input() => {}
                    _ => {
                        return Err(invalid(format!(
                            "timing: model {} output {} does not exist (or needs a treatment input)",
                            m.model, m.output
                        )))
                    }
                }
            }
        }
        for o in &self.offers {
            let within = |e: Error, what: &str| e.within(format!("offer `{}` {what}", o.id));
            if o.slots.iter().any(|&x| x as usize >= self.slots.len()) {
                return Err(invalid(format!("offer `{}` names a slot that does not exist", o.id)));
            }
            if !finite_nonneg(o.value) || !finite_nonneg(o.lever) || !o.bau_priority.is_none_or(finite_nonneg) {
                return Err(invalid(format!("offer `{}`: value, lever and BAU priority must be finite and >= 0", o.id)));
            }
            o.eligibility.verify(s).map_err(|e| within(e.into(), "eligibility"))?;
            o.applicability.verify(s).map_err(|e| within(e.into(), "applicability"))?;
            o.suitability.verify(s).map_err(|e| within(e.into(), "suitability"))?;
            let output = |m: ModelOutput| -> Result<(), Error> {
                match self.models.get(m.model as usize) {
                    Some(model) if m.output < model.n_outputs => Ok(()),
                    _ => Err(invalid(format!("offer `{}`: model {} output {} does not exist", o.id, m.model, m.output))),
                }
            };
            match o.score {
                Score::Propensity(Propensity::Model { model, output: out }) => output(ModelOutput { model, output: out })?,
                Score::Propensity(Propensity::Constant(p)) if !(0.0..=1.0).contains(&p) => {
                    return Err(invalid(format!("offer `{}`: constant propensity {p} is not in [0, 1]", o.id)));
                }
                Score::Propensity(Propensity::Constant(_)) => {}
                Score::Uplift(Uplift::TwoModel { treated, control }) => {
                    output(treated)?;
                    output(control)?;
                }
                Score::Uplift(Uplift::Direct(m)) => output(m)?,
                Score::Uplift(Uplift::Treatment(m)) => {
                    output(m)?;
                    if !self.models[m.model as usize].has_treatment_input() {
                        return Err(invalid(format!(
                            "offer `{}`: model {} has no treatment input (an S-learner needs one)",
                            o.id, m.model
                        )));
                    }
                }
            }
            if o.treatments.is_empty()
                || o.treatments.iter().any(|t| !finite_nonneg(t.weight))
                || o.treatments.iter().map(|t| t.weight).sum::<f32>() <= 0.0
            {
                return Err(invalid(format!("offer `{}` needs at least one treatment and positive finite weights", o.id)));
            }
            unique("treatment", o.treatments.iter().map(|t| t.id.as_str()))?;
        }
        let p = &self.policy;
        match p.exploration {
            Exploration::EpsilonGreedy { epsilon } if !(0.0..=1.0).contains(&epsilon) => {
                return Err(invalid("epsilon must be in [0, 1]".into()))
            }
            Exploration::Softmax { temperature } if !(temperature.is_finite() && temperature > 0.0) => {
                return Err(invalid("softmax temperature must be finite and > 0".into()))
            }
            _ => {}
        }
        let a = &p.arms;
        if !(0.0..=1.0).contains(&a.bau) || !(0.0..=1.0).contains(&a.no_contact) || a.bau + a.no_contact > 1.0 {
            return Err(invalid(format!("arm shares must be in [0, 1] and sum to at most 1 (bau {}, no_contact {})", a.bau, a.no_contact)));
        }
        if p.channel_costs.iter().any(|c| c.channel as usize >= s.channels.len() || !finite_nonneg(c.cost)) {
            return Err(invalid("a channel cost names a channel that does not exist or is not finite and >= 0".into()));
        }
        for (i, w) in p.context_weights.iter().enumerate() {
            w.when.verify(s).map_err(|e| Error::from(e).within(format!("context weight {i}")))?;
            if w.when.reads_features() {
                return Err(invalid(format!("context weight {i} reads a client feature; context weights may read only the context")));
            }
            if !finite_nonneg(w.weight) || w.offers.iter().any(|&o| o as usize >= self.offers.len()) {
                return Err(invalid(format!("context weight {i}: weight must be finite and >= 0, offers must exist")));
            }
        }
        for l in &p.category_levers {
            if !finite_nonneg(l.lever) || !self.offers.iter().any(|o| o.category == l.category) {
                return Err(invalid(format!(
                    "category lever `{}`: the category must have offers and the lever be finite and >= 0",
                    l.category
                )));
            }
        }
        if p.channel_caps.iter().any(|c| c.channel as usize >= s.channels.len()) {
            return Err(invalid("a channel cap names a channel that does not exist".into()));
        }
        for post in &self.posteriors {
            if post.offer as usize >= self.offers.len()
                || !(post.alpha.is_finite() && post.alpha > 0.0 && post.beta.is_finite() && post.beta > 0.0)
            {
                return Err(invalid(format!("posterior for offer {}: offer must exist, alpha and beta finite and > 0", post.offer)));
            }
        }
        for k in &self.trusted_keys {
            if k.kid.is_empty() || k.kid.len() > 32 || ed25519_dalek::VerifyingKey::from_bytes(&k.public_key).is_err() {
                return Err(invalid(format!("trusted key `{}`: key id must be 1 to 32 bytes and the key a valid Ed25519 point", k.kid)));
            }
        }
        let l = &self.limits;
        if l.max_rule_steps > 10_000_000 || l.max_history > 10_000 || l.max_slots > 64 || l.max_context > 64 {
            return Err(invalid(
                "limits exceed the engine's hard ceilings (10M rule steps, 10k history, 64 slots, 64 context entries)".into(),
            ));
        }
        Ok(())
    }
}
