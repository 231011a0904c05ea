//! The planning policy (`plan.toml`) and its checks against the bundle.
//!
//! ```toml
//! start = "2026-11-23"        # first send day (UTC)
//! days = 7                    # window length, 1 to 56 days
//! seed = 2026                 # exploration seed of this plan
//! max_contacts = 2            # per client over the window, all channels together
//! min_gap_days = 2            # between two contacts of one client
//! quiet_days = ["sunday", "2026-11-25"]
//! context = { page = "campaign" }   # decide context, if the schema has one
//! allocation = "optimal"      # or "greedy" (today's order by priority, for comparison)
//! budget = 25000.0            # total spend over the window (needs channel costs)
//! history_days = 30           # contact history read with --history (default: the
//!                             # longest window of the bundle's caps, suppression and plan)
//! send_hour = 10              # send hour (UTC) when a client's history tells none
//! # dual_iterations = 120     # subgradient steps of the optimal allocation's prices
//!
//! [[channels]]                # in preference order
//! name = "email"
//! capacity = 500000           # contacts over the window
//! # capacity_per_day = 80000  # contacts per send day
//! # cost = 0.002              # per contact (default: the bundle's channel cost)
//! # quiet_hours = [21, 8]     # no sends from 21:00 up to 08:00 (UTC)
//! # slot = "email_weekly"     # default: the bundle's first slot on this channel
//! # k = 2                     # candidates asked per client (default: max_contacts)
//!
//! [[offers]]                  # volume and share limits, per offer
//! id = "fibre_upgrade"
//! min = 1000                  # contacts at least (an error if capacities cannot reach it)
//! max = 20000                 # contacts at most (stock)
//! max_share = 0.4             # of all the plan's contacts
//!
//! [[categories]]
//! id = "upsell"
//! max_share = 0.6
//! ```
use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use vitrine_engine::bundle::Bundle;
use vitrine_engine::decision::ContextValue;

use crate::PlanError;
use vitrine_store::table::days_from_civil;

/// Longest planning window (the per-client day mask is 56 bits).
pub const MAX_DAYS: u32 = 56;

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    start: String,
    days: u32,
    #[serde(default)]
    seed: u64,
    max_contacts: u32,
    #[serde(default)]
    min_gap_days: u32,
    #[serde(default)]
    quiet_days: Vec<String>,
    #[serde(default)]
    context: BTreeMap<String, ContextValue>,
    #[serde(default)]
    allocation: Allocation,
    #[serde(default)]
    budget: Option<f64>,
    #[serde(default)]
    history_days: Option<u32>,
    #[serde(default = "default_hour")]
    send_hour: u8,
    #[serde(default)]
    dual_iterations: Option<u32>,
    channels: Vec<RawChannel>,
    #[serde(default)]
    offers: Vec<RawLimit>,
    #[serde(default)]
    categories: Vec<RawLimit>,
}

fn default_hour() -> u8 {
    10
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimit {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) min: Option<i64>,
    #[serde(default)]
    pub(crate) max: Option<i64>,
    #[serde(default)]
    pub(crate) max_share: Option<f64>,
}

/// How proposals become contacts.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Allocation {
    /// Maximise the plan's expected value under every constraint (`allocate/`).
    #[default]
    Optimal,
    /// By priority alone, highest first (the planner before constraints; kept to compare).
    Greedy,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
struct RawChannel {
    name: String,
    capacity: i64,
    #[serde(default)]
    slot: Option<String>,
    #[serde(default)]
    k: Option<u8>,
    #[serde(default)]
    capacity_per_day: Option<i64>,
    #[serde(default)]
    cost: Option<f64>,
    #[serde(default)]
    quiet_hours: Option<[u8; 2]>,
}

/// One channel of the plan, in preference order.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelPlan {
    pub name: String,
    /// The bundle slot whose arbitration proposes this channel's offers.
    pub slot: String,
    /// Candidates asked per client.
    pub k: u8,
    /// Contacts allowed over the window.
    pub capacity: u64,
    /// Contacts allowed per send day (`u64::MAX`: no daily limit).
    pub per_day: u64,
    /// Cost of one contact (plan.toml, else the bundle's channel cost, else 0).
    pub cost: f64,
    /// No sends from hour `.0` up to hour `.1` (UTC; wraps past midnight).
    pub quiet_hours: Option<[u8; 2]>,
}

impl ChannelPlan {
    /// The first hour at or after `hour` (wrapping within the day) that is not quiet.
    pub fn send_hour(&self, hour: u8) -> u8 {
        self.quiet_hours.map_or(hour, |q| vitrine_base::hours::open_hour(q, hour))
    }
}

/// Volume and share limits of one offer or category.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    /// Offer or category index in the bundle.
    pub index: u16,
    pub id: String,
    pub min: u64,
    /// `u64::MAX`: no maximum.
    pub max: u64,
    /// 1.0: no share limit.
    pub max_share: f64,
}

/// The checked planning policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanConfig {
    /// First send day, days since 1970-01-01.
    pub start_day: i64,
    pub days: u32,
    pub seed: u64,
    pub max_contacts: u32,
    pub min_gap_days: u32,
    /// Bit `d` set: day `d` of the window is quiet (no sends).
    pub quiet: u64,
    pub context: BTreeMap<String, ContextValue>,
    pub channels: Vec<ChannelPlan>,
    pub allocation: Allocation,
    /// Total spend allowed (`f64::INFINITY`: none).
    pub budget: f64,
    /// Contact history read before the window, in days.
    pub history_days: u32,
    /// Send hour when the client's history tells none.
    pub send_hour: u8,
    /// Subgradient steps of the optimal allocation's dual.
    pub dual_iterations: u32,
    /// Limits per offer (bundle order of the offers named).
    pub offers: Vec<Limit>,
    /// Limits per category (index into the bundle's categories, sorted by name).
    pub categories: Vec<Limit>,
}

const WEEKDAYS: [&str; 7] = ["thursday", "friday", "saturday", "sunday", "monday", "tuesday", "wednesday"];

impl PlanConfig {
    /// Reads and checks `path` against `bundle`.
    pub fn load(path: &Path, bundle: &Bundle) -> Result<PlanConfig, PlanError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Io { path: path.to_path_buf(), source })?;
        PlanConfig::parse(&text, path, bundle)
    }

    /// Parses and checks TOML text (`path` only names it in errors).
    pub fn parse(text: &str, path: &Path, bundle: &Bundle) -> Result<PlanConfig, PlanError> {
        let bad = |reason: String| PlanError::Config { path: path.to_path_buf(), reason };
        let raw: RawConfig = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let start_day = parse_date(&raw.start).ok_or_else(|| bad(format!("start `{}` is not a date (YYYY-MM-DD)", raw.start)))?;
        if raw.days == 0 || raw.days > MAX_DAYS {
            return Err(bad(format!("days = {} is not in 1..={MAX_DAYS}", raw.days)));
        }
        if raw.max_contacts == 0 || raw.max_contacts > raw.days {
            return Err(bad(format!(
                "max_contacts = {} is not in 1..=days ({}): a client gets at most one contact a day",
                raw.max_contacts, raw.days
            )));
        }
        if raw.seed > vitrine_engine::limits::MAX_SEED {
            return Err(bad(format!("seed {} is above 2^53 - 1", raw.seed)));
        }
        let mut quiet = 0u64;
        for q in &raw.quiet_days {
            let lower = q.to_ascii_lowercase();
            if let Some(w) = WEEKDAYS.iter().position(|d| *d == lower) {
                for d in 0..raw.days {
                    if (start_day + d as i64).rem_euclid(7) as usize == w {
                        quiet |= 1 << d;
                    }
                }
            } else if let Some(day) = parse_date(q) {
                let d = day - start_day;
                if (0..raw.days as i64).contains(&d) {
                    quiet |= 1 << d;
                }
            } else {
                return Err(bad(format!("quiet day `{q}` is neither a weekday name nor a date (YYYY-MM-DD)")));
            }
        }
        if quiet.count_ones() == raw.days {
            return Err(bad("every day of the window is quiet: nothing can be sent".into()));
        }
        if raw.channels.is_empty() {
            return Err(bad("no [[channels]]: name at least one, in preference order".into()));
        }
        let schema = &bundle.schema;
        let mut channels: Vec<ChannelPlan> = Vec::with_capacity(raw.channels.len());
        for c in &raw.channels {
            let Some(index) = schema.channel(&c.name) else {
                return Err(PlanError::UnknownChannel { channel: c.name.clone(), known: schema.channels.join(", ") });
            };
            if channels.iter().any(|p| p.name == c.name) {
                return Err(bad(format!("channel `{}` is listed twice", c.name)));
            }
            if c.capacity < 0 {
                return Err(PlanError::NegativeCapacity { channel: c.name.clone(), capacity: c.capacity });
            }
            let slot =
                match &c.slot {
                    Some(s) => {
                        let def = bundle.slots.iter().find(|d| d.id == *s).ok_or_else(|| PlanError::Slot {
                            channel: c.name.clone(),
                            reason: format!("slot `{s}` is not in the bundle"),
                        })?;
                        if def.channel as usize != index {
                            return Err(PlanError::Slot {
                                channel: c.name.clone(),
                                reason: format!("slot `{s}` belongs to channel `{}`", schema.channels[def.channel as usize]),
                            });
                        }
                        s.clone()
                    }
                    None => bundle.slots.iter().find(|d| d.channel as usize == index).map(|d| d.id.clone()).ok_or_else(|| {
                        PlanError::Slot { channel: c.name.clone(), reason: "the bundle has no slot on this channel".into() }
                    })?,
                };
            let k = c.k.unwrap_or(raw.max_contacts.min(u8::MAX as u32) as u8);
            if k == 0 || k as usize > vitrine_engine::limits::MAX_K {
                return Err(PlanError::Slot {
                    channel: c.name.clone(),
                    reason: format!("k = {k} is not in 1..={}", vitrine_engine::limits::MAX_K),
                });
            }
            let per_day = match c.capacity_per_day {
                None => u64::MAX,
                Some(n) if n < 0 => return Err(PlanError::NegativeCapacity { channel: c.name.clone(), capacity: n }),
                Some(n) => n as u64,
            };
            let bundle_cost = bundle.policy.channel_costs.iter().find(|x| x.channel as usize == index).map(|x| f64::from(x.cost));
            let cost = c.cost.or(bundle_cost).unwrap_or(0.0);
            if !cost.is_finite() || cost < 0.0 {
                return Err(bad(format!("channel `{}`: cost {cost} is not a finite number ≥ 0", c.name)));
            }
            if let Some(q) = c.quiet_hours {
                vitrine_base::hours::check(q).map_err(|reason| bad(format!("channel `{}`: {reason}", c.name)))?;
            }
            channels.push(ChannelPlan {
                name: c.name.clone(),
                slot,
                k,
                capacity: c.capacity as u64,
                per_day,
                cost,
                quiet_hours: c.quiet_hours,
            });
        }
        let dual_iterations = raw.dual_iterations.unwrap_or(crate::allocate::dual::ITERATIONS);
        if dual_iterations == 0 || dual_iterations > 10_000 {
            return Err(bad(format!("dual_iterations = {dual_iterations} is not in 1..=10000")));
        }
        if raw.send_hour > 23 {
            return Err(bad(format!("send_hour = {} is not an hour in 0..=23", raw.send_hour)));
        }
        let budget = match raw.budget {
            None => f64::INFINITY,
            Some(b) if !b.is_finite() || b < 0.0 => return Err(bad(format!("budget = {b} is not a finite number ≥ 0"))),
            Some(_) if channels.iter().all(|c| c.cost == 0.0) => {
                return Err(PlanError::Infeasible {
                    constraint: "budget".into(),
                    reason: "no planned channel has a cost (set `cost` on a [[channels]] or channel costs in the bundle)".into(),
                })
            }
            Some(b) => b,
        };
        let history_days = match raw.history_days {
            Some(d) if d == 0 || d > MAX_HISTORY_DAYS => {
                return Err(bad(format!("history_days = {d} is not in 1..={MAX_HISTORY_DAYS}")));
            }
            Some(d) => d,
            None => default_history_days(bundle, raw.days, raw.min_gap_days),
        };
        let offer_ids: Vec<&str> = bundle.offers.iter().map(|o| o.id.as_str()).collect();
        let category_ids = categories(bundle);
        let offers = crate::limits::limits(&raw.offers, &offer_ids, "offer", path)?;
        let categories = crate::limits::limits(&raw.categories, &category_ids, "category", path)?;
        let config = PlanConfig {
            start_day,
            days: raw.days,
            seed: raw.seed,
            max_contacts: raw.max_contacts,
            min_gap_days: raw.min_gap_days,
            quiet,
            context: raw.context,
            channels,
            allocation: raw.allocation,
            budget,
            history_days,
            send_hour: raw.send_hour,
            dual_iterations,
            offers,
            categories,
        };
        config.check_feasible(bundle)?;
        Ok(config)
    }

    /// Unix seconds of the window's start (midnight UTC): the `now` of every decision.
    pub fn now(&self) -> u64 {
        (self.start_day.max(0) as u64) * 86_400
    }
}

/// Longest contact history a plan reads.
pub const MAX_HISTORY_DAYS: u32 = 366;

/// The bundle's categories, sorted and unique (the engine's category indices).
pub fn categories(bundle: &Bundle) -> Vec<&str> {
    let mut c: Vec<&str> = bundle.offers.iter().map(|o| o.category.as_str()).collect();
    c.sort_unstable();
    c.dedup();
    c
}

/// The longest window that history can matter in: the bundle's caps and suppression,
/// and the plan's own window and gap (whole days, at most [`MAX_HISTORY_DAYS`]).
fn default_history_days(bundle: &Bundle, days: u32, gap: u32) -> u32 {
    let secs = bundle
        .offers
        .iter()
        .flat_map(|o| o.caps.iter().map(|c| c.window_secs))
        .chain(bundle.policy.channel_caps.iter().map(|c| c.window_secs))
        .chain(bundle.policy.suppression.iter().map(|s| s.window_secs))
        .max()
        .unwrap_or(0);
    let d = secs.div_ceil(86_400).min(u64::from(MAX_HISTORY_DAYS)) as u32;
    d.max(days).max(gap).clamp(1, MAX_HISTORY_DAYS)
}

fn parse_date(s: &str) -> Option<i64> {
    let mut parts = s.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    days_from_civil(y, m, d)
}
