//! Prices for the shared constraints, by Lagrangian relaxation.
//!
//! Relaxing every constraint that couples clients (channel capacities over the window,
//! daily capacities summed over the send days, each offer's maximum and minimum volume,
//! offer and category shares, the budget) with a price leaves one small problem per
//! client: take at most the contacts it can still get, each with value
//!
//! `a = value − λ_channel − λ_offer_max + μ_offer_min − σ_offer − σ_category + Σ σ·share − β·cost`,
//!
//! highest first while positive and within its caps' rooms. Summing the clients' best
//! and the prices times the limits gives an upper bound on any allocation's value (the
//! dual function); projected subgradient steps lower it. The prices that gave the lowest
//! bound order the walk (`walk.rs`), which books only what every constraint allows.
//! Each iteration is one parallel pass over the candidates, so it scales with the base.
use rayon::prelude::*;

use super::{Pool, Shape};
use crate::config::PlanConfig;
use crate::state::ClientState;

/// Dual iterations unless plan.toml sets `dual_iterations`.
pub const ITERATIONS: u32 = 120;

/// The prices of the shared constraints.
#[derive(Debug, Clone, PartialEq)]
pub struct Prices {
    pub channel: Vec<f64>,
    pub offer_max: Vec<f64>,
    pub offer_min: Vec<f64>,
    pub offer_share: Vec<f64>,
    pub category_share: Vec<f64>,
    pub budget: f64,
    /// The lowest dual bound found (an upper bound on the plan's value).
    pub bound: f64,
    pub iterations: u32,
}

/// What the clients' best choices use at given prices.
#[derive(Debug, Clone, Default)]
struct Usage {
    channel: Vec<u64>,
    offer: Vec<u64>,
    category: Vec<u64>,
    total: u64,
    cost: f64,
    /// Sum of the clients' best adjusted values.
    value: f64,
}

impl Usage {
    fn zero(config: &PlanConfig, shape: &Shape) -> Usage {
        Usage {
            channel: vec![0; config.channels.len()],
            offer: vec![0; shape.offer_limits.len()],
            category: vec![0; shape.n_categories],
            ..Usage::default()
        }
    }

    fn add(mut self, o: Usage) -> Usage {
        for (a, b) in self.channel.iter_mut().zip(&o.channel) {
            *a += b;
        }
        for (a, b) in self.offer.iter_mut().zip(&o.offer) {
            *a += b;
        }
        for (a, b) in self.category.iter_mut().zip(&o.category) {
            *a += b;
        }
        self.total += o.total;
        self.cost += o.cost;
        self.value += o.value;
        self
    }
}

impl Prices {
    fn zero(config: &PlanConfig, shape: &Shape) -> Prices {
        let n = shape.offer_limits.len();
        Prices {
            channel: vec![0.0; config.channels.len()],
            offer_max: vec![0.0; n],
            offer_min: vec![0.0; n],
            offer_share: vec![0.0; n],
            category_share: vec![0.0; shape.n_categories],
            budget: 0.0,
            bound: f64::INFINITY,
            iterations: 0,
        }
    }

    /// Every candidate's price-adjusted value.
    pub fn adjusted(&self, pool: &Pool, config: &PlanConfig, shape: &Shape) -> Vec<f64> {
        let common = self.common(shape);
        pool.cands.par_iter().map(|c| self.adjust(c.value, c.pref, c.offer, config, shape, common)).collect()
    }

    /// The share prices' part every contact gets back (`Σ σ·share`).
    fn common(&self, shape: &Shape) -> f64 {
        let offers: f64 = self.offer_share.iter().zip(&shape.offer_limits).map(|(s, l)| s * l.2).sum();
        let categories: f64 = self.category_share.iter().zip(&shape.category_share).map(|(s, share)| s * share).sum();
        offers + categories
    }

    fn adjust(&self, value: f64, pref: u8, offer: u16, config: &PlanConfig, shape: &Shape, common: f64) -> f64 {
        let (o, ch) = (offer as usize, pref as usize);
        let g = shape.offer_category[o] as usize;
        value - self.channel[ch] - self.offer_max[o] + self.offer_min[o] - self.offer_share[o] - self.category_share[g] + common
            - self.budget * config.channels[ch].cost
    }
}

/// Each client's best choice at `prices`, summed over the clients in client-id order
/// (`by_id`), so the prices depend neither on the thread count nor on the input's order.
fn usage(pool: &Pool, by_id: &[u32], placeable: &[u8], config: &PlanConfig, shape: &Shape, prices: &Prices) -> Usage {
    let common = prices.common(shape);
    // Fixed chunks summed in order: the same prices whatever the thread count.
    const CHUNK: usize = 4096;
    let n = pool.clients();
    let parts: Vec<Usage> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|k| {
            let mut u = Usage::zero(config, shape);
            let mut buf: Vec<(f64, usize)> = Vec::new();
            let mut taken: Vec<usize> = Vec::new();
            let end = ((k + 1) * CHUNK).min(n);
            for &c in &by_id[k * CHUNK..end] {
                let c = c as usize;
                let m = placeable[c] as usize;
                let range = pool.of(c as u32);
                if m == 0 || range.is_empty() {
                    continue;
                }
                buf.clear();
                for j in range {
                    let x = &pool.cands[j];
                    let a = prices.adjust(x.value, x.pref, x.offer, config, shape, common);
                    if a > 0.0 {
                        buf.push((a, j));
                    }
                }
                buf.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                taken.clear();
                for &(a, j) in buf.iter() {
                    if taken.len() == m {
                        break;
                    }
                    let x = &pool.cands[j];
                    if !shape.fits_rooms(x, taken.iter().map(|&k| &pool.cands[k])) {
                        continue;
                    }
                    let cat = shape.offer_category[x.offer as usize];
                    taken.push(j);
                    u.value += a;
                    u.channel[x.pref as usize] += 1;
                    u.offer[x.offer as usize] += 1;
                    u.category[cat as usize] += 1;
                    u.total += 1;
                    u.cost += config.channels[x.pref as usize].cost;
                }
            }
            u
        })
        .collect();
    parts.into_iter().fold(Usage::zero(config, shape), Usage::add)
}

/// Contacts each client can still get (its rolling `max_contacts`, gaps and quiet days,
/// after its history), at most 255.
pub fn placeable(states: &[ClientState], config: &PlanConfig) -> Vec<u8> {
    states.par_iter().map(|s| config.placeable(s.occupied(), s.prior()).min(255) as u8).collect()
}

/// Adds `w × other` to every price of `acc`.
fn accumulate(acc: &mut Prices, other: &Prices, w: f64) {
    let add = |a: &mut Vec<f64>, b: &Vec<f64>| a.iter_mut().zip(b).for_each(|(x, y)| *x += w * y);
    add(&mut acc.channel, &other.channel);
    add(&mut acc.offer_max, &other.offer_max);
    add(&mut acc.offer_min, &other.offer_min);
    add(&mut acc.offer_share, &other.offer_share);
    add(&mut acc.category_share, &other.category_share);
    acc.budget += w * other.budget;
}

/// Projected subgradient descent on the dual. Returns price vectors to order the walk
/// by, the first with the lowest bound found (its `bound` is the plan's upper bound),
/// then the last iterate and the mean of the second half of the iterates (the usual
/// primal recovery of subgradient methods): the caller keeps the best plan of them.
/// `id_rank[c]`: client `c`'s position in client-id order.
pub fn solve(pool: &Pool, states: &[ClientState], config: &PlanConfig, shape: &Shape, id_rank: &[u32]) -> Vec<Prices> {
    let placeable = placeable(states, config);
    let mut by_id = vec![0u32; id_rank.len()];
    for (c, &r) in id_rank.iter().enumerate() {
        by_id[r as usize] = c as u32;
    }
    let mut p = Prices::zero(config, shape);
    let mut best = p.clone();
    // The step's scale: the mean positive value of a candidate (summed in client-id order).
    let positive: Vec<f64> = by_id.iter().flat_map(|&c| pool.of(c).map(|j| pool.cands[j].value)).filter(|v| *v > 0.0).collect();
    if positive.is_empty() {
        best.bound = 0.0;
        return vec![best];
    }
    let mut mean = Prices::zero(config, shape);
    let mut averaged = 0u32;
    let scale = positive.iter().sum::<f64>() / positive.len() as f64;
    let capacity: Vec<f64> = config.channels.iter().map(|c| config.channel_reach(c) as f64).collect();
    let finite = |x: u64| x != u64::MAX;
    let iterations = config.dual_iterations;
    // Steps shrink geometrically to 1% of the first over the iterations.
    let decay = 0.01f64.powf(1.0 / f64::from(iterations));
    for it in 0..iterations {
        let u = usage(pool, &by_id, &placeable, config, shape, &p);
        // The dual function at p: the clients' best plus the prices times the limits.
        let mut bound = u.value;
        for (ch, cap) in capacity.iter().enumerate() {
            if p.channel[ch] > 0.0 {
                bound += p.channel[ch] * cap;
            }
        }
        for (o, &(min, max, _)) in shape.offer_limits.iter().enumerate() {
            if finite(max) {
                bound += p.offer_max[o] * max as f64;
            }
            bound -= p.offer_min[o] * min as f64;
        }
        if config.budget.is_finite() {
            bound += p.budget * config.budget;
        }
        if bound < best.bound {
            best = Prices { bound, iterations: it + 1, ..p.clone() };
        }
        best.iterations = it + 1;
        if it >= iterations / 2 {
            accumulate(&mut mean, &p, 1.0);
            averaged += 1;
        }
        // Steps relative to each limit, shrinking geometrically.
        let step = scale * 0.6 * decay.powi(it as i32);
        let total = u.total as f64;
        let rel = |used: f64, limit: f64| (used - limit) / limit.max(1.0);
        for (ch, cap) in capacity.iter().enumerate() {
            p.channel[ch] = (p.channel[ch] + step * rel(u.channel[ch] as f64, *cap)).max(0.0);
        }
        for (o, &(min, max, share)) in shape.offer_limits.iter().enumerate() {
            let n = u.offer[o] as f64;
            if finite(max) {
                p.offer_max[o] = (p.offer_max[o] + step * rel(n, max as f64)).max(0.0);
            }
            if min > 0 {
                p.offer_min[o] = (p.offer_min[o] + step * (min as f64 - n) / (min as f64)).max(0.0);
            }
            if share < 1.0 {
                p.offer_share[o] = (p.offer_share[o] + step * (n - share * total) / (share * total).max(1.0)).max(0.0);
            }
        }
        for (g, &share) in shape.category_share.iter().enumerate() {
            if share < 1.0 {
                let n = u.category[g] as f64;
                p.category_share[g] = (p.category_share[g] + step * (n - share * total) / (share * total).max(1.0)).max(0.0);
            }
        }
        if config.budget.is_finite() {
            let cheapest = config.channels.iter().map(|c| c.cost).filter(|c| *c > 0.0).fold(f64::INFINITY, f64::min);
            p.budget = (p.budget + step / cheapest.max(1e-12) * rel(u.cost, config.budget)).max(0.0);
        }
    }
    let mut last = p;
    last.bound = best.bound;
    last.iterations = best.iterations;
    let mut average = Prices::zero(config, shape);
    accumulate(&mut average, &mean, 1.0 / f64::from(averaged.max(1)));
    average.bound = best.bound;
    average.iterations = best.iterations;
    vec![best, last, average]
}
