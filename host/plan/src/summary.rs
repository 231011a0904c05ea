//! The plan's summary (`summary.json`) from what the passes counted.
use crate::allocate::{self, Pool, NO_DAY};
use crate::offers::{expected_value, levers};
use crate::output::{ChannelSummary, Objective, OfferSummary, Shortfall, Summary};
use crate::{output, Allocation, EngineChoice, PlanJob, Setup};
use std::time::Duration;

/// What the passes counted, for the summary.
pub(crate) struct Totals {
    pub(crate) clients: u64,
    pub(crate) contacted: u64,
    pub(crate) busiest: Vec<u64>,
    pub(crate) allocate_time: Duration,
    pub(crate) history_rows: Option<u64>,
    pub(crate) proposals: u64,
    pub(crate) uncontacted: output::Uncontacted,
    pub(crate) logged_decisions: Option<u64>,
    pub(crate) ledger_entries: Option<u64>,
    pub(crate) files: Vec<String>,
    pub(crate) decide_time: Duration,
    pub(crate) seconds: f64,
}

/// The plan's summary (`summary.json`).
pub(crate) fn summarise(job: &PlanJob<'_>, setup: &Setup, allocation: allocate::Result, pool: &Pool, t: Totals) -> Summary {
    let config = &setup.config;
    let mut offer_value: std::collections::BTreeMap<(u8, u16), (f64, f64)> = std::collections::BTreeMap::new();
    let levers = levers(&setup.bundle);
    for (x, &d) in pool.cands.iter().zip(&allocation.day) {
        if d != NO_DAY {
            // The cost inside the priority is the bundle's, whatever the plan's budget uses.
            let ch = setup.channel_index[x.pref as usize];
            let cost = setup.bundle.policy.channel_costs.iter().find(|c| c.channel == ch).map_or(0.0, |c| f64::from(c.cost));
            let e = offer_value.entry((x.pref, x.offer)).or_default();
            e.0 += x.value;
            e.1 += expected_value(x.value, cost, levers[x.offer as usize]);
        }
    }
    let allocate::Result { used, refused, per_offer, value, spent, shortfall, bound, iterations, .. } = allocation;
    let gap_bound = bound.map(|b| if b > 0.0 { ((b - value) / b).max(0.0) } else { 0.0 });
    Summary {
        bundle: setup.info.bundle.clone(),
        bundle_version: setup.info.version,
        bundle_hash: setup.info.hash.clone(),
        engine: match job.engine {
            EngineChoice::Native => "native".into(),
            EngineChoice::Wasm(_) => "wasm".into(),
        },
        threads: setup.threads,
        start: vitrine_store::table::date_text(config.start_day as i32),
        days: config.days,
        quiet_days: (0..config.days)
            .filter(|d| config.quiet & (1 << d) != 0)
            .map(|d| vitrine_store::table::date_text((config.start_day + d as i64) as i32))
            .collect(),
        max_contacts: config.max_contacts,
        min_gap_days: config.min_gap_days,
        clients: t.clients,
        contacted: t.contacted,
        contacts: used.iter().sum(),
        proposals: t.proposals,
        channels: config
            .channels
            .iter()
            .zip(&used)
            .enumerate()
            .map(|(i, (c, &n))| ChannelSummary {
                channel: c.name.clone(),
                slot: c.slot.clone(),
                capacity: c.capacity,
                capacity_per_day: (c.per_day != u64::MAX).then_some(c.per_day),
                busiest_day: t.busiest.get(i).copied().unwrap_or(0),
                cost: c.cost,
                contacts: n,
                capacity_used: if c.capacity == 0 { 0.0 } else { n as f64 / c.capacity as f64 },
            })
            .collect(),
        offers: per_offer
            .into_iter()
            .map(|((ch, o), n)| OfferSummary {
                offer: setup.bundle.offers[o as usize].id.clone(),
                channel: config.channels[ch as usize].name.clone(),
                contacts: n,
                value: offer_value.get(&(ch, o)).map_or(0.0, |v| v.0),
                expected_value: offer_value.get(&(ch, o)).map_or(0.0, |v| v.1),
            })
            .collect(),
        objective: Objective {
            allocation: match config.allocation {
                Allocation::Optimal => "optimal".into(),
                Allocation::Greedy => "greedy".into(),
            },
            value,
            bound,
            gap_bound,
            dual_iterations: iterations,
            spent,
            budget: config.budget.is_finite().then_some(config.budget),
            shortfall: shortfall
                .into_iter()
                .map(|(o, contacts, min)| Shortfall { offer: setup.bundle.offers[o as usize].id.clone(), contacts, min })
                .collect(),
            seconds: t.allocate_time.as_secs_f64(),
        },
        history_rows: t.history_rows,
        uncontacted: t.uncontacted,
        refused,
        files: t.files,
        logged_decisions: t.logged_decisions,
        ledger_entries: t.ledger_entries,
        decide_seconds: t.decide_time.as_secs_f64(),
        seconds: t.seconds,
        clients_per_second: t.clients as f64 / t.decide_time.as_secs_f64().max(1e-9),
    }
}
