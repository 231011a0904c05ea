//! Streaming the client base: the feature store itself, or a Parquet/CSV export of it
//! (`vitrine features export`), in batches, on a reader thread. Nothing but the batch
//! in flight is held in memory.
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};

use vitrine_engine::schema::Schema;
use vitrine_engine::snapshot::Profile;

use crate::PlanError;
use vitrine_store::{Columns, FeatureStore, RowLayout, Rows, StoreError};

/// Clients per batch handed to the deciders.
pub const BATCH: usize = 4096;
/// Batches read ahead of the deciders.
const READ_AHEAD: usize = 4;

/// One client to plan for.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub profile: Profile,
}

/// Where the base comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A feature store (SQLite, `vitrine features import`).
    Store(PathBuf),
    /// A `.parquet` or `.csv` export of one (`vitrine features export`).
    File(PathBuf),
}

impl Source {
    /// A path ending in `.parquet`, `.pq` or `.csv` is an export; anything else a store.
    pub fn from_path(path: &Path) -> Source {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("parquet" | "pq" | "csv") => Source::File(path.to_path_buf()),
            _ => Source::Store(path.to_path_buf()),
        }
    }
}

/// Batches of clients from a reader thread, and the total if known up front.
#[allow(missing_debug_implementations)]
pub struct Reader {
    pub total: Option<u64>,
    pub batches: Receiver<Result<Vec<Client>, PlanError>>,
    pub thread: std::thread::JoinHandle<()>,
}

fn to_f32(values: Vec<Option<f64>>) -> Vec<Option<f32>> {
    values.into_iter().map(|v| v.map(|x| x as f32)).collect()
}

/// Opens `source` for `schema` (checked before the thread starts) and starts reading.
pub fn open(source: &Source, schema: &Schema) -> Result<Reader, PlanError> {
    let (tx, rx) = sync_channel::<Result<Vec<Client>, PlanError>>(READ_AHEAD);
    match source {
        Source::Store(path) => {
            let store = FeatureStore::open_existing(path)?;
            if store.schema().hash() != schema.hash() {
                return Err(StoreError::SchemaMismatch {
                    stored: vitrine_base::hex::encode(&store.schema().hash()),
                    given: vitrine_base::hex::encode(&schema.hash()),
                }
                .into());
            }
            let total = Some(store.len()?);
            drop(store);
            let path = path.clone();
            let thread = std::thread::spawn(move || {
                let store = match FeatureStore::open_existing(&path) {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = tx.send(Err(e.into()));
                        return;
                    }
                };
                let mut batch = Vec::with_capacity(BATCH);
                let done = store.for_each(0, 0, |id, content| {
                    batch.push(Client {
                        id,
                        profile: Profile { subject: content.subject, consent: content.consent, values: content.values },
                    });
                    if batch.len() == BATCH && tx.send(Ok(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))).is_err() {
                        return Err(StoreError::Corrupt("planner stopped".into()));
                    }
                    Ok(())
                });
                let _ = match done {
                    Ok(()) if !batch.is_empty() => tx.send(Ok(batch)),
                    Ok(()) => Ok(()),
                    Err(e) => tx.send(Err(e.into())),
                };
            });
            Ok(Reader { total, batches: rx, thread })
        }
        Source::File(path) => {
            let rows = Rows::open(path)?;
            let layout = RowLayout::new(schema, &rows.headers, path, Columns::Export)?;
            let (total, first_row) = (rows.total, rows.first_row);
            let schema = schema.clone();
            let path = path.clone();
            let thread = std::thread::spawn(move || {
                let mut batch = Vec::with_capacity(BATCH);
                for (n, cells) in rows.iter.enumerate() {
                    let client = cells.and_then(|cells| layout.parse(&schema, n as u64 + first_row, |i| &cells[i])).and_then(|row| {
                        let subject = row.subject.ok_or_else(|| StoreError::Row {
                            path: path.clone(),
                            row: n as u64 + first_row,
                            column: "subject".into(),
                            value: String::new(),
                            reason: "a subject is required".into(),
                        })?;
                        Ok(Client { id: row.id, profile: Profile { subject, consent: row.consent, values: to_f32(row.values) } })
                    });
                    match client {
                        Ok(c) => batch.push(c),
                        Err(e) => {
                            let _ = tx.send(Err(e.into()));
                            return;
                        }
                    }
                    if batch.len() == BATCH && tx.send(Ok(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))).is_err() {
                        return;
                    }
                }
                if !batch.is_empty() {
                    let _ = tx.send(Ok(batch));
                }
            });
            Ok(Reader { total, batches: rx, thread })
        }
    }
}
