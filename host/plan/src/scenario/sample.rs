//! The scenario's seeded sample of the base.
use std::path::{Path, PathBuf};

use crate::{PlanError, Source};

/// The seeded sample: the `n` clients of the base with the lowest SHA-256 of
/// `"vitrine/scenario-sample/v1\0" ‖ seed ‖ client id`, as a CSV export. Returns its path
/// and the base's size.
pub(super) fn sample(features: &Path, dir: &Path, n: u64, seed: u64) -> Result<(PathBuf, u64), PlanError> {
    use sha2::{Digest, Sha256};
    let all = dir.join("base.csv");
    match crate::Source::from_path(features) {
        Source::Store(path) => {
            let store = vitrine_store::FeatureStore::open_existing(&path)?;
            store.export(&all, &mut |_, _| {})?;
        }
        Source::File(path) if path.extension().and_then(|e| e.to_str()) == Some("csv") => {
            std::fs::copy(&path, &all).map_err(|source| PlanError::Io { path: path.clone(), source })?;
        }
        Source::File(path) => {
            return Err(PlanError::Scenario(format!("{}: sample from the feature store or a CSV export", path.display())));
        }
    }
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e: csv::Error| PlanError::Io { path: p.clone(), source: std::io::Error::other(e) }
    };
    let mut reader = csv::Reader::from_path(&all).map_err(io(&all))?;
    let headers = reader.headers().map_err(io(&all))?.clone();
    let id =
        headers.iter().position(|h| h == "client_id").ok_or_else(|| PlanError::Scenario("the export has no client_id column".into()))?;
    let mut keyed: Vec<([u8; 32], csv::StringRecord)> = Vec::new();
    let mut base = 0u64;
    for r in reader.records() {
        let r = r.map_err(io(&all))?;
        base += 1;
        let mut h = Sha256::new();
        h.update(b"vitrine/scenario-sample/v1\0");
        h.update(seed.to_le_bytes());
        h.update(r.get(id).unwrap_or("").as_bytes());
        keyed.push((h.finalize().into(), r));
        // Keep memory at about twice the sample.
        if keyed.len() as u64 > 2 * n.max(1) {
            keyed.sort_unstable_by_key(|a| a.0);
            keyed.truncate(n as usize);
        }
    }
    keyed.sort_unstable_by_key(|a| a.0);
    keyed.truncate(n as usize);
    // The sample in the base's order.
    let out = dir.join("sample.csv");
    let mut w = csv::Writer::from_path(&out).map_err(io(&out))?;
    w.write_record(&headers).map_err(io(&out))?;
    let mut rows: Vec<csv::StringRecord> = keyed.into_iter().map(|(_, r)| r).collect();
    rows.sort_by(|a, b| a.get(id).cmp(&b.get(id)));
    for r in &rows {
        w.write_record(r).map_err(io(&out))?;
    }
    w.flush().map_err(|source| PlanError::Io { path: out.clone(), source })?;
    let _ = std::fs::remove_file(&all);
    Ok((out, base))
}
