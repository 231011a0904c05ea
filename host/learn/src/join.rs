//! Logged decisions joined to the features they were decided on: each training row's
//! `snapshot_hash` looked up in the snapshot ledger. A row whose snapshot the host never
//! signed (or whose entry expired) is a **miss**: counted and reported, its features
//! never guessed; one signed for another schema is **schema_changed** (features were
//! added or removed between bundle versions) and is not used either.
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use vitrine_feedback::training::Row;
use vitrine_store::{FeatureStore, LedgerEntry, StoreError};

/// How a row's features were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Found {
    Found,
    /// The ledger has no entry for the decision's snapshot.
    Miss,
    /// The entry was signed for a different schema than the current bundle's.
    SchemaChanged,
    /// The decision had no snapshot (an anonymous visitor).
    NoSnapshot,
}

impl Found {
    /// The word the export and the reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Found::Found => "found",
            Found::Miss => "miss",
            Found::SchemaChanged => "schema_changed",
            Found::NoSnapshot => "no_snapshot",
        }
    }
}

/// One row with its ledger entry (when found for the current schema).
#[derive(Debug, Clone)]
pub struct Joined {
    pub row: Row,
    pub found: Found,
    /// Shared by the rows of one decision (one ledger lookup per snapshot).
    pub entry: Option<Arc<LedgerEntry>>,
}

impl Joined {
    /// The schema-ordered feature values, `NaN` where missing (as the engine reads them).
    pub fn features(&self) -> Option<Vec<f32>> {
        self.entry.as_ref().map(|e| e.features.iter().map(|v| v.unwrap_or(f32::NAN)).collect())
    }
}

/// Joins `rows` to `ledger`, keeping entries of the schema with `schema_hash` (16 hex
/// digits); returns the rows and the count of each [`Found`].
pub fn join(rows: Vec<Row>, ledger: &FeatureStore, schema_hash: &str) -> Result<(Vec<Joined>, BTreeMap<Found, u64>), StoreError> {
    let mut counts = BTreeMap::new();
    // One lookup per snapshot: a snapshot serves every decision made with it.
    let mut cache: HashMap<String, Option<Arc<LedgerEntry>>> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let entry = match &row.offer.snapshot_hash {
            None => None,
            Some(h) => match cache.get(h) {
                Some(e) => e.clone(),
                None => {
                    let e = ledger.ledger_entry(h)?.map(Arc::new);
                    cache.insert(h.clone(), e.clone());
                    e
                }
            },
        };
        let found = match (&row.offer.snapshot_hash, &entry) {
            (None, _) => Found::NoSnapshot,
            (Some(_), None) => Found::Miss,
            (Some(_), Some(e)) if e.schema_hash != schema_hash => Found::SchemaChanged,
            _ => Found::Found,
        };
        *counts.entry(found).or_default() += 1;
        out.push(Joined { row, found, entry: entry.filter(|_| found == Found::Found) });
    }
    Ok((out, counts))
}
