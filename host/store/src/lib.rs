//! `vitrine-store`: a typed feature store in SQLite, keyed by client id, and the snapshots it issues.
//!
//! Layout: `meta(key, value)` holds the schema (JSON), its hash and a random salt for
//! subject pseudonyms; `clients` has one typed column per feature (REAL; booleans 0/1,
//! categoricals as vocabulary index) plus the consent bits. CSV and Parquet imports are checked
//! cell by cell against the schema and applied in one transaction.
mod error;
mod export;
mod import;
pub mod ledger;
mod parquet_rows;
pub mod table;

use std::path::Path;

pub use error::StoreError;
pub use export::{feature_cell, feature_column};
pub use import::{Cell, Columns, Row, RowLayout, Rows};
pub use ledger::{LedgerEntry, LedgerWriter, DEFAULT_RETENTION_SECS};
use rusqlite::{params, Connection, OptionalExtension};
use vitrine_engine::schema::Schema;
use vitrine_engine::snapshot::SnapshotContent;

/// An open feature store.
#[derive(Debug)]
pub struct FeatureStore {
    conn: Connection,
    schema: Schema,
    salt: Vec<u8>,
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn schema_id(schema: &Schema) -> String {
    vitrine_base::hex::encode(&schema.hash())
}

impl FeatureStore {
    /// Opens (creating if needed) the store at `path` for `schema`. A store made for
    /// another schema is refused.
    pub fn open(path: &Path, schema: &Schema) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL)", [])?;
        let stored: Option<String> = conn.query_row("SELECT value FROM meta WHERE key = 'schema_hash'", [], |r| r.get(0)).optional()?;
        match stored {
            Some(h) if h != schema_id(schema) => return Err(StoreError::SchemaMismatch { stored: h, given: schema_id(schema) }),
            Some(_) => {}
            None => {
                let mut salt = [0u8; 16];
                getrandom::fill(&mut salt).map_err(|e| StoreError::Corrupt(format!("no entropy for the subject salt: {e}")))?;
                let json = serde_json::to_string(schema).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let columns: String = schema.features.iter().map(|f| format!(", {} REAL", quote(&f.name))).collect();
                let tx = conn.unchecked_transaction()?;
                tx.execute(&format!("CREATE TABLE clients (client_id TEXT PRIMARY KEY, consent INTEGER NOT NULL{columns})"), [])?;
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema', ?1), ('schema_hash', ?2), ('subject_salt', ?3)",
                    params![json, schema_id(schema), salt.to_vec()],
                )?;
                tx.commit()?;
            }
        }
        Self::with_schema(conn, schema.clone())
    }

    /// Opens an existing store with the schema it was made for.
    pub fn open_existing(path: &Path) -> Result<Self, StoreError> {
        if !path.exists() {
            return Err(StoreError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such feature store"),
            });
        }
        let conn = Connection::open(path)?;
        let json: Option<String> =
            conn.query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| r.get(0)).optional().ok().flatten();
        let schema: Schema =
            serde_json::from_str(&json.ok_or(StoreError::Empty)?).map_err(|e| StoreError::Corrupt(format!("stored schema: {e}")))?;
        Self::with_schema(conn, schema)
    }

    fn with_schema(conn: Connection, schema: Schema) -> Result<Self, StoreError> {
        let salt: Vec<u8> = conn.query_row("SELECT value FROM meta WHERE key = 'subject_salt'", [], |r| r.get(0))?;
        conn.execute_batch(ledger::SCHEMA)?;
        Ok(FeatureStore { conn, schema, salt })
    }

    /// The schema this store holds.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Number of clients.
    pub fn len(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM clients", [], |r| r.get(0))?)
    }

    /// True when no client is stored.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }

    /// The 16-byte pseudonym of `client_id`: a salted hash, so snapshots never carry ids.
    pub fn subject(&self, client_id: &str) -> [u8; 16] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(b"vitrine/subject/v1\0");
        h.update(&self.salt);
        h.update(client_id.as_bytes());
        let full = h.finalize();
        let mut s = [0u8; 16];
        s.copy_from_slice(&full[..16]);
        s
    }

    fn select(&self) -> String {
        let columns: String = self.schema.features.iter().map(|f| format!(", {}", quote(&f.name))).collect();
        format!("SELECT client_id, consent{columns} FROM clients")
    }

    fn content(&self, row: &rusqlite::Row<'_>, issued_at: u64, ttl: u64) -> rusqlite::Result<(String, SnapshotContent)> {
        let id: String = row.get(0)?;
        let consent: i64 = row.get(1)?;
        let mut values = Vec::with_capacity(self.schema.features.len());
        for i in 0..self.schema.features.len() {
            values.push(row.get::<_, Option<f64>>(i + 2)?.map(|x| x as f32));
        }
        let content = SnapshotContent {
            subject: self.subject(&id),
            issued_at,
            expires_at: issued_at.saturating_add(ttl),
            consent: consent as u16,
            values,
        };
        Ok((id, content))
    }

    /// What a snapshot of `client_id` says, valid from `issued_at` for `ttl` seconds.
    pub fn snapshot_content(&self, client_id: &str, issued_at: u64, ttl: u64) -> Result<SnapshotContent, StoreError> {
        let sql = format!("{} WHERE client_id = ?1", self.select());
        self.conn
            .query_row(&sql, [client_id], |r| self.content(r, issued_at, ttl))
            .optional()?
            .map(|(_, c)| c)
            .ok_or_else(|| StoreError::UnknownClient(client_id.to_string()))
    }

    /// Every client's subject pseudonym (sales name clients by it).
    pub fn subjects(&self) -> Result<std::collections::HashSet<[u8; 16]>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT client_id FROM clients")?;
        let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = std::collections::HashSet::new();
        for id in ids {
            out.insert(self.subject(&id?));
        }
        Ok(out)
    }

    /// Up to `limit` clients after `after` (all from the first when `None`), in id order,
    /// with what their snapshots say: a page whose rows are owned, so the caller may
    /// write to the store (the ledger) before reading the next.
    pub fn contents_after(
        &self,
        after: Option<&str>,
        limit: usize,
        issued_at: u64,
        ttl: u64,
    ) -> Result<Vec<(String, SnapshotContent)>, StoreError> {
        let sql = format!("{} WHERE client_id > ?1 ORDER BY client_id LIMIT ?2", self.select());
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params![after.unwrap_or(""), i64::try_from(limit).unwrap_or(i64::MAX)])?;
        let mut out = Vec::with_capacity(limit.min(1 << 16));
        while let Some(row) = rows.next()? {
            out.push(self.content(row, issued_at, ttl)?);
        }
        Ok(out)
    }

    /// Calls `f` for every client in id order.
    pub fn for_each(
        &self,
        issued_at: u64,
        ttl: u64,
        mut f: impl FnMut(String, SnapshotContent) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare(&format!("{} ORDER BY client_id", self.select()))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let (id, content) = self.content(row, issued_at, ttl)?;
            f(id, content)?;
        }
        Ok(())
    }
}
