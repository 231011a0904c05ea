//! Arbitration per slot, treatments, and the response with its decision record.
use super::gates::Gate;
use super::Engine;
use crate::bundle::Offer;
use crate::decision::{
    Chosen, ConsentState, DecideRequest, DecideResponse, DecisionRecord, DropReason, Dropped, Mode, PlanRequest, ProbabilityKind,
    SlotDecision, Withheld,
};
use crate::policy::{arbitrate, Candidate, Exploration, SlotAsk, SplitMix64};
use crate::snapshot::{Profile, CONSENT_PROFILING};
use crate::Error;

/// Separates the Monte Carlo estimator's stream from the choice stream.
const ESTIMATOR_STREAM: u64 = 0xD1B5_4A32_D192_ED03;

impl Engine {
    /// Decides one request. Deterministic: the same bundle and request give the same
    /// response, byte for byte, in every runtime.
    pub fn decide(&mut self, req: &DecideRequest) -> Result<DecideResponse, Error> {
        self.decide_for(req, None)
    }

    /// Decides for a host's trusted [`Profile`] instead of a signed snapshot: the campaign
    /// planner's entry point. Everything after the features (rules, models, consent,
    /// arms, exploration, arbitration) is the decide pipeline itself; `req.snapshot`
    /// must be absent.
    pub fn decide_profile(&mut self, req: &DecideRequest, profile: &Profile) -> Result<DecideResponse, Error> {
        self.decide_for(req, Some(profile))
    }

    /// Resolves and decides a JSON plan request (`vitrine_plan` on the raw ABI).
    pub fn plan(&mut self, req: &PlanRequest) -> Result<DecideResponse, Error> {
        let profile = req.profile.resolve(&self.bundle.schema)?;
        self.decide_for(&req.request, Some(&profile))
    }

    fn decide_for(&mut self, req: &DecideRequest, profile: Option<&Profile>) -> Result<DecideResponse, Error> {
        let prep = self.prepare(req, profile)?;
        let mut rng = SplitMix64::new(req.seed);
        let mut estimator = SplitMix64::new(req.seed ^ ESTIMATOR_STREAM);
        self.run_gates(&prep, req.now, &mut rng)?;

        let b = &self.bundle;
        let super::Workspace { gates, book, arbiter, candidates: cands, .. } = &mut self.ws;
        let personalised = prep.mode == Mode::Personalised;
        let n_categories = self.category_lever.len();
        let mut taken = vec![false; b.offers.len()];
        let mut per_category = vec![0u8; n_categories];
        let mut out_slots = Vec::with_capacity(prep.slots.len());
        let mut dropped = Vec::new();
        for &(s, k) in &prep.slots {
            let slot = &b.slots[s as usize];
            let ch = slot.channel;
            let consent = prep.channels & (1 << ch) != 0;
            let capped =
                b.policy.channel_caps.iter().any(|c| c.channel == ch && book.channel_contacts(ch, c.window_secs) >= c.max as usize);
            let before = if req.explain { taken.clone() } else { Vec::new() };
            let cost = channel_cost(b, ch);
            cands.clear();
            if consent && !capped {
                // Only a cost or an uplift score can make a value non-positive.
                let check = cost > 0.0 || self.any_uplift;
                for &i in &self.slot_offers[s as usize] {
                    let (i, g) = (i as usize, &gates[i as usize]);
                    if g.failed.is_some() {
                        continue;
                    }
                    let c = candidate(b, g, i, self.offer_category[i], cost);
                    if check && g.needs_positive(cost) && c.priority() <= 0.0 {
                        continue;
                    }
                    cands.push(c);
                }
            }
            let ask = SlotAsk {
                k,
                exploration: if personalised { b.policy.exploration } else { Exploration::None },
                max_per_category: b.policy.max_per_category,
                estimate_draws: b.policy.thompson.estimate_draws,
            };
            let picks = arbitrate(cands, ask, &mut taken, &mut per_category, &mut rng, &mut estimator, arbiter);
            let mut offers = Vec::with_capacity(picks.len());
            for (rank, pick) in picks.iter().enumerate() {
                let i = pick.offer as usize;
                let o = &b.offers[i];
                let g = &gates[i];
                let (t, t_prob) = choose_treatment(o, &mut rng);
                offers.push(Chosen {
                    rank: rank as u8 + 1,
                    offer: o.id.clone(),
                    kind: o.kind,
                    category: o.category.clone(),
                    treatment: o.treatments[t].id.clone(),
                    creative: o.treatments[t].creative.clone(),
                    p: g.p,
                    c: g.c,
                    v: o.value,
                    l: g.l,
                    priority: pick.priority,
                    cost: if g.bau.is_some() { 0.0 } else { cost },
                    p_treated: g.p_treated,
                    p_control: g.p_control,
                    uplift: g.uplift,
                    selection_probability: pick.probability * t_prob,
                    probability_kind: if pick.estimated { ProbabilityKind::Estimated } else { ProbabilityKind::Exact },
                });
            }
            if req.explain {
                for &i in &self.slot_offers[s as usize] {
                    let (i, o) = (i as usize, &b.offers[i as usize]);
                    if picks.iter().any(|p| p.offer as usize == i) {
                        continue;
                    }
                    let g = &gates[i];
                    let worthless = g.failed.is_none() && g.needs_positive(cost) && candidate(b, g, i, 0, cost).priority() <= 0.0;
                    let reason = explain(g, consent, capped, worthless, before.get(i).copied().unwrap_or(false), || {
                        b.policy.max_per_category != 0 && per_category[self.offer_category[i] as usize] >= b.policy.max_per_category
                    });
                    dropped.push(Dropped { slot: slot.id.clone(), offer: o.id.clone(), reason });
                }
            }
            out_slots.push(SlotDecision { slot: slot.id.clone(), channel: b.schema.channels[ch as usize].clone(), offers });
        }

        let withheld = if prep.mode == Mode::NoContact && prep.client.is_some_and(|c| c.consent & CONSENT_PROFILING != 0) {
            self.withheld(&prep)
        } else {
            Vec::new()
        };
        let mut record = self.record(req, &prep);
        record.withheld = withheld;
        Ok(DecideResponse {
            decision_id: record.decision_id.clone(),
            mode: prep.mode,
            slots: out_slots,
            record,
            explain: req.explain.then_some(dropped),
        })
    }

    fn record(&self, req: &DecideRequest, prep: &super::request::Prepared) -> DecisionRecord {
        let b = &self.bundle;
        let snap_hash = prep.client.as_ref().map(|s| s.hash);
        let history = postcard::to_allocvec(&req.history).unwrap_or_default();
        let history_hash = crate::sha256(b"vitrine/history/v1\0", &[&history]);
        // The id covers everything that makes the decision, each variable part by a
        // fixed-length hash of an unambiguous encoding: two different decisions for one
        // client in the same second with the same seed (another page's context, other
        // slots, a longer history) never share an id. `explain` changes only what is returned.
        let (context, slots) = request_hashes(req);
        let snapshot: &[u8] = match &snap_hash {
            Some(h) => h,
            None => &[0u8; 16],
        };
        let id = crate::sha256(
            b"vitrine/decision/v2\0",
            &[
                &self.hash,
                &[u8::from(snap_hash.is_some())],
                snapshot,
                &req.now.to_le_bytes(),
                &req.seed.to_le_bytes(),
                &context,
                &slots,
                &history_hash,
            ],
        );
        DecisionRecord {
            decision_id: crate::hex(&id[..16]),
            bundle: b.name.clone(),
            bundle_version: b.version,
            bundle_hash: self.hash_hex.clone(),
            snapshot_hash: snap_hash.map(|h| crate::hex(&h)),
            subject: prep.client.as_ref().map(|s| crate::hex(&s.subject)),
            seed: req.seed,
            now: req.now,
            context: req.context.clone(),
            slots: req.slots.clone(),
            history_hash: crate::hex(&history_hash[..8]),
            consent: ConsentState {
                profiling: prep.client.as_ref().is_some_and(|s| s.consent & CONSENT_PROFILING != 0),
                channels: b
                    .schema
                    .channels
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| prep.channels & (1 << i) != 0)
                    .map(|(_, c)| c.clone())
                    .collect(),
            },
            arm: prep.arm,
            withheld: Vec::new(),
            engine_version: crate::ENGINE_VERSION.to_string(),
        }
    }
    /// For a `no_contact` client: the uplift-scored commercial offers the personalised
    /// ranking would have shown (greedy, no exploration, positive incremental value).
    fn withheld(&mut self, prep: &super::request::Prepared) -> Vec<Withheld> {
        let b = &self.bundle;
        let super::Workspace { gates, arbiter, .. } = &mut self.ws;
        let mut taken = vec![false; b.offers.len()];
        let mut per_category = vec![0u8; self.category_lever.len()];
        let (mut rng, mut estimator) = (SplitMix64::new(0), SplitMix64::new(0));
        let mut out = Vec::new();
        for &(s, k) in &prep.slots {
            let slot = &b.slots[s as usize];
            let cost = channel_cost(b, slot.channel);
            let cands: Vec<Candidate> = self.slot_offers[s as usize]
                .iter()
                .map(|&i| i as usize)
                .filter(|&i| gates[i].failed == Some(DropReason::NoContactArm) && gates[i].uplift.is_some())
                .map(|i| candidate(b, &gates[i], i, self.offer_category[i], cost))
                .filter(|c| c.priority() > 0.0)
                .collect();
            let ask = SlotAsk { k, exploration: Exploration::None, max_per_category: b.policy.max_per_category, estimate_draws: 0 };
            for pick in arbitrate(&cands, ask, &mut taken, &mut per_category, &mut rng, &mut estimator, arbiter) {
                let i = pick.offer as usize;
                out.push(Withheld {
                    slot: slot.id.clone(),
                    channel: b.schema.channels[slot.channel as usize].clone(),
                    offer: b.offers[i].id.clone(),
                    uplift: gates[i].uplift.unwrap_or(0.0),
                });
            }
        }
        out
    }
}

/// The cost of one contact on channel `ch`.
fn channel_cost(b: &crate::bundle::Bundle, ch: u8) -> f32 {
    b.policy.channel_costs.iter().filter(|c| c.channel == ch).map(|c| c.cost).sum()
}

/// An offer's candidacy for a slot whose channel costs `cost` per contact.
fn candidate(b: &crate::bundle::Bundle, g: &Gate, i: usize, category: u16, cost: f32) -> Candidate {
    match g.bau {
        Some(priority) => Candidate { offer: i as u16, category, p: 1.0, cvl: priority as f64, cost: 0.0, cold: None },
        None => Candidate {
            offer: i as u16,
            category,
            p: g.score as f64,
            cvl: g.c as f64 * b.offers[i].value as f64 * g.l as f64,
            cost: cost as f64,
            cold: g.cold,
        },
    }
}

/// Picks a treatment by weight; returns its index and probability.
fn choose_treatment(o: &Offer, rng: &mut SplitMix64) -> (usize, f64) {
    if o.treatments.len() == 1 {
        return (0, 1.0);
    }
    let total: f64 = o.treatments.iter().map(|t| t.weight as f64).sum();
    let mut u = rng.next_f64() * total;
    let mut last = 0;
    for (i, t) in o.treatments.iter().enumerate() {
        let w = t.weight as f64;
        if w <= 0.0 {
            continue;
        }
        last = i;
        if u < w {
            return (i, w / total);
        }
        u -= w;
    }
    (last, o.treatments[last].weight as f64 / total)
}

fn explain(g: &Gate, consent: bool, capped: bool, worthless: bool, taken_before: bool, category_full: impl Fn() -> bool) -> DropReason {
    if let Some(r) = g.failed {
        r
    } else if !consent {
        DropReason::ChannelConsent
    } else if capped {
        DropReason::ChannelCap
    } else if worthless {
        DropReason::NoUplift
    } else if taken_before {
        DropReason::AlreadyOnPage
    } else if category_full() {
        DropReason::CategoryLimit
    } else {
        DropReason::Outranked
    }
}

/// Hashes of a request's context and slots for its decision id: every string
/// length-prefixed, every value tagged with its kind, in the request's (context: sorted)
/// order.
fn request_hashes(req: &DecideRequest) -> ([u8; 32], [u8; 32]) {
    use crate::decision::ContextValue;
    fn text(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u64).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    let mut buf = Vec::with_capacity(64);
    for (name, value) in &req.context {
        text(&mut buf, name);
        match value {
            ContextValue::Num(x) => {
                buf.push(0);
                buf.extend_from_slice(&x.to_bits().to_le_bytes());
            }
            ContextValue::Bool(b) => buf.extend_from_slice(&[1, u8::from(*b)]),
            ContextValue::Label(l) => {
                buf.push(2);
                text(&mut buf, l);
            }
        }
    }
    let context = crate::sha256(b"vitrine/context/v1\0", &[&buf]);
    buf.clear();
    for s in &req.slots {
        text(&mut buf, &s.slot);
        match s.k {
            Some(k) => buf.extend_from_slice(&[1, k]),
            None => buf.push(0),
        }
    }
    (context, crate::sha256(b"vitrine/slots/v1\0", &[&buf]))
}
