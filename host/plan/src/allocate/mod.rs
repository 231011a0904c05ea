//! Global allocation: which proposals become contacts, on which day.
//!
//! The problem: every client's proposals (one per channel and rank, each with its
//! value: the engine's priority, `score × C × V × L − cost`, an expected incremental
//! value when the bundle scores by uplift) are candidates; choose contacts to maximise
//! their total value subject to, per client, `max_contacts` in every rolling window,
//! `min_gap_days`, quiet days and what the bundle's caps leave after its history
//! (`rooms`); per channel, the window's and each day's capacity; per offer, a minimum
//! and a maximum volume and a share of all contacts; per category, a share; and a total
//! budget at each channel's cost.
//!
//! [`walk::Books`] accepts candidates in a given order and is the only place a contact
//! is booked: each check precedes the booking it allows, so no constraint can be
//! exceeded whatever the order. [`Allocation::Greedy`](crate::config::Allocation) walks
//! by priority (today's planner); `Optimal` first prices the shared constraints by a
//! Lagrangian dual (`dual.rs`), then walks by price-adjusted value. Both walk the
//! minimum volumes first, trim any share overshoot, and fill what is left.
pub mod dual;
pub mod walk;

use std::cmp::Ordering;

use crate::config::{Allocation, PlanConfig};
use crate::output::Refusals;
use crate::state::ClientState;
pub use walk::Books;

/// A day of the window no contact is booked on.
pub const NO_DAY: u8 = u8::MAX;
/// No limit in a room.
pub const UNLIMITED: u8 = u8::MAX;
/// A client without a preferred weekday.
pub const NO_WEEKDAY: u8 = u8::MAX;

/// One proposal: 32 bytes, held for every proposal of the base.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cand {
    /// The client's position in the input.
    pub client: u32,
    pub offer: u16,
    /// Channel index in the plan's preference order.
    pub pref: u8,
    pub rank: u8,
    pub treatment: u8,
    /// What the bundle's caps leave for this client after its history, for this offer,
    /// its category and its channel ([`UNLIMITED`]: no cap).
    pub room: [u8; 3],
    /// The predicted uplift (NaN: not uplift-scored).
    pub uplift: f32,
    /// The engine's priority: the value the plan maximises.
    pub value: f64,
    pub selection_probability: f64,
}

/// The candidates of the whole base, grouped by client in input order.
#[derive(Debug, Default)]
pub struct Pool {
    pub cands: Vec<Cand>,
    /// `first[c]..first[c + 1]`: client `c`'s candidates.
    pub first: Vec<u32>,
}

impl Pool {
    /// Starts the next client's candidates.
    pub fn open_client(&mut self) {
        self.first.push(self.cands.len() as u32);
    }

    /// Closes the pool (after the last client).
    pub fn close(&mut self) {
        self.first.push(self.cands.len() as u32);
    }

    /// Client `c`'s candidates' indices.
    pub fn of(&self, c: u32) -> std::ops::Range<usize> {
        self.first[c as usize] as usize..self.first[c as usize + 1] as usize
    }

    /// Number of clients.
    pub fn clients(&self) -> usize {
        self.first.len().saturating_sub(1)
    }
}

/// What the shared constraints are, by index.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Category index of each offer of the bundle.
    pub offer_category: Vec<u16>,
    pub n_categories: usize,
    /// Per offer of the bundle: (min, max, max share).
    pub offer_limits: Vec<(u64, u64, f64)>,
    /// Per category: max share.
    pub category_share: Vec<f64>,
}

impl Shape {
    /// From the plan's limits over the bundle's offers and categories.
    pub fn new(config: &PlanConfig, offer_category: Vec<u16>, n_categories: usize) -> Shape {
        let mut offer_limits = vec![(0, u64::MAX, 1.0); offer_category.len()];
        for l in &config.offers {
            offer_limits[l.index as usize] = (l.min, l.max, l.max_share);
        }
        let mut category_share = vec![1.0; n_categories];
        for l in &config.categories {
            category_share[l.index as usize] = l.max_share;
        }
        Shape { offer_category, n_categories, offer_limits, category_share }
    }
}

/// The allocation's result.
#[derive(Debug, Default)]
pub struct Result {
    /// Per candidate: the day of the window it is sent on, or [`NO_DAY`].
    pub day: Vec<u8>,
    /// Contacts per channel (plan order).
    pub used: Vec<u64>,
    pub refused: Refusals,
    /// Contacts per (channel, offer index).
    pub per_offer: std::collections::BTreeMap<(u8, u16), u64>,
    /// Sum of the contacts' values (the objective).
    pub value: f64,
    pub spent: f64,
    /// Offers below their minimum volume (too few eligible clients): (offer, got, min).
    pub shortfall: Vec<(u16, u64, u64)>,
    /// The Lagrangian dual's upper bound on the value (optimal allocation only).
    pub bound: Option<f64>,
    /// Dual iterations run.
    pub iterations: u32,
}

impl Shape {
    /// Whether `c` fits its caps' rooms next to the client's `booked` candidates: fewer
    /// booked of its offer, of its category and on its channel than each room allows.
    pub fn fits_rooms<'a>(&self, c: &Cand, booked: impl Iterator<Item = &'a Cand>) -> bool {
        if c.room == [UNLIMITED; 3] {
            return true;
        }
        let cat = self.offer_category[c.offer as usize];
        let mut n = [0u8; 3];
        for b in booked {
            n[0] += u8::from(b.offer == c.offer);
            n[1] += u8::from(self.offer_category[b.offer as usize] == cat);
            n[2] += u8::from(b.pref == c.pref);
        }
        (0..3).all(|i| c.room[i] == UNLIMITED || n[i] < c.room[i])
    }
}

/// The tie-break of two candidates of equal key: channel preference, client id, rank.
fn tie(a: &Cand, b: &Cand, id_rank: &[u32]) -> Ordering {
    a.pref.cmp(&b.pref).then(id_rank[a.client as usize].cmp(&id_rank[b.client as usize])).then(a.rank.cmp(&b.rank))
}

/// Candidate indices by `key` (highest first), ties broken by [`tie`].
pub fn order(pool: &Pool, key: &[f64], id_rank: &[u32]) -> Vec<u32> {
    use rayon::slice::ParallelSliceMut;
    let mut idx: Vec<u32> = (0..pool.cands.len() as u32).collect();
    idx.par_sort_unstable_by(|&a, &b| {
        key[b as usize].total_cmp(&key[a as usize]).then_with(|| tie(&pool.cands[a as usize], &pool.cands[b as usize], id_rank))
    });
    idx
}

/// Allocates `pool` under `config`; `states` are the clients' (days booked on return);
/// `id_rank[c]` is client `c`'s position in client-id order (the tie-break); `weekdays[c]`
/// the weekday a timing model prefers for client `c` (0 = Monday; [`NO_WEEKDAY`] or
/// absent: none).
pub fn allocate(pool: &Pool, states: &mut [ClientState], config: &PlanConfig, shape: &Shape, id_rank: &[u32], weekdays: &[u8]) -> Result {
    match config.allocation {
        Allocation::Greedy => {
            let key: Vec<f64> = pool.cands.iter().map(|c| c.value).collect();
            walk_all(pool, states, config, shape, id_rank, weekdays, &key, false)
        }
        Allocation::Optimal => {
            // Each price vector orders one walk; the plan of the best value is kept.
            let candidates = dual::solve(pool, states, config, shape, id_rank);
            let mut best: Option<(Result, Vec<ClientState>)> = None;
            for prices in &candidates {
                let mut trial = states.to_vec();
                let key = prices.adjusted(pool, config, shape);
                let mut r = walk_all(pool, &mut trial, config, shape, id_rank, weekdays, &key, true);
                r.bound = Some(prices.bound);
                r.iterations = prices.iterations;
                if best.as_ref().is_none_or(|(b, _)| r.value > b.value) {
                    best = Some((r, trial));
                }
            }
            match best {
                Some((r, trial)) => {
                    states.copy_from_slice(&trial);
                    r
                }
                None => Result::default(),
            }
        }
    }
}

/// One walk of every phase in the order of `key`: the minimums, the main walk (only
/// positive keys when `positive_only`), the share trim and refill, then (optimal) the
/// rest of the positive values in the same order.
#[allow(clippy::too_many_arguments)]
fn walk_all(
    pool: &Pool,
    states: &mut [ClientState],
    config: &PlanConfig,
    shape: &Shape,
    id_rank: &[u32],
    weekdays: &[u8],
    key: &[f64],
    positive_only: bool,
) -> Result {
    let by_key = order(pool, key, id_rank);
    let mut books = Books::new(pool, config, shape, weekdays);
    books.walk_minimums(&by_key, states);
    books.walk(&by_key, states, |j| !positive_only || key[j] > 0.0);
    if books.trim_shares(&by_key, states) {
        books.walk(&by_key, states, |j| !positive_only || key[j] > 0.0);
    }
    if positive_only {
        // What the prices left unused goes to the next best by adjusted value (still
        // worth sending: a positive value), so a budget is not spent on what the prices
        // ranked last.
        books.walk(&by_key, states, |j| pool.cands[j].value > 0.0);
    }
    books.finish(states)
}
