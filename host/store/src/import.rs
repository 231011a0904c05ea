//! CSV and Parquet import: every cell checked against the schema, one transaction.
use std::path::Path;

use rusqlite::params_from_iter;
use vitrine_engine::schema::{FeatureKind, Quant};
use vitrine_engine::snapshot::{channel_consent_bit, CONSENT_PROFILING};

use super::{quote, FeatureStore, StoreError};

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
        let rows = Rows::csv(path)?;
        self.ingest(path, &rows.headers, rows.first_row, rows.total, rows.iter, progress)
    }

    fn import_parquet_with(&mut self, path: &Path, progress: &mut dyn FnMut(u64, Option<u64>)) -> Result<u64, StoreError> {
        let rows = Rows::parquet(path)?;
        self.ingest(path, &rows.headers, rows.first_row, rows.total, rows.iter, progress)
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
        let schema = self.schema.clone();
        let layout = RowLayout::new(&schema, headers, path, Columns::Import)?;
        let names: String = schema.features.iter().map(|f| format!(", {}", quote(&f.name))).collect();
        let marks: String = (0..schema.features.len()).map(|i| format!(", ?{}", i + 3)).collect();
        let sql = format!("INSERT OR REPLACE INTO clients (client_id, consent{names}) VALUES (?1, ?2{marks})");
        let tx = self.conn.transaction()?;
        let mut rows = 0u64;
        {
            let mut stmt = tx.prepare(&sql)?;
            for (n, record) in records.enumerate() {
                let record = record?;
                let row = layout.parse(&schema, n as u64 + first_row, |i| &record[i])?;
                stmt.execute(params_from_iter(
                    std::iter::once(rusqlite::types::Value::Text(row.id))
                        .chain(std::iter::once(rusqlite::types::Value::Integer(row.consent as i64)))
                        .chain(row.values.into_iter().map(|v| v.map_or(rusqlite::types::Value::Null, rusqlite::types::Value::Real))),
                ))?;
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

/// The rows of a CSV or Parquet file, as cells, streamed.
#[allow(missing_debug_implementations)]
pub struct Rows {
    pub headers: Vec<String>,
    /// Known up front for Parquet.
    pub total: Option<u64>,
    /// The number the first data row is reported as (2 for CSV, after its header).
    pub first_row: u64,
    pub iter: Box<dyn Iterator<Item = Result<Vec<Cell>, StoreError>> + Send>,
}

impl Rows {
    /// Opens a `.csv` or `.parquet` file (by extension).
    pub fn open(path: &Path) -> Result<Rows, StoreError> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("parquet" | "pq") => Rows::parquet(path),
            Some("csv") => Rows::csv(path),
            _ => Err(StoreError::File { path: path.to_path_buf(), reason: "expected a .csv or .parquet file".into() }),
        }
    }

    /// A CSV file with a header line.
    pub fn csv(path: &Path) -> Result<Rows, StoreError> {
        let p = path.to_path_buf();
        let csv_err = move |reason: String| StoreError::File { path: p.clone(), reason };
        let mut reader =
            csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_path(path).map_err(|e| csv_err(e.to_string()))?;
        let headers: Vec<String> = reader.headers().map_err(|e| csv_err(e.to_string()))?.iter().map(str::to_string).collect();
        // Data starts on line 2, after the header.
        let iter = reader.into_records().enumerate().map(move |(n, r)| {
            r.map(|r| r.iter().map(|c| if c.is_empty() { Cell::Missing } else { Cell::Text(c.to_string()) }).collect())
                .map_err(|e| csv_err(format!("row {}: {e}", n + 2)))
        });
        Ok(Rows { headers, total: None, first_row: 2, iter: Box::new(iter) })
    }

    /// A Parquet file: numbers (any integer or float type), booleans and strings, nulls as
    /// missing; read column by column in batches.
    pub fn parquet(path: &Path) -> Result<Rows, StoreError> {
        let (headers, total, rows) = super::parquet_rows::ParquetRows::open(path)?;
        Ok(Rows { headers, total: Some(total), first_row: 1, iter: Box::new(rows) })
    }
}

/// Which columns a file must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columns {
    /// An import: `client_id` required, any subset of features and consents, `subject`
    /// ignored (the store derives it from its own salt).
    Import,
    /// An export read back (the planner): `client_id`, `subject`, every feature and
    /// every consent column of the schema.
    Export,
}

/// Where a column goes.
#[derive(Debug, Clone, Copy)]
enum Column {
    ClientId,
    Subject,
    Feature(usize),
    Consent(u16),
}

/// A file's header checked against the schema.
#[derive(Debug, Clone)]
pub struct RowLayout {
    path: std::path::PathBuf,
    headers: Vec<String>,
    columns: Vec<Column>,
    subject_used: bool,
}

/// One checked row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: String,
    /// From the `subject` column of an export.
    pub subject: Option<[u8; 16]>,
    pub consent: u16,
    pub values: Vec<Option<f64>>,
}

impl RowLayout {
    /// Maps `headers` onto `schema`: unknown or repeated columns are refused (with a
    /// "did you mean"), and so are missing ones that `want` requires.
    pub fn new(schema: &vitrine_engine::schema::Schema, headers: &[String], path: &Path, want: Columns) -> Result<Self, StoreError> {
        let file_err = |reason: String| StoreError::File { path: path.to_path_buf(), reason };
        let mut columns = Vec::with_capacity(headers.len());
        let mut seen = std::collections::BTreeSet::new();
        for h in headers {
            let h = h.as_str();
            if !seen.insert(h.to_string()) {
                return Err(file_err(format!("column `{h}` appears twice")));
            }
            let col = if h == "client_id" {
                Column::ClientId
            } else if h == "subject" {
                Column::Subject
            } else if let Some(i) = schema.feature(h) {
                Column::Feature(i)
            } else if h == "consent_profiling" {
                Column::Consent(CONSENT_PROFILING)
            } else if let Some(i) = h.strip_prefix("consent_").and_then(|c| schema.channel(c)) {
                Column::Consent(channel_consent_bit(i))
            } else {
                let known = schema
                    .features
                    .iter()
                    .map(|f| f.name.clone())
                    .chain(schema.channels.iter().map(|c| format!("consent_{c}")))
                    .collect::<Vec<_>>();
                let hint = vitrine_base::suggest::closest(h, known.iter().map(String::as_str))
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                return Err(file_err(format!("unknown column `{h}`{hint}")));
            };
            columns.push(col);
        }
        if !seen.contains("client_id") {
            return Err(file_err("the header has no `client_id` column".into()));
        }
        if want == Columns::Export {
            let required = ["subject".to_string(), "consent_profiling".to_string()]
                .into_iter()
                .chain(schema.channels.iter().map(|c| format!("consent_{c}")))
                .chain(schema.features.iter().map(|f| f.name.clone()));
            let missing: Vec<String> = required.filter(|r| !seen.contains(r)).collect();
            if !missing.is_empty() {
                return Err(file_err(format!(
                    "the bundle's schema needs column(s) {} that this file lacks (write it with `vitrine features export`)",
                    missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
                )));
            }
        }
        Ok(RowLayout { path: path.to_path_buf(), headers: headers.to_vec(), columns, subject_used: want == Columns::Export })
    }

    /// Checks one row; `cell(i)` is the row's cell in column `i`.
    pub fn parse<'c>(
        &self,
        schema: &vitrine_engine::schema::Schema,
        row: u64,
        cell: impl Fn(usize) -> &'c Cell,
    ) -> Result<Row, StoreError> {
        let mut out = Row { id: String::new(), subject: None, consent: 0, values: vec![None; schema.features.len()] };
        for (i, (col, header)) in self.columns.iter().zip(&self.headers).enumerate() {
            let cell = cell(i);
            let bad = |reason: String| StoreError::Row {
                path: self.path.clone(),
                row,
                column: header.to_string(),
                value: cell.to_string(),
                reason,
            };
            match (*col, cell) {
                (Column::ClientId, Cell::Missing) => return Err(bad("a client id is required".into())),
                (Column::ClientId, Cell::Text(s)) => out.id = s.clone(),
                (Column::ClientId, Cell::Number(x)) if x.fract() == 0.0 => out.id = format!("{x}"),
                (Column::ClientId, _) => return Err(bad("expected a text or integer client id".into())),
                (Column::Subject, _) if !self.subject_used => {}
                (Column::Subject, Cell::Text(s)) => {
                    out.subject = Some(vitrine_base::hex::decode::<16>(s).ok_or_else(|| bad("expected 32 hex digits".into()))?)
                }
                (Column::Subject, _) => return Err(bad("expected 32 hex digits".into())),
                (Column::Consent(_), Cell::Missing) => {}
                (Column::Consent(bit), c) => match c.boolean() {
                    Some(false) => {}
                    Some(true) => out.consent |= bit,
                    None => return Err(bad("expected true/false, 1/0 or yes/no".into())),
                },
                (Column::Feature(_), Cell::Missing) => {}
                (Column::Feature(i), c) => out.values[i] = Some(cell_value(&schema.features[i].kind, c).map_err(bad)?),
            }
        }
        Ok(out)
    }
}

/// One cell as the engine will hold it, or why it does not fit.
fn cell_value(kind: &FeatureKind, cell: &Cell) -> Result<f64, String> {
    match kind {
        FeatureKind::Boolean => {
            cell.boolean().map(|b| f64::from(u8::from(b))).ok_or_else(|| "expected true/false, 1/0 or yes/no".to_string())
        }
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
