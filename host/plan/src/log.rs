//! `--feedback`: the plan's decision records into the host's feedback store, once the
//! plan is complete; with `--ledger`, their profiles into a feature store's snapshot
//! ledger first.
use std::io::BufRead;
use std::path::Path;

use serde::{Deserialize, Serialize};
use vitrine_engine::schema::Schema;
use vitrine_engine::snapshot::Profile;

use crate::{Client, PlanConfig, PlanError};

/// One logged decision's profile, spilled while planning.
#[derive(Serialize, Deserialize)]
struct ProfileLine {
    client: String,
    subject: String,
    consent: u16,
    values: Vec<Option<f32>>,
}

/// The spill line of `c`'s profile.
pub(super) fn profile_line(c: &Client) -> Result<Vec<u8>, serde_json::Error> {
    let line = ProfileLine {
        client: c.id.clone(),
        subject: vitrine_base::hex::encode(&c.profile.subject),
        consent: c.profile.consent,
        values: c.profile.values.clone(),
    };
    let mut out = serde_json::to_vec(&line)?;
    out.push(b'\n');
    Ok(out)
}

/// Records the spilled profiles in `ledger`'s snapshot ledger (one transaction: all or
/// none), valid for the plan's window; returns how many new entries.
pub(super) fn log_profiles(spill: &Path, ledger: &Path, schema: &Schema, config: &PlanConfig) -> Result<u64, PlanError> {
    let bad = |e: String| PlanError::Io { path: spill.to_path_buf(), source: std::io::Error::other(e) };
    let mut store = vitrine_store::FeatureStore::open_existing(ledger)?;
    if store.schema().hash() != schema.hash() {
        return Err(PlanError::Ledger(format!("{} holds another schema than the bundle's", ledger.display())));
    }
    let file = std::fs::File::open(spill).map_err(|source| PlanError::Io { path: spill.to_path_buf(), source })?;
    let (from, to) = (config.now(), config.now().saturating_add(u64::from(config.days) * 86_400));
    let mut writer = store.ledger()?;
    for line in std::io::BufReader::with_capacity(1 << 20, file).lines() {
        let line = line.map_err(|source| PlanError::Io { path: spill.to_path_buf(), source })?;
        let p: ProfileLine = serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
        let subject = vitrine_base::hex::decode::<16>(&p.subject).ok_or_else(|| bad(format!("subject `{}`", p.subject)))?;
        writer.record_profile(&p.client, &Profile { subject, consent: p.consent, values: p.values }, from, to)?;
    }
    let n = writer.commit()?;
    let _ = std::fs::remove_file(spill);
    Ok(n)
}

/// Writes the spilled decision records into the feedback store, 10,000 per transaction,
/// each with the contacts the plan sends (`sent`: one JSON line per client, in the same
/// order), at their send time: the contact history of the next plan and the exposures
/// the report measures. Decisions are keyed by id and inserted once, so a rerun of the
/// same plan (same bundle, seed and base) logs nothing twice.
pub(super) fn log_decisions(spill: &Path, sent: &Path, feedback: &Path) -> Result<u64, PlanError> {
    use vitrine_feedback::FeedbackStore;
    let bad = |path: &Path, e: String| PlanError::Io { path: path.to_path_buf(), source: std::io::Error::other(e) };
    let mut store = vitrine_feedback::SqliteStore::open(feedback)?;
    let file = std::fs::File::open(spill).map_err(|source| PlanError::Io { path: spill.to_path_buf(), source })?;
    let sends = std::fs::File::open(sent).map_err(|source| PlanError::Io { path: sent.to_path_buf(), source })?;
    let mut sends = std::io::BufReader::with_capacity(1 << 20, sends).lines();
    let mut batch = Vec::with_capacity(10_000);
    let mut n = 0u64;
    for line in std::io::BufReader::with_capacity(1 << 20, file).lines() {
        let line = line.map_err(|source| PlanError::Io { path: spill.to_path_buf(), source })?;
        let mut d: vitrine_feedback::LoggedDecision = serde_json::from_str(&line).map_err(|e| bad(spill, e.to_string()))?;
        let shown = sends
            .next()
            .ok_or_else(|| bad(sent, "fewer lines than decisions".into()))?
            .map_err(|source| PlanError::Io { path: sent.to_path_buf(), source })?;
        d.shown = serde_json::from_str(&shown).map_err(|e| bad(sent, e.to_string()))?;
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
    let _ = std::fs::remove_file(sent);
    Ok(n)
}
