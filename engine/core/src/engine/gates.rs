//! Per-offer gates (validity, the three rule stages, caps, suppression) and the
//! P, C, L factors of every offer that can appear in a requested slot.
use super::request::Prepared;
use super::{Engine, Workspace};
use crate::bundle::{Bundle, ModelOutput, OfferKind, Propensity, Score, Uplift};
use crate::decision::{DropReason, Mode};
use crate::policy::{beta_sample, CapScope, SplitMix64};
use crate::rules::Inputs;
use crate::Error;

/// The outcome of the gates for one offer.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Gate {
    /// Whether the offer is placed in any requested slot.
    pub wanted: bool,
    pub failed: Option<DropReason>,
    /// What priority multiplies with C × V × L: a propensity, an uplift, or 1 in the
    /// business-as-usual ranking (then `c` is 1 and `bau` holds the fixed priority).
    pub score: f32,
    /// Shown as `p`: the propensity, P(sale | contacted) or the uplift.
    pub p: f32,
    pub p_treated: Option<f32>,
    pub p_control: Option<f32>,
    /// Set for uplift-scored offers in the personalised ranking.
    pub uplift: Option<f32>,
    pub c: f32,
    pub l: f32,
    /// The fixed priority of the business-as-usual ranking (that ranking only).
    pub bau: Option<f32>,
    /// Beta posterior when P is a Thompson draw.
    pub cold: Option<(f32, f32)>,
}

impl Gate {
    /// Whether a priority that is not positive drops the offer (`no_uplift`): uplift
    /// scores, and propensities when the contact costs something (Thompson draws aside).
    pub fn needs_positive(&self, cost: f32) -> bool {
        self.bau.is_none() && (self.uplift.is_some() || (cost > 0.0 && self.cold.is_none()))
    }
}

impl Engine {
    pub(super) fn run_gates(&mut self, prep: &Prepared, now: u64, rng: &mut SplitMix64) -> Result<(), Error> {
        let Engine { bundle, ws, offer_category, category_lever, cold, rules, weight_rules, slot_offers, .. } = self;
        let Workspace { features, context, models, controls, scratch, gates, weights_on, book, stack, .. } = ws;
        let inputs = Inputs { features, context, now };
        let mut budget = bundle.limits.max_rule_steps;
        weights_on.clear();
        for (w, r) in bundle.policy.context_weights.iter().zip(weight_rules.iter()) {
            weights_on.push(r.passes(&w.when, &inputs, &mut budget, stack)?);
        }
        models.iter_mut().chain(controls.iter_mut()).for_each(crate::models::Lazy::reset);
        gates.clear();
        gates.resize(bundle.offers.len(), Gate::default());
        for &(s, _) in &prep.slots {
            for &o in &slot_offers[s as usize] {
                gates[o as usize].wanted = true;
            }
        }
        let no_contact = prep.mode == Mode::NoContact;
        // A `no_contact` client without profiling consent has its service actions ranked
        // as business as usual, like any client without that consent.
        let profiling = prep.client.is_some_and(|c| c.consent & crate::snapshot::CONSENT_PROFILING != 0);
        let bau = prep.mode.is_bau() || (no_contact && !profiling);
        for (i, o) in bundle.offers.iter().enumerate() {
            let g = &mut gates[i];
            if !g.wanted {
                continue;
            }
            g.failed = if (o.valid_from != 0 && now < o.valid_from) || (o.valid_until != 0 && now >= o.valid_until) {
                Some(DropReason::OutsideValidity)
            } else if !rules[i][0].passes(&o.eligibility, &inputs, &mut budget, stack)? {
                Some(DropReason::Eligibility)
            } else if !rules[i][1].passes(&o.applicability, &inputs, &mut budget, stack)? {
                Some(DropReason::Applicability)
            } else if !rules[i][2].passes(&o.suitability, &inputs, &mut budget, stack)? {
                Some(DropReason::Suitability)
            } else {
                contact_gate(bundle, book, i, offer_category[i])
            };
            if g.failed.is_some() {
                continue;
            }
            (g.cold, g.p_treated, g.p_control, g.uplift, g.bau) = (None, None, None, None, None);
            g.l = o.lever * category_lever[offer_category[i] as usize];
            // In the `no_contact` arm commercial offers are scored (for the withheld
            // record) but never shown; so are service actions if the bundle says so.
            if no_contact && (o.kind == OfferKind::Offer || !bundle.policy.arms.no_contact_services) {
                g.failed = Some(DropReason::NoContactArm);
            }
            if bau {
                (g.score, g.p, g.c) = (1.0, 1.0, 1.0);
                g.bau = Some(o.bau_priority.unwrap_or(o.value * g.l));
                continue;
            }
            let mut out = |m: ModelOutput, treatment: f32| {
                let (k, lazy) =
                    (m.model as usize, if treatment == 0.0 { &mut controls[m.model as usize] } else { &mut models[m.model as usize] });
                finite_or_zero(bundle.models[k].output(m.output as usize, inputs.features, inputs.context, treatment, lazy, scratch))
            };
            match o.score {
                Score::Propensity(_) if cold[i].is_some() => {
                    g.cold = cold[i];
                    let (a, b) = cold[i].unwrap_or((1.0, 1.0));
                    g.p = beta_sample(a, b, rng) as f32;
                }
                Score::Propensity(Propensity::Constant(p)) => g.p = p,
                Score::Propensity(Propensity::Model { model, output }) => g.p = out(ModelOutput { model, output }, 1.0),
                Score::Uplift(u) => {
                    let (pt, pc, up) = match u {
                        Uplift::TwoModel { treated, control } => {
                            let (pt, pc) = (out(treated, 1.0), out(control, 1.0));
                            (Some(pt), Some(pc), pt - pc)
                        }
                        Uplift::Treatment(m) => {
                            let (pt, pc) = (out(m, 1.0), out(m, 0.0));
                            (Some(pt), Some(pc), pt - pc)
                        }
                        Uplift::Direct(m) => (None, None, out(m, 1.0)),
                    };
                    (g.p_treated, g.p_control) = (pt, pc);
                    g.uplift = Some(up.clamp(-1.0, 1.0));
                    g.p = pt.unwrap_or(up);
                }
            }
            if g.uplift.is_none() && g.p < 0.0 {
                g.p = 0.0;
            }
            g.score = g.uplift.unwrap_or(g.p);
            g.c = bundle
                .policy
                .context_weights
                .iter()
                .zip(weights_on.iter())
                .filter(|(w, on)| **on && (w.offers.is_empty() || w.offers.contains(&(i as u16))))
                .map(|(w, _)| w.weight)
                .product();
        }
        Ok(())
    }
}

fn contact_gate(bundle: &Bundle, book: &crate::policy::ContactBook, offer: usize, category: u16) -> Option<DropReason> {
    if book.is_empty() {
        return None;
    }
    let o = &bundle.offers[offer];
    for cap in &o.caps {
        let (used, reason) = match cap.scope {
            CapScope::Offer => (book.offer_contacts(offer as u16, cap.window_secs), DropReason::OfferCap),
            CapScope::Category => (book.category_contacts(category, cap.window_secs), DropReason::CategoryCap),
        };
        if used >= cap.max as usize {
            return Some(reason);
        }
    }
    match &bundle.policy.suppression {
        Some(s) if book.suppressed(offer as u16, s.after_impressions, s.window_secs) => Some(DropReason::Suppressed),
        _ => None,
    }
}

fn finite_or_zero(x: f32) -> f32 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}
