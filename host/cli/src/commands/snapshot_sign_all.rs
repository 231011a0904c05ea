//! `vitrine snapshot sign-all`: every client's signed snapshot, as JSON lines.
use std::path::PathBuf;

use anyhow::{Context, Result};
use vitrine_engine::snapshot::encode_text;
use vitrine_store::{FeatureStore, StoreError};

use super::snapshot_sign::{signer, DEFAULT_TTL};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long)]
    db: PathBuf,
    /// A snapshot-role secret key file.
    #[arg(long)]
    key: PathBuf,
    /// JSON lines {"client_id", "snapshot"} (written whole or not at all).
    #[arg(long)]
    out: PathBuf,
    /// Validity, e.g. 1h, 1d.
    #[arg(long, default_value = DEFAULT_TTL)]
    ttl: String,
    /// Issue time in unix seconds (default: now).
    #[arg(long)]
    now: Option<u64>,
}

pub fn run(a: Args) -> Result<()> {
    let store = FeatureStore::open_existing(&a.db)?;
    let signer = signer(&a.key)?;
    let total = store.len()?;
    let bar = indicatif::ProgressBar::new(total);
    let mut lines = String::with_capacity(total as usize * 800);
    let started = std::time::Instant::now();
    store.for_each(a.now.unwrap_or_else(vitrine_base::clock::now), super::seconds(&a.ttl)?, |id, content| {
        let snapshot = signer.sign(store.schema(), &content).map_err(|e| StoreError::Corrupt(format!("client `{id}`: {e}")))?;
        lines.push_str(&serde_json::json!({ "client_id": id, "snapshot": encode_text(&snapshot) }).to_string());
        lines.push('\n');
        bar.inc(1);
        Ok(())
    })?;
    bar.finish_and_clear();
    vitrine_base::atomic::write(&a.out, lines.as_bytes()).with_context(|| format!("writing {}", a.out.display()))?;
    let secs = started.elapsed().as_secs_f64();
    println!("signed {total} snapshots in {secs:.2} s ({:.0}/s) → {}", total as f64 / secs.max(1e-9), a.out.display());
    Ok(())
}
