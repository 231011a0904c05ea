//! The plan's shared limits: offer and category limits as plan.toml names them, what each
//! channel can carry, and the check that refuses limits no allocation can meet before
//! any decision is made.
use std::path::Path;

use vitrine_engine::bundle::Bundle;

use crate::config::{ChannelPlan, Limit, PlanConfig, RawLimit};
use crate::PlanError;

impl PlanConfig {
    /// Send days of the window (not quiet).
    pub fn send_days(&self) -> u64 {
        u64::from(self.days - self.quiet.count_ones())
    }

    /// Contacts channel `c` can carry over the window: its capacity, its daily capacity
    /// over the send days, and the budget at its cost.
    pub fn channel_reach(&self, c: &ChannelPlan) -> u64 {
        let daily = c.per_day.saturating_mul(self.send_days());
        let by_budget = if c.cost > 0.0 && self.budget.is_finite() { (self.budget / c.cost).floor() as u64 } else { u64::MAX };
        c.capacity.min(daily).min(by_budget)
    }

    /// Refuses, before any decision, limits that no allocation can meet.
    pub(crate) fn check_feasible(&self, bundle: &Bundle) -> Result<(), PlanError> {
        let infeasible = |constraint: String, reason: String| Err(PlanError::Infeasible { constraint, reason });
        let total: u64 = self.channels.iter().map(|c| self.channel_reach(c)).fold(0, u64::saturating_add);
        let mut mins = 0u64;
        for l in &self.offers {
            let name = format!("offers.{}", l.id);
            if l.min > l.max {
                return infeasible(name, format!("min = {} is above max = {}", l.min, l.max));
            }
            let offer = &bundle.offers[l.index as usize];
            let reach: u64 = self
                .channels
                .iter()
                .filter(|c| offer.slots.iter().any(|&s| bundle.slots.get(s as usize).is_some_and(|d| d.id == c.slot)))
                .map(|c| self.channel_reach(c))
                .fold(0, u64::saturating_add);
            if l.min > reach {
                return infeasible(
                    name,
                    format!("min = {} contacts, but the planned channels whose slot carries the offer can send at most {reach}", l.min),
                );
            }
            if l.min > 0 && (l.min as f64) > l.max_share * total as f64 {
                return infeasible(
                    name,
                    format!("min = {} is above max_share = {} of the at most {total} contacts the channels can send", l.min, l.max_share),
                );
            }
            mins = mins.saturating_add(l.min);
        }
        if mins > total {
            return infeasible(
                "offers".into(),
                format!("the minimum volumes add up to {mins}, above the {total} contacts the channels can send"),
            );
        }
        if self.budget.is_finite() {
            let cheapest = self.channels.iter().map(|c| c.cost).fold(f64::INFINITY, f64::min);
            if mins as f64 * cheapest > self.budget {
                return infeasible(
                    "budget".into(),
                    format!(
                        "the minimum volumes ({mins} contacts) cost at least {:.2} at the cheapest channel, above the budget {}",
                        mins as f64 * cheapest,
                        self.budget
                    ),
                );
            }
        }
        Ok(())
    }
}

pub(crate) fn limits(raw: &[RawLimit], known: &[&str], what: &str, path: &Path) -> Result<Vec<Limit>, PlanError> {
    let bad = |reason: String| PlanError::Config { path: path.to_path_buf(), reason };
    let mut out: Vec<Limit> = Vec::with_capacity(raw.len());
    for r in raw {
        let Some(index) = known.iter().position(|k| *k == r.id) else {
            let hint =
                vitrine_base::suggest::closest(&r.id, known.iter().copied()).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
            return Err(bad(format!("unknown {what} `{}` in [[{what}s]]{hint}", r.id).replace("categorys", "categories")));
        };
        if out.iter().any(|l| l.id == r.id) {
            return Err(bad(format!("{what} `{}` is listed twice", r.id)));
        }
        let count = |name: &str, v: Option<i64>, default: u64| match v {
            None => Ok(default),
            Some(n) if n < 0 => Err(bad(format!("{what} `{}`: {name} = {n} is negative", r.id))),
            Some(n) => Ok(n as u64),
        };
        let share = r.max_share.unwrap_or(1.0);
        if !(share > 0.0 && share <= 1.0) {
            return Err(bad(format!("{what} `{}`: max_share = {share} is not in (0, 1]", r.id)));
        }
        out.push(Limit {
            index: index as u16,
            id: r.id.clone(),
            min: count("min", r.min, 0)?,
            max: count("max", r.max, u64::MAX)?,
            max_share: share,
        });
    }
    Ok(out)
}
