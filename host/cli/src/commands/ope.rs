//! `vitrine ope --logged FILE`: off-policy estimates (IPS, self-normalised IPS, doubly
//! robust, bootstrap 95% CIs) of a candidate policy from logged rounds given as the
//! arrays Open Bandit Pipeline's `obp.ope` takes, one JSON object per line:
//! `{"action": 1, "reward": 0.0, "pscore": 0.25, "action_dist": [0.5, 0.5],
//! "estimated_rewards": [0.4, 0.2]}` (see `vitrine_feedback::measure::obp`).
use std::path::PathBuf;

use anyhow::{Context, Result};
use vitrine_feedback::measure::{obp, ope};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// JSON Lines: one logged round per line.
    #[arg(long)]
    logged: PathBuf,
    /// Bootstrap resamples for the intervals.
    #[arg(long, default_value_t = 1000)]
    resamples: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the estimates as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<()> {
    let text = std::fs::read_to_string(&a.logged).with_context(|| format!("reading {}", a.logged.display()))?;
    let rounds = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str::<obp::Round>(l).with_context(|| format!("{} line {}", a.logged.display(), i + 1)))
        .collect::<Result<Vec<_>>>()?;
    let rows = obp::logged(&rounds).with_context(|| format!("{} ({})", a.logged.display(), "rows count from 0, blank lines skipped"))?;
    let Some(r) = ope::evaluate(&rows, a.resamples, a.seed)? else {
        anyhow::bail!("{}: no logged rounds", a.logged.display());
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    println!("{} rounds, effective sample size {:.1}, largest weight {:.3}", r.n, r.effective_sample_size, r.max_weight);
    for (name, e) in [("logged (on-policy)", r.logged), ("IPS", r.ips), ("SNIPS", r.snips), ("DR", r.dr)] {
        println!("{name:<20} {:>10.6}  [{:.6}, {:.6}]", e.value, e.ci95.low, e.ci95.high);
    }
    Ok(())
}
