//! Per-offer gates (validity, the three rule stages, caps, suppression) and the
//! P, C, L factors of every offer that can appear in a requested slot.
use super::request::Prepared;
use super::{Engine, Workspace};
use crate::bundle::{Bundle, Propensity};
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
    pub p: f32,
    pub c: f32,
    pub l: f32,
    /// Beta posterior when P is a Thompson draw.
    pub cold: Option<(f32, f32)>,
}

impl Engine {
    pub(super) fn run_gates(&mut self, prep: &Prepared, now: u64, rng: &mut SplitMix64) -> Result<(), Error> {
        let Engine { bundle, ws, offer_category, category_lever, cold, rules, weight_rules, slot_offers, .. } = self;
        let Workspace { features, context, models, scratch, gates, weights_on, book, stack, .. } = ws;
        let inputs = Inputs { features, context, now };
        let mut budget = bundle.limits.max_rule_steps;
        weights_on.clear();
        for (w, r) in bundle.policy.context_weights.iter().zip(weight_rules.iter()) {
            weights_on.push(r.passes(&w.when, &inputs, &mut budget, stack)?);
        }
        models.iter_mut().for_each(crate::models::Lazy::reset);
        gates.clear();
        gates.resize(bundle.offers.len(), Gate::default());
        for &(s, _) in &prep.slots {
            for &o in &slot_offers[s as usize] {
                gates[o as usize].wanted = true;
            }
        }
        let personalised = prep.mode == Mode::Personalised;
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
            g.cold = None;
            g.p = match (personalised, o.propensity) {
                (false, _) => o.baseline_propensity,
                (true, _) if cold[i].is_some() => {
                    g.cold = cold[i];
                    let (a, b) = cold[i].unwrap_or((1.0, 1.0));
                    beta_sample(a, b, rng) as f32
                }
                (true, Propensity::Constant(p)) => p,
                (true, Propensity::Model { model, output }) => {
                    let m = model as usize;
                    bundle.models[m].output(output as usize, inputs.features, inputs.context, &mut models[m], scratch)
                }
            };
            if !g.p.is_finite() || g.p < 0.0 {
                g.p = 0.0;
            }
            g.c = bundle
                .policy
                .context_weights
                .iter()
                .zip(weights_on.iter())
                .filter(|(w, on)| **on && (w.offers.is_empty() || w.offers.contains(&(i as u16))))
                .map(|(w, _)| w.weight)
                .product();
            g.l = o.lever * category_lever[offer_category[i] as usize];
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
