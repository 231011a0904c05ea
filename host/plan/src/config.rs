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
//!
//! [[channels]]                # in preference order
//! name = "email"
//! capacity = 500000           # contacts over the window
//! # slot = "email_weekly"     # default: the bundle's first slot on this channel
//! # k = 2                     # candidates asked per client (default: max_contacts)
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
    channels: Vec<RawChannel>,
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
            channels.push(ChannelPlan { name: c.name.clone(), slot, k, capacity: c.capacity as u64 });
        }
        Ok(PlanConfig {
            start_day,
            days: raw.days,
            seed: raw.seed,
            max_contacts: raw.max_contacts,
            min_gap_days: raw.min_gap_days,
            quiet,
            context: raw.context,
            channels,
        })
    }

    /// Unix seconds of the window's start (midnight UTC): the `now` of every decision.
    pub fn now(&self) -> u64 {
        (self.start_day.max(0) as u64) * 86_400
    }

    /// The earliest day (index in the window) a client with contacts on `used` days can
    /// get another one: not quiet, not used, at least `min_gap_days` from every used day.
    pub fn first_free_day(&self, used: u64) -> Option<u32> {
        (0..self.days).find(|&d| {
            if (self.quiet | used) & (1 << d) != 0 {
                return false;
            }
            let gap = self.min_gap_days;
            (0..self.days).filter(|&u| used & (1 << u) != 0).all(|u| u.abs_diff(d) >= gap)
        })
    }
}

fn parse_date(s: &str) -> Option<i64> {
    let mut parts = s.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    days_from_civil(y, m, d)
}
