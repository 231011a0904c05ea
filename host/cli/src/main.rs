//! `vitrine`: author and ship what the Vitrine engine runs. One file per subcommand
//! under `commands/` (an `Args` struct and its `run`); this file only dispatches.
// mimalloc: the planner allocates on a reader thread and frees on the workers, where
// glibc's malloc spent a third of the time consolidating (BENCHMARKS.md, campaign planning).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod assets;
mod commands;
mod default_state;
mod progress;

use std::process::ExitCode;

use clap::Parser;

/// Vitrine host: keys, bundles, the feature store and snapshots, serving, feedback,
/// learning, campaign plans and the demo world.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> ExitCode {
    match Cli::parse().command.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
