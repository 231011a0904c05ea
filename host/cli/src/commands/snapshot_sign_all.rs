//! `vitrine snapshot sign-all`: every client's signed snapshot, as JSON lines, each
//! recorded in the store's ledger.
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

/// Clients read, signed and recorded in the ledger per transaction.
const PAGE: usize = 4096;

pub fn run(a: Args) -> Result<()> {
    let (mut store, signer, now, ttl) = a.signing.open()?;
    let total = store.len()?;
    let bar = indicatif::ProgressBar::new(total);
    let mut lines = String::with_capacity(total as usize * 800);
    let started = std::time::Instant::now();
    let mut after: Option<String> = None;
    let mut ledger_time = std::time::Duration::ZERO;
    loop {
        let page = store.contents_after(after.as_deref(), PAGE, now, ttl)?;
        let Some((last, _)) = page.last() else { break };
        after = Some(last.clone());
        let mut signed = Vec::with_capacity(page.len());
        for (id, content) in page {
            let snapshot = signer.sign(store.schema(), &content).map_err(|e| StoreError::Corrupt(format!("client `{id}`: {e}")))?;
            signed.push((id, snapshot));
        }
        for (id, snapshot) in &signed {
            lines.push_str(&serde_json::json!({ "client_id": id, "snapshot": encode_text(snapshot) }).to_string());
            lines.push('\n');
        }
        let t = std::time::Instant::now();
        let mut ledger = store.ledger()?;
        for (id, snapshot) in &signed {
            ledger.record(id, snapshot)?;
        }
        ledger.commit()?;
        ledger_time += t.elapsed();
        bar.inc(signed.len() as u64);
    }
    bar.finish_and_clear();
    vitrine_base::atomic::write(&a.out, lines.as_bytes()).with_context(|| format!("writing {}", a.out.display()))?;
    let secs = started.elapsed().as_secs_f64();
    let ledger = ledger_time.as_secs_f64();
    println!(
        "signed {total} snapshots in {secs:.2} s ({:.0}/s), each recorded in the ledger → {}; the ledger took {ledger:.2} s (+{:.1}% over {:.0}/s without it)",
        total as f64 / secs.max(1e-9),
        a.out.display(),
        100.0 * ledger / (secs - ledger).max(1e-9),
        total as f64 / (secs - ledger).max(1e-9)
    );
    Ok(())
}
