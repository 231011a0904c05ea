//! CSV import: every cell checked against the schema, one transaction.
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

impl FeatureStore {
    /// Imports `path` (CSV with a header: `client_id`, feature names, `consent_profiling`,
    /// `consent_<channel>`). Rows replace earlier rows of the same client. On any bad
    /// cell the import stops with its row and column and nothing is written.
    pub fn import_csv(&mut self, path: &Path) -> Result<u64, StoreError> {
        let csv_err = |reason: String| StoreError::Csv { path: path.to_path_buf(), reason };
        let mut reader = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_path(path).map_err(|e| csv_err(e.to_string()))?;
        let headers = reader.headers().map_err(|e| csv_err(e.to_string()))?.clone();
        let schema = self.schema.clone();
        let mut columns = Vec::with_capacity(headers.len());
        let mut seen = std::collections::BTreeSet::new();
        for h in &headers {
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
            for (n, record) in reader.records().enumerate() {
                let row = n as u64 + 2;
                let record = record.map_err(|e| csv_err(format!("row {row}: {e}")))?;
                let mut id = String::new();
                let mut consent = 0u16;
                let mut values: Vec<Option<f64>> = vec![None; schema.features.len()];
                for (cell, (col, header)) in record.iter().zip(columns.iter().zip(headers.iter())) {
                    let bad = |reason: String| StoreError::Row { path: path.to_path_buf(), row, column: header.to_string(), value: cell.to_string(), reason };
                    match *col {
                        Column::ClientId if cell.is_empty() => return Err(bad("a client id is required".into())),
                        Column::ClientId => id = cell.to_string(),
                        Column::Consent(bit) => match (cell.is_empty(), boolean(cell)) {
                            (true, _) | (false, Some(false)) => {}
                            (false, Some(true)) => consent |= bit,
                            (false, None) => return Err(bad("expected true/false, 1/0 or yes/no".into())),
                        },
                        Column::Feature(_) if cell.is_empty() => {}
                        Column::Feature(i) => values[i] = Some(cell_value(&schema.features[i].kind, cell).map_err(bad)?),
                    }
                }
                stmt.execute(params_from_iter(std::iter::once(rusqlite::types::Value::Text(id)).chain(std::iter::once(rusqlite::types::Value::Integer(consent as i64))).chain(
                    values.into_iter().map(|v| v.map_or(rusqlite::types::Value::Null, rusqlite::types::Value::Real)),
                )))?;
                rows += 1;
            }
        }
        tx.commit()?;
        Ok(rows)
    }
}

/// One cell as the engine will hold it, or why it does not fit.
fn cell_value(kind: &FeatureKind, cell: &str) -> Result<f64, String> {
    match kind {
        FeatureKind::Boolean => boolean(cell).map(|b| f64::from(u8::from(b))).ok_or_else(|| "expected true/false, 1/0 or yes/no".to_string()),
        FeatureKind::Categorical { vocab } => vocab.iter().position(|v| v == cell).map(|i| i as f64).ok_or_else(|| format!("not one of {}", vocab.join(", "))),
        FeatureKind::Numeric { quant } => {
            let x: f64 = cell.parse().map_err(|_| "expected a number".to_string())?;
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
