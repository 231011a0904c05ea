//! `vitrine scenario`: what a plan would do, before signing it off: one or two bundles,
//! or one bundle with changed business levers, over the same seeded sample of the base.
use std::path::PathBuf;

use anyhow::{Context, Result};
use vitrine_plan::scenario::{self, Lever, ScenarioJob, Variant};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The signed bundle (give two for a side-by-side, each with its --bundle-key).
    #[arg(long, required = true, num_args = 1)]
    bundle: Vec<PathBuf>,
    /// The signer's public key file of each --bundle (KID.pub), in the same order (one
    /// key for both bundles is enough).
    #[arg(long, required = true, num_args = 1)]
    bundle_key: Vec<PathBuf>,
    /// The feature store (SQLite), or a CSV export of it.
    #[arg(long)]
    features: PathBuf,
    /// The planning policy (plan.toml), as `vitrine plan` takes it.
    #[arg(long)]
    plan: PathBuf,
    /// Clients in the seeded sample.
    #[arg(long, default_value_t = 10_000)]
    sample: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A changed business lever, `offer:ID=VALUE` or `category:ID=VALUE` (repeatable):
    /// adds the first bundle with these levers as a variant.
    #[arg(long)]
    lever: Vec<String>,
    /// Price every business lever that is not 1 (one more plan of the sample per lever).
    #[arg(long)]
    price_levers: bool,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<()> {
    anyhow::ensure!(a.bundle.len() <= 2, "at most two bundles side by side ({} given)", a.bundle.len());
    anyhow::ensure!(
        a.bundle_key.len() == 1 || a.bundle_key.len() == a.bundle.len(),
        "give one --bundle-key, or one per --bundle ({} bundles, {} keys)",
        a.bundle.len(),
        a.bundle_key.len()
    );
    anyhow::ensure!(a.sample > 0, "--sample must be at least 1");
    let levers: Vec<Lever> = a.lever.iter().map(|l| Lever::parse(l).map_err(anyhow::Error::msg)).collect::<Result<_>>()?;
    let mut variants = Vec::new();
    for (i, path) in a.bundle.iter().enumerate() {
        let key = &a.bundle_key[i.min(a.bundle_key.len() - 1)];
        let signed = vitrine_base::signed::read(path, key)?;
        let name = format!("{} v{}", signed.bundle.name, signed.bundle.version);
        let name = if a.bundle.len() == 2 { format!("{} ({})", name, if i == 0 { "A" } else { "B" }) } else { name };
        variants.push(Variant { name, bundle: signed.bytes, key: signed.key, levers: Vec::new() });
    }
    if !levers.is_empty() {
        let first = variants[0].clone();
        let named: Vec<String> = levers.iter().map(|l| format!("{}:{}={}", l.scope, l.id, l.value)).collect();
        variants.push(Variant { name: format!("{} with {}", first.name, named.join(", ")), levers, ..first });
    }
    let bar = crate::progress::bar("scenario".into());
    let progress = |what: &str| bar.set_message(what.to_string());
    let job = ScenarioJob {
        variants,
        features: a.features,
        config: a.plan,
        sample: a.sample,
        seed: a.seed,
        price_levers: a.price_levers,
        threads: a.threads,
        progress: &progress,
    };
    let report = scenario::run(&job);
    bar.finish_and_clear();
    let report = report.context("scenario")?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", scenario::table(&report));
    }
    Ok(())
}
