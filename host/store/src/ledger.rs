//! The snapshot ledger: every snapshot this store's host signed, by its identity hash
//! (the decision record's `snapshot_hash`), with the feature values, consents and schema
//! it carried and its validity. So every logged decision, wherever it ran, joins to the
//! features it was decided on. Entries expire `retention` after their snapshot does
//! (pruned when the ledger is written), and a client's entries go with the client.
use rusqlite::{params, OptionalExtension, Transaction};
use vitrine_engine::snapshot::UnverifiedSnapshot;

use crate::{FeatureStore, StoreError};

/// Ledger entries are kept this long after their snapshot expired, unless told otherwise.
pub const DEFAULT_RETENTION_SECS: u64 = 90 * 86_400;

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ledger (
    snapshot_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    consent INTEGER NOT NULL,
    schema_hash TEXT NOT NULL,
    features BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ledger_client ON ledger(client_id);
CREATE INDEX IF NOT EXISTS ledger_expires ON ledger(expires_at);
";

/// One signed snapshot, as the ledger keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    /// 32 hex digits, as in decision records.
    pub snapshot_hash: String,
    pub client_id: String,
    /// 32 hex digits.
    pub subject: String,
    pub issued_at: u64,
    pub expires_at: u64,
    pub consent: u16,
    /// 16 hex digits: the schema the snapshot was encoded for.
    pub schema_hash: String,
    /// In schema order, as carried (quantised); `None` = missing.
    pub features: Vec<Option<f32>>,
}

/// Records signed snapshots in one transaction (commit with [`LedgerWriter::commit`]).
#[derive(Debug)]
pub struct LedgerWriter<'a> {
    tx: Transaction<'a>,
    store_schema: &'a vitrine_engine::schema::Schema,
    written: u64,
}

impl FeatureStore {
    /// A writer that records snapshots this host signs (one transaction).
    pub fn ledger(&mut self) -> Result<LedgerWriter<'_>, StoreError> {
        let tx = self.conn.transaction()?;
        Ok(LedgerWriter { tx, store_schema: &self.schema, written: 0 })
    }

    /// Deletes the entries whose snapshot expired more than `retention_secs` before
    /// `now`; returns how many.
    pub fn prune_ledger(&self, now: u64, retention_secs: u64) -> Result<u64, StoreError> {
        let before = i64::try_from(now.saturating_sub(retention_secs)).unwrap_or(i64::MAX);
        Ok(self.conn.execute("DELETE FROM ledger WHERE expires_at < ?1", [before])? as u64)
    }

    /// The ledger entry of the snapshot with identity `snapshot_hash` (32 hex digits).
    pub fn ledger_entry(&self, snapshot_hash: &str) -> Result<Option<LedgerEntry>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT snapshot_hash, client_id, subject, issued_at, expires_at, consent, schema_hash, features FROM ledger WHERE snapshot_hash = ?1",
                [snapshot_hash],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, String>(6)?,
                        features_of(r.get_ref(7)?)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(snapshot_hash, client_id, subject, issued_at, expires_at, consent, schema_hash, features)| {
            let features = features.map_err(|e| StoreError::Corrupt(format!("ledger entry {snapshot_hash}: {e}")))?;
            Ok(LedgerEntry {
                snapshot_hash,
                client_id,
                subject,
                issued_at: issued_at.max(0) as u64,
                expires_at: expires_at.max(0) as u64,
                consent: u16::try_from(consent).unwrap_or(0),
                schema_hash,
                features,
            })
        })
        .transpose()
    }

    /// Entries in the ledger.
    pub fn ledger_len(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM ledger", [], |r| r.get(0))?)
    }
}

impl LedgerWriter<'_> {
    /// Records the signed snapshot `bytes` of `client_id` (a snapshot already recorded
    /// is kept once).
    pub fn record(&mut self, client_id: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let snap = UnverifiedSnapshot::parse(bytes)
            .map_err(|e| StoreError::Corrupt(format!("client `{client_id}`: a signed snapshot does not parse: {e}")))?;
        let values = snap.carried_values(self.store_schema).map_err(|e| StoreError::Corrupt(format!("client `{client_id}`: {e}")))?;
        let row = Row {
            id: &snap.id(),
            client_id,
            subject: &snap.subject(),
            issued_at: snap.issued_at(),
            expires_at: snap.expires_at(),
            consent: snap.consent(),
            schema_hash: &snap.schema_hash(),
            values: &values,
        };
        self.insert(&row)
    }

    /// Records a profile the planner decided on (no signed snapshot: the host's trusted
    /// profile stood in), valid from `issued_at` to `expires_at` (the plan's window).
    pub fn record_profile(
        &mut self,
        client_id: &str,
        profile: &vitrine_engine::snapshot::Profile,
        issued_at: u64,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        let (id, values) = profile.carried(self.store_schema).map_err(|e| StoreError::Corrupt(format!("client `{client_id}`: {e}")))?;
        let row = Row {
            id: &id,
            client_id,
            subject: &profile.subject,
            issued_at,
            expires_at,
            consent: profile.consent,
            schema_hash: &self.store_schema.hash(),
            values: &values,
        };
        self.insert(&row)
    }

    fn insert(&mut self, r: &Row) -> Result<(), StoreError> {
        let hex = vitrine_base::hex::encode;
        let at = |t: u64| i64::try_from(t).unwrap_or(i64::MAX);
        self.written += self.tx.prepare_cached("INSERT OR IGNORE INTO ledger (snapshot_hash, client_id, subject, issued_at, expires_at, consent, schema_hash, features) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?
            .execute(params![hex(r.id), r.client_id, hex(r.subject), at(r.issued_at), at(r.expires_at), r.consent, hex(r.schema_hash), blob(r.values)])? as u64;
        Ok(())
    }

    /// Commits what was recorded; returns how many new entries.
    pub fn commit(self) -> Result<u64, StoreError> {
        self.tx.commit()?;
        Ok(self.written)
    }
}

/// One entry about to be written.
struct Row<'a> {
    id: &'a [u8],
    client_id: &'a str,
    subject: &'a [u8],
    issued_at: u64,
    expires_at: u64,
    consent: u16,
    schema_hash: &'a [u8],
    values: &'a [Option<f32>],
}

/// The values as stored: 4 little-endian bytes per feature, a missing value as NaN (a
/// carried value is never NaN).
fn blob(values: &[Option<f32>]) -> Vec<u8> {
    values.iter().flat_map(|v| v.unwrap_or(f32::NAN).to_le_bytes()).collect()
}

/// The stored values back: the blob above, or the JSON array earlier ledgers wrote.
fn features_of(v: rusqlite::types::ValueRef<'_>) -> rusqlite::Result<Result<Vec<Option<f32>>, String>> {
    use rusqlite::types::ValueRef;
    Ok(match v {
        ValueRef::Blob(b) if b.len() % 4 == 0 => Ok(b
            .chunks_exact(4)
            .map(|c| {
                let x = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                (!x.is_nan()).then_some(x)
            })
            .collect()),
        ValueRef::Blob(b) => Err(format!("features are {} bytes, not 4 per feature", b.len())),
        ValueRef::Text(t) => serde_json::from_slice(t).map_err(|e| e.to_string()),
        _ => Err("features are neither a blob nor JSON".into()),
    })
}
