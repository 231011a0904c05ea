//! Seeded allocation instances shaped like a telco campaign: three channels with
//! different costs and response, twelve offers in four categories, clients with one to
//! three channels consented and some caps left by their history.
use std::collections::BTreeMap;

use vitrine_engine::policy::SplitMix64;
use vitrine_plan::allocate::{Cand, Pool, Shape, UNLIMITED};
use vitrine_plan::{Allocation, ChannelPlan, ClientState, Limit, PlanConfig};

pub const OFFERS: usize = 12;
pub const CATEGORIES: usize = 4;

/// A plan's policy with every kind of shared limit.
pub fn config(clients: u64, allocation: Allocation) -> PlanConfig {
    let channel = |name: &str, capacity: u64, per_day: u64, cost: f64| ChannelPlan {
        name: name.into(),
        slot: format!("{name}_slot"),
        k: 2,
        capacity,
        per_day,
        cost,
        quiet_hours: None,
    };
    let limit = |index: u16, min: u64, max: u64, max_share: f64| Limit { index, id: format!("offer_{index}"), min, max, max_share };
    PlanConfig {
        start_day: 20_780,
        days: 7,
        seed: 1,
        max_contacts: 2,
        min_gap_days: 2,
        quiet: 1 << 6,
        context: BTreeMap::new(),
        channels: vec![
            channel("email", clients * 6 / 10, u64::MAX, 0.002),
            channel("push", clients / 4, clients / 20, 0.0),
            channel("sms", clients / 8, u64::MAX, 0.05),
        ],
        allocation,
        budget: clients as f64 * 0.004,
        history_days: 30,
        send_hour: 10,
        dual_iterations: vitrine_plan::allocate::dual::ITERATIONS,
        offers: vec![limit(0, 0, clients / 10, 1.0), limit(3, clients / 25, u64::MAX, 1.0), limit(5, 0, u64::MAX, 0.12)],
        categories: vec![Limit { index: 1, id: "category_1".into(), min: 0, max: u64::MAX, max_share: 0.35 }],
    }
}

/// The instance: candidates, client states and the shared limits' shape.
pub struct Instance {
    pub pool: Pool,
    pub states: Vec<ClientState>,
    pub shape: Shape,
    pub id_rank: Vec<u32>,
}

/// `clients` clients drawn from `seed`.
pub fn instance(clients: u32, seed: u64, config: &PlanConfig) -> Instance {
    let mut rng = SplitMix64::new(seed);
    let offer_category: Vec<u16> = (0..OFFERS).map(|o| (o % CATEGORIES) as u16).collect();
    let offer_value: Vec<f64> = (0..OFFERS).map(|o| 0.5 + o as f64 * 0.15).collect();
    let response = [1.0, 0.6, 2.2];
    let mut pool = Pool::default();
    let mut states = Vec::new();
    for c in 0..clients {
        pool.open_client();
        let appetite = 0.2 + 1.8 * rng.next_f64();
        let mut prior = 0u64;
        if rng.next_f64() < 0.15 {
            // A contact three days before the window: the rolling window and the gap count it.
            prior |= 1 << 53;
        }
        states.push(ClientState::new(vitrine_plan::Status::Candidates).with_prior(prior));
        for (pref, ch) in config.channels.iter().enumerate() {
            if rng.next_f64() < 0.3 {
                continue; // no consent to this channel
            }
            // A channel cap with one contact left after the history, for some clients.
            let channel_room = if rng.next_f64() < 0.1 { 1 } else { UNLIMITED };
            let mut offers: Vec<usize> = Vec::new();
            while offers.len() < ch.k as usize {
                let o = (rng.next_u64() % OFFERS as u64) as usize;
                if !offers.contains(&o) {
                    offers.push(o);
                }
            }
            for (rank, &o) in offers.iter().enumerate() {
                let p = 0.02 + 0.1 * rng.next_f64() * appetite;
                let value = p * offer_value[o] * response[pref] * 10.0 - ch.cost;
                let room = [UNLIMITED, UNLIMITED, channel_room];
                pool.cands.push(Cand {
                    client: c,
                    offer: o as u16,
                    pref: pref as u8,
                    rank: rank as u8 + 1,
                    treatment: 0,
                    room,
                    uplift: f32::NAN,
                    value,
                    selection_probability: 1.0,
                });
            }
        }
    }
    pool.close();
    // The engine never proposes one offer twice to a client: keep the first.
    dedupe(&mut pool);
    let shape = Shape::new(config, offer_category, CATEGORIES);
    let id_rank = (0..clients).collect();
    Instance { pool, states, shape, id_rank }
}

fn dedupe(pool: &mut Pool) {
    let mut out = Pool::default();
    for c in 0..pool.clients() as u32 {
        out.open_client();
        let mut seen = Vec::new();
        for j in pool.of(c) {
            let x = pool.cands[j];
            if !seen.contains(&x.offer) {
                seen.push(x.offer);
                out.cands.push(x);
            }
        }
    }
    out.close();
    *pool = out;
}
