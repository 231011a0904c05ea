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
        let r = allocate::allocate(&inst.pool, &mut states, &optimal, &inst.shape, &inst.id_rank);
        let value = check(&inst, &optimal, &r);
        let mut states = inst.states.clone();
        let g = allocate::allocate(&inst.pool, &mut states, &greedy, &inst.shape, &inst.id_rank);
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
