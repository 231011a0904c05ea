//! CSV and Parquet import: every cell checked against the schema, one transaction.
use std::path::Path;

use rusqlite::params_from_iter;
use vitrine_engine::schema::{FeatureKind, Quant};
use vitrine_engine::snapshot::{channel_consent_bit, CONSENT_PROFILING};

use super::{quote, FeatureStore, StoreError};

/// Where a CSV column goes.
#[derive(Debug, Clone, Copy)]
enum Column {
    ClientId,
    Feature(usize),
    Consent(u16),
}

fn boolean(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" => Some(true),
        "0" | "false" | "no" | "n" => Some(false),
        _ => None,
    }
}

/// One input cell: CSV gives text, Parquet gives typed values.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Missing,
    Text(String),
    Number(f64),
    Bool(bool),
}

impl Cell {
    fn boolean(&self) -> Option<bool> {
        match self {
            Cell::Bool(b) => Some(*b),
            Cell::Number(x) if *x == 0.0 || *x == 1.0 => Some(*x == 1.0),
            Cell::Text(s) => boolean(s),
            _ => None,
        }
    }
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Missing => Ok(()),
            Cell::Text(s) => f.write_str(s),
            Cell::Number(x) => write!(f, "{x}"),
            Cell::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl FeatureStore {
    /// Imports a `.csv` or `.parquet` file (by extension); see [`FeatureStore::import_csv`].
    /// `progress` is called with the number of rows read so far (every 1,024 rows and at
    /// the end); `total` is known up front for Parquet.
    pub fn import_file(&mut self, path: &Path, progress: &mut dyn FnMut(u64, Option<u64>)) -> Result<u64, StoreError> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("parquet" | "pq") => self.import_parquet_with(path, progress),
            Some("csv") => self.import_csv_with(path, progress),
            _ => Err(StoreError::File { path: path.to_path_buf(), reason: "expected a .csv or .parquet file".into() }),
        }
    }

    /// Imports `path` (CSV with a header: `client_id`, feature names, `consent_profiling`,
    /// `consent_<channel>`). Rows replace earlier rows of the same client. On any bad
    /// cell the import stops with its row and column and nothing is written.
    pub fn import_csv(&mut self, path: &Path) -> Result<u64, StoreError> {
        self.import_csv_with(path, &mut |_, _| {})
    }

    /// Imports a Parquet file with the same columns as [`FeatureStore::import_csv`]:
    /// numbers (any integer or float type), booleans and strings, nulls as missing.
    pub fn import_parquet(&mut self, path: &Path) -> Result<u64, StoreError> {
        self.import_parquet_with(path, &mut |_, _| {})
    }

    fn import_csv_with(&mut self, path: &Path, progress: &mut dyn FnMut(u64, Option<u64>)) -> Result<u64, StoreError> {
        let csv_err = |reason: String| StoreError::File { path: path.to_path_buf(), reason };
        let mut reader = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_path(path).map_err(|e| csv_err(e.to_string()))?;
        let headers: Vec<String> = reader.headers().map_err(|e| csv_err(e.to_string()))?.iter().map(str::to_string).collect();
        // Data starts on line 2, after the header.
        let rows = reader.into_records().enumerate().map(|(n, r)| {
            r.map(|r| r.iter().map(|c| if c.is_empty() { Cell::Missing } else { Cell::Text(c.to_string()) }).collect()).map_err(|e| csv_err(format!("row {}: {e}", n + 2)))
        });
        self.ingest(path, &headers, 2, None, rows, progress)
    }

    fn import_parquet_with(&mut self, path: &Path, progress: &mut dyn FnMut(u64, Option<u64>)) -> Result<u64, StoreError> {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        use parquet::record::Field;
        let bad = |reason: String| StoreError::File { path: path.to_path_buf(), reason };
        let file = std::fs::File::open(path).map_err(|source| StoreError::Io { path: path.to_path_buf(), source })?;
        let reader = SerializedFileReader::new(file).map_err(|e| bad(format!("not a Parquet file: {e}")))?;
        let meta = reader.metadata().file_metadata();
        let total = u64::try_from(meta.num_rows()).ok();
        let headers: Vec<String> = meta.schema_descr().root_schema().get_fields().iter().map(|f| f.name().to_string()).collect();
        let iter = reader.get_row_iter(None).map_err(|e| bad(e.to_string()))?;
        let width = headers.len();
        let rows = iter.enumerate().map(move |(n, row)| {
            let row = row.map_err(|e| bad(format!("row {}: {e}", n + 1)))?;
            let mut cells = Vec::with_capacity(width);
            for (name, field) in row.get_column_iter() {
                cells.push(match field {
                    Field::Null => Cell::Missing,
                    Field::Bool(b) => Cell::Bool(*b),
                    Field::Byte(v) => Cell::Number(f64::from(*v)),
                    Field::Short(v) => Cell::Number(f64::from(*v)),
                    Field::Int(v) => Cell::Number(f64::from(*v)),
                    Field::Long(v) => Cell::Number(*v as f64),
                    Field::UByte(v) => Cell::Number(f64::from(*v)),
                    Field::UShort(v) => Cell::Number(f64::from(*v)),
                    Field::UInt(v) => Cell::Number(f64::from(*v)),
                    Field::ULong(v) => Cell::Number(*v as f64),
                    Field::Float(v) => Cell::Number(f64::from(*v)),
                    Field::Double(v) => Cell::Number(*v),
                    Field::Str(s) => Cell::Text(s.clone()),
                    other => return Err(bad(format!("row {}, column `{name}`: unsupported Parquet value {other}", n + 1))),
                });
            }
            Ok(cells)
        });
        self.ingest(path, &headers, 1, total, rows, progress)
    }

    /// Checks every cell of every row against the schema and writes them in one
    /// transaction. `first_row` is the number the first data row is reported as.
    fn ingest(
        &mut self,
        path: &Path,
        headers: &[String],
        first_row: u64,
        total: Option<u64>,
        records: impl Iterator<Item = Result<Vec<Cell>, StoreError>>,
        progress: &mut dyn FnMut(u64, Option<u64>),
    ) -> Result<u64, StoreError> {
        let csv_err = |reason: String| StoreError::File { path: path.to_path_buf(), reason };
        let schema = self.schema.clone();
        let mut columns = Vec::with_capacity(headers.len());
        let mut seen = std::collections::BTreeSet::new();
        for h in headers {
            let h = h.as_str();
            if !seen.insert(h.to_string()) {
                return Err(csv_err(format!("column `{h}` appears twice")));
            }
            let col = if h == "client_id" {
                Column::ClientId
            } else if let Some(i) = schema.feature(h) {
                Column::Feature(i)
            } else if h == "consent_profiling" {
                Column::Consent(CONSENT_PROFILING)
            } else if let Some(i) = h.strip_prefix("consent_").and_then(|c| schema.channel(c)) {
                Column::Consent(channel_consent_bit(i))
            } else {
                let known = schema.features.iter().map(|f| f.name.clone()).chain(schema.channels.iter().map(|c| format!("consent_{c}"))).collect::<Vec<_>>();
                let hint = crate::rules::closest(h, known.iter().map(String::as_str)).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
                return Err(csv_err(format!("unknown column `{h}`{hint}")));
            };
            columns.push(col);
        }
        if !columns.iter().any(|c| matches!(c, Column::ClientId)) {
            return Err(csv_err("the header has no `client_id` column".into()));
        }

        let names: String = schema.features.iter().map(|f| format!(", {}", quote(&f.name))).collect();
        let marks: String = (0..schema.features.len()).map(|i| format!(", ?{}", i + 3)).collect();
        let sql = format!("INSERT OR REPLACE INTO clients (client_id, consent{names}) VALUES (?1, ?2{marks})");
        let tx = self.conn.transaction()?;
        let mut rows = 0u64;
        {
            let mut stmt = tx.prepare(&sql)?;
            for (n, record) in records.enumerate() {
                let row = n as u64 + first_row;
                let record = record?;
                let mut id = String::new();
                let mut consent = 0u16;
                let mut values: Vec<Option<f64>> = vec![None; schema.features.len()];
                for (cell, (col, header)) in record.iter().zip(columns.iter().zip(headers.iter())) {
                    let bad = |reason: String| StoreError::Row { path: path.to_path_buf(), row, column: header.to_string(), value: cell.to_string(), reason };
                    match (*col, cell) {
                        (Column::ClientId, Cell::Missing) => return Err(bad("a client id is required".into())),
                        (Column::ClientId, Cell::Text(s)) => id = s.clone(),
                        (Column::ClientId, Cell::Number(x)) if x.fract() == 0.0 => id = format!("{x}"),
                        (Column::ClientId, _) => return Err(bad("expected a text or integer client id".into())),
                        (Column::Consent(_), Cell::Missing) => {}
                        (Column::Consent(bit), c) => match c.boolean() {
                            Some(false) => {}
                            Some(true) => consent |= bit,
                            None => return Err(bad("expected true/false, 1/0 or yes/no".into())),
                        },
                        (Column::Feature(_), Cell::Missing) => {}
                        (Column::Feature(i), c) => values[i] = Some(cell_value(&schema.features[i].kind, c).map_err(bad)?),
                    }
                }
                stmt.execute(params_from_iter(std::iter::once(rusqlite::types::Value::Text(id)).chain(std::iter::once(rusqlite::types::Value::Integer(consent as i64))).chain(
                    values.into_iter().map(|v| v.map_or(rusqlite::types::Value::Null, rusqlite::types::Value::Real)),
                )))?;
                rows += 1;
                if rows.is_multiple_of(1024) {
                    progress(rows, total);
                }
            }
        }
        tx.commit()?;
        progress(rows, total);
        Ok(rows)
    }
}

/// One cell as the engine will hold it, or why it does not fit.
fn cell_value(kind: &FeatureKind, cell: &Cell) -> Result<f64, String> {
    match kind {
        FeatureKind::Boolean => cell.boolean().map(|b| f64::from(u8::from(b))).ok_or_else(|| "expected true/false, 1/0 or yes/no".to_string()),
        FeatureKind::Categorical { vocab } => match cell {
            Cell::Text(s) => vocab.iter().position(|v| v == s).map(|i| i as f64).ok_or_else(|| format!("not one of {}", vocab.join(", "))),
            _ => Err(format!("expected a category (text): one of {}", vocab.join(", "))),
        },
        FeatureKind::Numeric { quant } => {
            let x: f64 = match cell {
                Cell::Number(x) => *x,
                Cell::Text(s) => s.parse().map_err(|_| "expected a number".to_string())?,
                _ => return Err("expected a number".into()),
            };
            if !x.is_finite() {
                return Err("expected a finite number".into());
            }
            let (scale, offset, max) = match *quant {
                Quant::F32 => return if x.abs() <= f32::MAX as f64 { Ok(x) } else { Err("outside the f32 range".into()) },
                Quant::U8 { scale, offset } => (scale, offset, 255.0),
                Quant::U16 { scale, offset } => (scale, offset, 65535.0),
            };
            let q = ((x as f32 - offset) / scale).round();
            if !(0.0..=max).contains(&q) {
                return Err(format!("outside the encoded range {offset} to {}", offset + scale * max));
            }
            Ok(x)
        }
    }
}
