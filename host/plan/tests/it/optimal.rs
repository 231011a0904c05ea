//! The optimal allocation against an exact LP (Clarabel through good_lp) on the same
//! instance: every constraint holds, the value is within 0.5% of the LP relaxation's
//! optimum (an upper bound on any allocation's), and it beats the greedy allocation.
use crate::instance::{config, instance};
use crate::lp::{check, lp_optimum};
use vitrine_plan::allocate;
use vitrine_plan::Allocation;

#[test]
fn the_optimal_allocation_is_within_half_a_percent_of_the_exact_lp_and_beats_greedy() {
    let clients = 4_000u32;
    for seed in [7u64, 2026] {
        let optimal = config(u64::from(clients), Allocation::Optimal);
        let greedy = config(u64::from(clients), Allocation::Greedy);
        let inst = instance(clients, seed, &optimal);

        let mut states = inst.states.clone();
        let r = allocate::allocate(&inst.pool, &mut states, &optimal, &inst.shape, &inst.id_rank, &[]);
        let value = check(&inst, &optimal, &r);
        let mut states = inst.states.clone();
        let g = allocate::allocate(&inst.pool, &mut states, &greedy, &inst.shape, &inst.id_rank, &[]);
        let greedy_value = check(&inst, &greedy, &g);

        let lp = lp_optimum(&inst, &optimal);
        let gap = (lp - value) / lp;
        eprintln!(
            "seed {seed}: LP {lp:.6}, optimal {value:.3} (gap {:.3}%, dual bound {:.6}), greedy {greedy_value:.3} (+{:.2}% for optimal)",
            100.0 * gap,
            r.bound.unwrap_or(f64::NAN),
            100.0 * (value / greedy_value - 1.0)
        );
        assert!(value <= lp * (1.0 + 1e-6), "the allocation {value} cannot beat the LP relaxation {lp}");
        assert!(gap <= 0.005, "optimality gap {:.3}% over 0.5%", 100.0 * gap);
        assert!(value > greedy_value, "optimal {value} vs greedy {greedy_value}");
        assert!(r.shortfall.is_empty() && g.shortfall.is_empty(), "minimum volumes are reachable here");
    }
}

#[test]
fn a_timing_model_s_weekday_is_the_send_day_when_one_is_free() {
    let clients = 600u32;
    let mut config = config(u64::from(clients), Allocation::Greedy);
    // No daily capacity here: a full day would move a contact off its weekday anyway.
    config.channels.iter_mut().for_each(|c| c.per_day = u64::MAX);
    let inst = instance(clients, 3, &config);
    // 2026-11-23 (the window's first day) is a Monday: weekday 2 is day 2.
    let wednesday = |r: &allocate::Result, c: u32| inst.pool.of(c).any(|j| r.day[j] == 2);
    let share = |weekdays: &[u8]| {
        let mut states = inst.states.clone();
        let r = allocate::allocate(&inst.pool, &mut states, &config, &inst.shape, &inst.id_rank, weekdays);
        check(&inst, &config, &r);
        let contacted: Vec<u32> = (0..clients).filter(|&c| inst.pool.of(c).any(|j| r.day[j] != allocate::NO_DAY)).collect();
        contacted.iter().filter(|&&c| wednesday(&r, c)).count() as f64 / contacted.len() as f64
    };
    let (preferred, none) = (share(&vec![2u8; clients as usize]), share(&[]));
    assert!(preferred >= 0.9, "{preferred:.3} of contacted clients get their preferred Wednesday");
    assert!(none < 0.5, "without a preference the earliest free day: {none:.3} on Wednesday");
}
