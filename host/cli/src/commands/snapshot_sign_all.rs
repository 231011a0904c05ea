//! `vitrine snapshot sign-all`: every client's signed snapshot, as JSON lines.
use std::path::PathBuf;

use anyhow::{Context, Result};
use vitrine_engine::snapshot::encode_text;
use vitrine_store::StoreError;

use super::snapshot_sign::Signing;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// JSON lines {"client_id", "snapshot"} (written whole or not at all).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    signing: Signing,
}

pub fn run(a: Args) -> Result<()> {
    let (store, signer, now, ttl) = a.signing.open()?;
    let total = store.len()?;
    let bar = indicatif::ProgressBar::new(total);
    let mut lines = String::with_capacity(total as usize * 800);
    let started = std::time::Instant::now();
    store.for_each(now, ttl, |id, content| {
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
