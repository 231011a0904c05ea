//! Which days of the window a client can still get a contact: quiet days, the gap from
//! every contact (before the window too), and `max_contacts` in every rolling window of
//! the plan's length that holds the day.
use crate::config::{PlanConfig, MAX_DAYS};

impl PlanConfig {
    /// The earliest day (index in the window) a client can get another contact: not
    /// quiet, not `used`, at least `min_gap_days` from every contact (in the window and in
    /// the `prior` days before it, bit `j` = day `j - 56`), no `days`-long window around it
    /// (before the start too) holding `max_contacts` contacts already, and `open(day)`.
    pub fn free_day(&self, used: u64, prior: u64, open: impl Fn(u32) -> bool) -> Option<u32> {
        let free = self.free_days(used, prior);
        (0..self.days).find(|&d| free & (1 << d) != 0 && open(d))
    }

    /// Every day [`PlanConfig::free_day`] could give (before `open`), one bit per day.
    pub fn free_days(&self, used: u64, prior: u64) -> u64 {
        let line: u128 = u128::from(prior) | (u128::from(used) << MAX_DAYS);
        let days = self.days;
        let mut free = 0u64;
        for d in 0..days {
            if (self.quiet | used) & (1 << d) != 0 {
                continue;
            }
            let at = MAX_DAYS + d;
            let gap = self.min_gap_days;
            if gap > 1 && line & span(at + 1 - gap.min(at + 1), at + gap) != 0 {
                continue;
            }
            if (at + 1 - days.min(at + 1)..=at).all(|s| (line & span(s, s + days)).count_ones() < self.max_contacts) {
                free |= 1 << d;
            }
        }
        free
    }

    /// How many more contacts a client with these days can get in the window (ignoring
    /// channel limits).
    pub fn placeable(&self, used: u64, prior: u64) -> u32 {
        let mut used = used;
        let mut n = 0;
        while let Some(d) = self.free_day(used, prior, |_| true) {
            used |= 1 << d;
            n += 1;
        }
        n
    }
}

/// Bits `from..to` of a 128-bit day line (clamped).
fn span(from: u32, to: u32) -> u128 {
    let to = to.min(128);
    if from >= to {
        return 0;
    }
    let width = to - from;
    let ones = if width == 128 { u128::MAX } else { (1u128 << width) - 1 };
    ones << from
}

#[cfg(test)]
mod tests {
    use crate::config::{Allocation, PlanConfig};

    fn config(days: u32, max_contacts: u32, min_gap_days: u32, quiet: u64) -> PlanConfig {
        PlanConfig {
            start_day: 20_780,
            days,
            seed: 0,
            max_contacts,
            min_gap_days,
            quiet,
            context: Default::default(),
            channels: Vec::new(),
            allocation: Allocation::Optimal,
            budget: f64::INFINITY,
            history_days: 30,
            send_hour: 10,
            dual_iterations: 1,
            offers: Vec::new(),
            categories: Vec::new(),
        }
    }

    /// Bit of the day `d` days before the window (`d` ≥ 1).
    fn before(d: u32) -> u64 {
        1 << (crate::config::MAX_DAYS - d)
    }

    #[test]
    fn the_gap_and_the_rolling_budget_count_the_days_before_the_window() {
        let c = config(7, 2, 2, 0);
        assert_eq!(c.free_day(0, 0, |_| true), Some(0));
        assert_eq!(c.free_day(0, before(1), |_| true), Some(1), "a contact yesterday: the gap of 2 days");
        // Two contacts in the last 3 days: every 7-day window holding days 0..=3 has both.
        assert_eq!(c.free_day(0, before(3) | before(1), |_| true), Some(4));
        assert_eq!(c.placeable(0, before(3) | before(1)), 2, "days 4 and 6: no 7 days hold three");
        // In the window: days 0 and 2 taken, max 2 in any week: nothing left.
        assert_eq!(c.free_days(1 | 1 << 2, 0), 0);
        // Quiet days and the caller's own condition.
        let quiet = config(7, 3, 1, 0b11);
        assert_eq!(quiet.free_day(0, 0, |_| true), Some(2));
        assert_eq!(quiet.free_day(0, 0, |d| d != 2), Some(3));
        assert_eq!(quiet.placeable(0, 0), 3);
    }
}
