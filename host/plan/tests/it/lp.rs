//! The exact LP relaxation of an allocation instance (Clarabel through good_lp), and a
//! check of every constraint on an allocation.
use good_lp::{constraint, variable, Expression, ProblemVariables, Solution, SolverModel, Variable};

use crate::instance::{Instance, CATEGORIES, OFFERS};
use vitrine_plan::allocate::{self, dual, NO_DAY, UNLIMITED};
use vitrine_plan::PlanConfig;

/// The LP relaxation: x_j in [0, 1], every constraint the allocation knows (days enter
/// as each client's placeable contacts and each channel's reach), maximise Σ value·x.
pub fn lp_optimum(inst: &Instance, config: &PlanConfig) -> f64 {
    let pool = &inst.pool;
    let placeable = dual::placeable(&inst.states, config);
    let mut vars = ProblemVariables::new();
    let x: Vec<Variable> = pool.cands.iter().map(|_| vars.add(variable().min(0.0).max(1.0))).collect();
    let objective: Expression = pool.cands.iter().zip(&x).map(|(c, v)| c.value * *v).sum();
    let mut model = vars.maximise(objective).using(good_lp::clarabel);
    for c in 0..pool.clients() as u32 {
        let r = pool.of(c);
        if r.is_empty() {
            continue;
        }
        let all: Expression = r.clone().map(|j| x[j]).sum();
        model = model.with(constraint!(all <= placeable[c as usize] as f64));
        for j in r.clone() {
            let cand = pool.cands[j];
            if cand.room[2] != UNLIMITED {
                let same: Expression = r.clone().filter(|&k| pool.cands[k].pref == cand.pref).map(|k| x[k]).sum();
                model = model.with(constraint!(same <= cand.room[2] as f64));
            }
        }
    }
    let total: Expression = x.iter().copied().sum();
    for (pref, ch) in config.channels.iter().enumerate() {
        let used: Expression = pool.cands.iter().zip(&x).filter(|(c, _)| c.pref as usize == pref).map(|(_, v)| *v).sum();
        model = model.with(constraint!(used <= config.channel_reach(ch) as f64));
    }
    for (o, &(min, max, share)) in inst.shape.offer_limits.iter().enumerate() {
        let used: Expression = pool.cands.iter().zip(&x).filter(|(c, _)| c.offer as usize == o).map(|(_, v)| *v).sum();
        if max != u64::MAX {
            model = model.with(constraint!(used.clone() <= max as f64));
        }
        if min > 0 {
            model = model.with(constraint!(used.clone() >= min as f64));
        }
        if share < 1.0 {
            model = model.with(constraint!(used - share * total.clone() <= 0.0));
        }
    }
    for (g, &share) in inst.shape.category_share.iter().enumerate() {
        if share < 1.0 {
            let used: Expression =
                pool.cands.iter().zip(&x).filter(|(c, _)| inst.shape.offer_category[c.offer as usize] as usize == g).map(|(_, v)| *v).sum();
            model = model.with(constraint!(used - share * total.clone() <= 0.0));
        }
    }
    let spend: Expression = pool.cands.iter().zip(&x).map(|(c, v)| config.channels[c.pref as usize].cost * *v).sum();
    model = model.with(constraint!(spend <= config.budget));
    let solution = model.solve().expect("the LP solves");
    pool.cands.iter().zip(&x).map(|(c, v)| c.value * solution.value(*v)).sum()
}

/// Checks every constraint on an allocation; returns its value.
pub fn check(inst: &Instance, config: &PlanConfig, r: &allocate::Result) -> f64 {
    let pool = &inst.pool;
    let mut channel = vec![0u64; config.channels.len()];
    let mut per_day = vec![vec![0u64; config.days as usize]; config.channels.len()];
    let mut offer = [0u64; OFFERS];
    let mut category = [0u64; CATEGORIES];
    let (mut spent, mut value, mut total) = (0.0, 0.0, 0u64);
    for c in 0..pool.clients() as u32 {
        let mut days: Vec<i64> = Vec::new();
        let prior = inst.states[c as usize].prior();
        for b in 0..56 {
            if prior & (1 << b) != 0 {
                days.push(b as i64 - 56);
            }
        }
        let mut by_channel = vec![0u8; config.channels.len()];
        let mut offers = Vec::new();
        for j in pool.of(c) {
            let d = r.day[j];
            if d == NO_DAY {
                continue;
            }
            let x = pool.cands[j];
            assert!(config.quiet & (1 << d) == 0, "a send on a quiet day");
            days.push(i64::from(d));
            by_channel[x.pref as usize] += 1;
            assert!(x.room[2] == UNLIMITED || by_channel[x.pref as usize] <= x.room[2], "client {c}: channel cap room exceeded");
            assert!(!offers.contains(&x.offer));
            offers.push(x.offer);
            channel[x.pref as usize] += 1;
            per_day[x.pref as usize][d as usize] += 1;
            offer[x.offer as usize] += 1;
            category[inst.shape.offer_category[x.offer as usize] as usize] += 1;
            spent += config.channels[x.pref as usize].cost;
            value += x.value;
            total += 1;
        }
        days.sort_unstable();
        for w in days.windows(2) {
            assert!(w[1] - w[0] >= i64::from(config.min_gap_days), "client {c}: contacts {days:?} closer than the gap");
        }
        for &d in &days {
            let n = days.iter().filter(|&&e| e >= d && e < d + i64::from(config.days)).count();
            assert!(n as u32 <= config.max_contacts, "client {c}: {n} contacts in the {} days from {d}", config.days);
        }
    }
    for (i, ch) in config.channels.iter().enumerate() {
        assert!(channel[i] <= ch.capacity, "{}: {} over {}", ch.name, channel[i], ch.capacity);
        assert!(per_day[i].iter().all(|&n| n <= ch.per_day), "{}: a day over {}", ch.name, ch.per_day);
        assert_eq!(channel[i], r.used[i]);
    }
    for (o, &(min, max, share)) in inst.shape.offer_limits.iter().enumerate() {
        assert!(offer[o] <= max, "offer {o}: {} over its max {max}", offer[o]);
        assert!(offer[o] >= min || r.shortfall.iter().any(|s| s.0 as usize == o), "offer {o}: {} under its min {min}", offer[o]);
        assert!(offer[o] as f64 <= share * total as f64 + 1e-9, "offer {o}: {} over share {share} of {total}", offer[o]);
    }
    for (g, &share) in inst.shape.category_share.iter().enumerate() {
        assert!(category[g] as f64 <= share * total as f64 + 1e-9, "category {g}: {} over share {share} of {total}", category[g]);
    }
    assert!(spent <= config.budget + 1e-9, "spent {spent} over the budget {}", config.budget);
    assert!((value - r.value).abs() < 1e-6 * value.abs().max(1.0));
    value
}
