//! The optimal allocation against the exact LP relaxation and the greedy allocation on a
//! seeded instance of N clients (BENCHMARKS.md, "Campaign allocation"):
//!
//!     cargo run --release -p vitrine-plan --example lp_gap -- 20000 [seed]
//!
//! Prints the LP optimum, both allocations' values, the optimality gap, the gain over
//! greedy, and the time each took.
#[path = "../tests/it/instance.rs"]
mod instance;
#[path = "../tests/it/lp.rs"]
mod lp;

use std::time::Instant;

use vitrine_plan::allocate;
use vitrine_plan::Allocation;

fn main() {
    let mut args = std::env::args().skip(1);
    let clients: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(7);
    let config = instance::config(u64::from(clients), Allocation::Optimal);
    let greedy = instance::config(u64::from(clients), Allocation::Greedy);
    let inst = instance::instance(clients, seed, &config);
    println!("{clients} clients, {} proposals, seed {seed}", inst.pool.cands.len());

    let t = Instant::now();
    let mut states = inst.states.clone();
    let r = allocate::allocate(&inst.pool, &mut states, &config, &inst.shape, &inst.id_rank, &[]);
    let optimal_time = t.elapsed();
    let value = lp::check(&inst, &config, &r);

    let t = Instant::now();
    let mut states = inst.states.clone();
    let g = allocate::allocate(&inst.pool, &mut states, &greedy, &inst.shape, &inst.id_rank, &[]);
    let greedy_time = t.elapsed();
    let greedy_value = lp::check(&inst, &greedy, &g);

    let t = Instant::now();
    let lp = lp::lp_optimum(&inst, &config);
    let lp_time = t.elapsed();
    println!("LP relaxation (Clarabel): {lp:.3} in {:.2} s", lp_time.as_secs_f64());
    println!(
        "optimal: {value:.3} in {:.3} s, gap to the LP {:.3}%, dual bound {:.3}",
        optimal_time.as_secs_f64(),
        100.0 * (lp - value) / lp,
        r.bound.unwrap_or(f64::NAN)
    );
    println!(
        "greedy:  {greedy_value:.3} in {:.3} s; optimal is {:+.2}% over greedy",
        greedy_time.as_secs_f64(),
        100.0 * (value / greedy_value - 1.0)
    );
}
