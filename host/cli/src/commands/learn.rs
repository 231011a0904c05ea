//! `vitrine learn`: feedback → the next bundle version, signed.
use std::path::PathBuf;

use anyhow::{Context, Result};
use vitrine_base::keys::{self, Role};
use vitrine_feedback::learn::Reward;
use vitrine_feedback::SqliteStore;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The current signed bundle and its signer's public key.
    #[command(flatten)]
    bundle: super::signed_bundle::BundleArgs,
    /// The bundle-role secret key that signs the new version.
    #[arg(long)]
    key: PathBuf,
    #[arg(long)]
    feedback: PathBuf,
    #[arg(long)]
    out: PathBuf,
    /// Only events this recent (a duration like 30d) or after this unix time.
    #[arg(long, default_value = "30d")]
    since: String,
    /// What counts as a success.
    #[arg(long, value_enum, default_value = "click")]
    reward: Reward,
    /// Impressions an offer needs before its constant propensity is replaced.
    #[arg(long, default_value_t = 100)]
    min_impressions: u64,
}

pub fn run(a: Args) -> Result<()> {
    let current = a.bundle.read()?.bundle;
    let secret = keys::load_secret(&a.key, Role::Bundle)?;
    let store = SqliteStore::open_reader(&a.feedback)?;
    let learned = vitrine_feedback::learn::learn(&current, &store, super::since(&a.since)?, a.reward, a.min_impressions)?;
    for o in &learned.offers {
        let p = o.propensity.map(|(a, b)| format!("; propensity {a:.4} → {b:.4}")).unwrap_or_default();
        println!(
            "{:<20} {:>8} impressions {:>7} {}s  Beta({}, {}){p}",
            o.offer,
            o.impressions,
            o.successes,
            a.reward.kind(),
            o.alpha,
            o.beta
        );
    }
    let signed = vitrine_engine::bundle::envelope::sign(&learned.bundle, &secret.kid, &secret.key)?;
    vitrine_base::atomic::write(&a.out, &signed).with_context(|| format!("writing {}", a.out.display()))?;
    println!("{} v{} → v{}: {} bytes → {}", learned.bundle.name, current.version, learned.bundle.version, signed.len(), a.out.display());
    Ok(())
}
