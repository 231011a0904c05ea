//! The books of an allocation: every counter a constraint reads, and the only code that
//! books or cancels a contact. `try_book` checks every constraint before it books, so
//! whatever order the candidates come in, none is exceeded.
use super::{Cand, Pool, Result, Shape, NO_DAY, NO_WEEKDAY, UNLIMITED};
use crate::config::PlanConfig;
use crate::state::ClientState;

/// Why a candidate was last turned down (0: never tried or booked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Refusal {
    None = 0,
    /// The client already had `max_contacts` (in a rolling window) or no day left for one more.
    ClientCap,
    /// A bundle cap (offer, category or channel) left no room after the history.
    ContactCap,
    ChannelCapacity,
    /// The offer reached its maximum volume or a share limit.
    OfferVolume,
    Budget,
    /// No day satisfied the quiet days, the gap and the channel's daily capacity.
    NoSendDay,
    /// The optimiser priced it out: the capacity it would use is worth more elsewhere.
    Outvalued,
}

/// The allocation's counters.
#[derive(Debug)]
pub struct Books<'a> {
    pool: &'a Pool,
    config: &'a PlanConfig,
    shape: &'a Shape,
    /// Per client, the weekday a timing model prefers (0 = Monday).
    weekdays: &'a [u8],
    pub day: Vec<u8>,
    last: Vec<Refusal>,
    channel_used: Vec<u64>,
    /// Per channel, contacts per day of the window.
    day_used: Vec<Vec<u64>>,
    offer_used: Vec<u64>,
    category_used: Vec<u64>,
    spent: f64,
    total: u64,
    value: f64,
}

impl<'a> Books<'a> {
    pub fn new(pool: &'a Pool, config: &'a PlanConfig, shape: &'a Shape, weekdays: &'a [u8]) -> Books<'a> {
        Books {
            pool,
            config,
            shape,
            weekdays,
            day: vec![NO_DAY; pool.cands.len()],
            last: vec![Refusal::None; pool.cands.len()],
            channel_used: vec![0; config.channels.len()],
            day_used: vec![vec![0; config.days as usize]; config.channels.len()],
            offer_used: vec![0; shape.offer_limits.len()],
            category_used: vec![0; shape.n_categories],
            spent: 0.0,
            total: 0,
            value: 0.0,
        }
    }

    /// Books every candidate of `order` that `take` accepts and every constraint allows.
    pub fn walk(&mut self, order: &[u32], states: &mut [ClientState], take: impl Fn(usize) -> bool) {
        for &j in order {
            let j = j as usize;
            if self.day[j] != NO_DAY {
                continue;
            }
            if !take(j) {
                if self.last[j] == Refusal::None {
                    self.last[j] = Refusal::Outvalued;
                }
                continue;
            }
            self.try_book(j, states, true);
        }
    }

    /// Books candidates of offers with a minimum volume, in `order`, until each reaches
    /// its minimum (share limits are checked against the minimums, which the
    /// configuration check keeps within them).
    pub fn walk_minimums(&mut self, order: &[u32], states: &mut [ClientState]) {
        if self.shape.offer_limits.iter().all(|l| l.0 == 0) {
            return;
        }
        for &j in order {
            let j = j as usize;
            let o = self.pool.cands[j].offer as usize;
            if self.offer_used[o] < self.shape.offer_limits[o].0 && self.day[j] == NO_DAY {
                self.try_book(j, states, false);
            }
        }
    }

    /// Cancels the lowest-ranked contacts of any offer or category above its share of
    /// all contacts (never below an offer's minimum); true if any was cancelled.
    pub fn trim_shares(&mut self, order: &[u32], states: &mut [ClientState]) -> bool {
        let mut any = false;
        for &j in order.iter().rev() {
            let j = j as usize;
            if self.day[j] == NO_DAY {
                continue;
            }
            let c = self.pool.cands[j];
            let (o, g) = (c.offer as usize, self.shape.offer_category[c.offer as usize] as usize);
            let (min, _, share) = self.shape.offer_limits[o];
            let over_offer = self.offer_used[o] as f64 > share * self.total as f64;
            let over_category = self.category_used[g] as f64 > self.shape.category_share[g] * self.total as f64;
            if (over_offer || over_category) && self.offer_used[o] > min {
                self.cancel(j, states);
                self.last[j] = Refusal::OfferVolume;
                any = true;
            }
        }
        any
    }

    fn cancel(&mut self, j: usize, states: &mut [ClientState]) {
        let c = self.pool.cands[j];
        let d = self.day[j];
        states[c.client as usize].cancel(u32::from(d));
        self.day[j] = NO_DAY;
        self.channel_used[c.pref as usize] -= 1;
        self.day_used[c.pref as usize][d as usize] -= 1;
        self.offer_used[c.offer as usize] -= 1;
        self.category_used[self.shape.offer_category[c.offer as usize] as usize] -= 1;
        self.spent -= self.config.channels[c.pref as usize].cost;
        self.total -= 1;
        self.value -= c.value;
    }

    /// Books candidate `j` if every constraint allows it; `shares`: check share limits
    /// against the plan so far (a booking may not take a group above its share once the
    /// plan holds enough contacts for the share to mean anything).
    fn try_book(&mut self, j: usize, states: &mut [ClientState], shares: bool) -> bool {
        let c: Cand = self.pool.cands[j];
        let st = states[c.client as usize];
        let ch = &self.config.channels[c.pref as usize];
        let refuse = |books: &mut Books<'_>, why: Refusal| {
            books.last[j] = why;
            false
        };
        if st.occupied().count_ones() >= self.config.max_contacts {
            return refuse(self, Refusal::ClientCap);
        }
        if !self.room_left(&c) {
            return refuse(self, Refusal::ContactCap);
        }
        if self.channel_used[c.pref as usize] >= ch.capacity {
            return refuse(self, Refusal::ChannelCapacity);
        }
        let o = c.offer as usize;
        let g = self.shape.offer_category[o] as usize;
        if self.offer_used[o] >= self.shape.offer_limits[o].1 {
            return refuse(self, Refusal::OfferVolume);
        }
        if shares && self.share_exceeded(o, g) {
            return refuse(self, Refusal::OfferVolume);
        }
        if self.spent + ch.cost > self.config.budget * (1.0 + 1e-12) {
            return refuse(self, Refusal::Budget);
        }
        let per_day = ch.per_day;
        let used = &self.day_used[c.pref as usize];
        // With a daily capacity, the least-loaded free day (ties: the earliest), so the
        // channel's days fill evenly and a client's later contacts still find a day;
        // without one, the earliest.
        // A timing model's weekday first, when one of its days is free.
        let free = self.config.free_days(st.occupied(), st.prior());
        let weekday = self.weekdays.get(c.client as usize).copied().unwrap_or(NO_WEEKDAY);
        let start = self.config.start_day;
        let preferred = |d: u32| weekday == NO_WEEKDAY || (start + i64::from(d) + 3).rem_euclid(7) == i64::from(weekday);
        let pick = |want: &dyn Fn(u32) -> bool| {
            (0..self.config.days).filter(|&d| free & (1 << d) != 0 && used[d as usize] < per_day && want(d)).min_by_key(|&d| {
                if per_day == u64::MAX {
                    u64::from(d)
                } else {
                    used[d as usize]
                }
            })
        };
        let day = pick(&preferred).or_else(|| pick(&|_| true));
        let Some(day) = day else {
            let why = if self.config.free_day(st.occupied(), st.prior(), |_| true).is_some() {
                Refusal::ChannelCapacity
            } else if st.prior() != 0 && self.config.free_day(st.occupied(), 0, |_| true).is_some() {
                Refusal::ClientCap
            } else {
                Refusal::NoSendDay
            };
            return refuse(self, why);
        };
        states[c.client as usize].contact_on(day);
        self.day[j] = day as u8;
        self.last[j] = Refusal::None;
        self.channel_used[c.pref as usize] += 1;
        self.day_used[c.pref as usize][day as usize] += 1;
        self.offer_used[o] += 1;
        self.category_used[g] += 1;
        self.spent += ch.cost;
        self.total += 1;
        self.value += c.value;
        true
    }

    /// Share limits: a booking may not take a group above its share of the contacts the
    /// plan would then hold. Below 1/share contacts in all, a share cannot hold yet and
    /// only the final trim enforces it.
    fn share_exceeded(&self, o: usize, g: usize) -> bool {
        let after = (self.total + 1) as f64;
        let offer_share = self.shape.offer_limits[o].2;
        let category_share = self.shape.category_share[g];
        let over = |used: u64, share: f64| share < 1.0 && after * share >= 1.0 && (used + 1) as f64 > share * after;
        over(self.offer_used[o], offer_share) || over(self.category_used[g], category_share)
    }

    /// Whether the client's bookings so far leave room under the cand's caps.
    fn room_left(&self, c: &Cand) -> bool {
        let booked = self.pool.of(c.client).filter(|&k| self.day[k] != NO_DAY).map(|k| &self.pool.cands[k]);
        self.shape.fits_rooms(c, booked)
    }

    /// The result; counts each never-booked candidate's last refusal, and notes on the
    /// client state that a shared limit (not its own caps) left it out.
    pub fn finish(self, states: &mut [ClientState]) -> Result {
        let mut r = Result { used: self.channel_used.clone(), value: self.value, spent: self.spent, ..Result::default() };
        for (j, c) in self.pool.cands.iter().enumerate() {
            if self.day[j] != NO_DAY {
                *r.per_offer.entry((c.pref, c.offer)).or_default() += 1;
                continue;
            }
            let st = &mut states[c.client as usize];
            match self.last[j] {
                Refusal::ChannelCapacity => st.refused_for_capacity(),
                Refusal::OfferVolume | Refusal::Budget | Refusal::Outvalued => st.refused_for_limits(),
                Refusal::ContactCap | Refusal::ClientCap if st.prior() != 0 || c.room != [UNLIMITED; 3] => st.refused_for_pressure(),
                _ => {}
            }
            let f = &mut r.refused;
            match self.last[j] {
                Refusal::None => {}
                Refusal::ClientCap => f.client_cap += 1,
                Refusal::ContactCap => f.contact_cap += 1,
                Refusal::ChannelCapacity => f.channel_capacity += 1,
                Refusal::OfferVolume => f.offer_volume += 1,
                Refusal::Budget => f.budget += 1,
                Refusal::NoSendDay => f.no_send_day += 1,
                Refusal::Outvalued => f.outvalued += 1,
            }
        }
        for (o, &(min, _, _)) in self.shape.offer_limits.iter().enumerate() {
            if self.offer_used[o] < min {
                r.shortfall.push((o as u16, self.offer_used[o], min));
            }
        }
        r.day = self.day;
        r
    }
}
