//! `--feedback`: the plan's decision records into the host's feedback store, once the
//! plan is complete.
use std::path::Path;

use crate::PlanError;

/// Writes the spilled decision records into the feedback store, 10,000 per transaction.
/// Decisions are keyed by id and inserted once, so a rerun of the same plan (same bundle,
/// seed and base) logs nothing twice.
pub(super) fn log_decisions(spill: &Path, feedback: &Path) -> Result<u64, PlanError> {
    use std::io::BufRead;
    use vitrine_feedback::FeedbackStore;
    let mut store = vitrine_feedback::SqliteStore::open(feedback)?;
    let file = std::fs::File::open(spill).map_err(|source| PlanError::Io { path: spill.to_path_buf(), source })?;
    let mut batch = Vec::with_capacity(10_000);
    let mut n = 0u64;
    for line in std::io::BufReader::with_capacity(1 << 20, file).lines() {
        let line = line.map_err(|source| PlanError::Io { path: spill.to_path_buf(), source })?;
        let d: vitrine_feedback::LoggedDecision =
            serde_json::from_str(&line).map_err(|e| PlanError::Io { path: spill.to_path_buf(), source: std::io::Error::other(e) })?;
        batch.push(d);
        if batch.len() == 10_000 {
            store.write(&[], &[], &batch)?;
            n += batch.len() as u64;
            batch.clear();
        }
    }
    store.write(&[], &[], &batch)?;
    n += batch.len() as u64;
    let _ = std::fs::remove_file(spill);
    Ok(n)
}
