//! `vitrine demo seed`: the seeded demo world's clients (and historical responses) as CSV.
use std::path::PathBuf;

use anyhow::{Context, Result};
use vitrine_demo::world;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// How many clients.
    #[arg(long, default_value_t = vitrine_demo::CLIENTS)]
    clients: usize,
    /// The world's seed (the simulator must use the same).
    #[arg(long, default_value_t = vitrine_demo::SEED)]
    seed: u64,
    #[arg(long)]
    out: PathBuf,
    /// Also write historical responses (one click draw per client and offer from the
    /// hidden truth) to train propensity models on.
    #[arg(long)]
    labels: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<()> {
    let clients = world::clients(a.clients, a.seed);
    vitrine_base::atomic::write(&a.out, world::csv(&clients).as_bytes()).with_context(|| format!("writing {}", a.out.display()))?;
    if let Some(labels) = &a.labels {
        vitrine_base::atomic::write(labels, world::labels(&clients, a.seed).as_bytes())
            .with_context(|| format!("writing {}", labels.display()))?;
    }
    println!("{} clients (seed {}) → {}", clients.len(), a.seed, a.out.display());
    Ok(())
}
