//! `vitrine replay`: logged decisions through a candidate bundle, off-policy estimates.
use std::path::PathBuf;

use anyhow::Result;
use vitrine_engine::decision::DecideResponse;
use vitrine_feedback::learn::Reward;
use vitrine_feedback::SqliteStore;
use vitrine_runtime::{Runtime, RuntimeOptions};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The candidate signed bundle and its signer's public key.
    #[command(flatten)]
    bundle: super::signed_bundle::BundleArgs,
    #[arg(long)]
    feedback: PathBuf,
    /// Decisions this recent (a duration like 7d) or after this unix time.
    #[arg(long, default_value = "7d")]
    since: String,
    /// What counts as a success.
    #[arg(long, value_enum, default_value = "click")]
    reward: Reward,
    /// engine-abi.wasm (default: $VITRINE_ENGINE, else the module embedded in this binary).
    #[arg(long)]
    engine: Option<PathBuf>,
    /// Bootstrap resamples for the confidence intervals.
    #[arg(long, default_value_t = 1000)]
    resamples: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<()> {
    let signed = a.bundle.read()?;
    let wasm = crate::assets::engine(a.engine.as_deref())?;
    let runtime = Runtime::new(&wasm, signed.bytes, signed.key, RuntimeOptions::default())?;
    let store = SqliteStore::open_reader(&a.feedback)?;
    let decide = |request: &[u8]| runtime.decide(request).map(|(out, _)| vitrine_runtime::reply::<DecideResponse>(&out));
    let report = vitrine_feedback::learn::replay(
        decide,
        runtime.current().version(),
        &store,
        super::since(&a.since)?,
        &|_| true,
        a.reward,
        a.resamples,
    )?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "candidate v{}: {} decisions ({} made elsewhere, not replayable), {} slot samples, first pick agrees on {:.1}%",
        report.candidate_version,
        report.decisions,
        report.skipped,
        report.samples,
        100.0 * report.agreement
    );
    match &report.estimates {
        None => println!("no logged server decisions in range: nothing to estimate"),
        Some(e) => {
            println!("{:<28} {:>10} {:>22}", format!("{} rate per slot", a.reward.kind()), "value", "95% CI (bootstrap)");
            for (name, x) in [
                ("logged policy (observed)", &e.logged),
                ("candidate, IPS", &e.ips),
                ("candidate, SNIPS", &e.snips),
                ("candidate, doubly robust", &e.dr),
            ] {
                println!("{name:<28} {:>10.5} [{:>9.5}, {:>9.5}]", x.value, x.ci95.low, x.ci95.high);
            }
            println!("effective sample size {:.1} of {}; max weight {:.2}", e.effective_sample_size, e.n, e.max_weight);
        }
    }
    Ok(())
}
