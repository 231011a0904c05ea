//! Export: the store as a Parquet or CSV file with the import's columns plus `subject`
//! (the salted pseudonym), which the planner and the Spark job read.
use std::path::Path;

use vitrine_engine::schema::FeatureKind;
use vitrine_engine::snapshot::{channel_consent_bit, CONSENT_PROFILING};

use super::{FeatureStore, StoreError};
use crate::table::{Kind, TableWriter, Value};

/// The column kind a feature is exported as (numbers, booleans, categorical labels).
pub fn feature_column(kind: &FeatureKind) -> Kind {
    match kind {
        FeatureKind::Numeric { .. } => Kind::Float,
        FeatureKind::Boolean => Kind::Bool,
        FeatureKind::Categorical { .. } => Kind::Text,
    }
}

/// One feature value as exported: missing → null, a categorical index → its label.
pub fn feature_cell(value: Option<f32>, kind: &FeatureKind) -> Value<'_> {
    match (value, kind) {
        (None, _) => Value::Null,
        (Some(x), FeatureKind::Numeric { .. }) => Value::Float(f64::from(x)),
        (Some(x), FeatureKind::Boolean) => Value::Bool(x != 0.0),
        (Some(x), FeatureKind::Categorical { vocab }) => vocab.get(x as usize).map_or(Value::Null, |l| Value::Text(l)),
    }
}

impl FeatureStore {
    /// Writes every client to `path` (`.parquet` or `.csv`, written to a temporary name
    /// and renamed when complete); returns the number of rows.
    pub fn export(&self, path: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<u64, StoreError> {
        let schema = self.schema.clone();
        let total = self.len()?;
        let file_err = |reason: String| StoreError::File { path: path.to_path_buf(), reason };
        let mut columns: Vec<(String, Kind)> =
            vec![("client_id".into(), Kind::Text), ("subject".into(), Kind::Text), ("consent_profiling".into(), Kind::Bool)];
        columns.extend(schema.channels.iter().map(|c| (format!("consent_{c}"), Kind::Bool)));
        columns.extend(schema.features.iter().map(|f| (f.name.clone(), feature_column(&f.kind))));
        let names: Vec<(&str, Kind)> = columns.iter().map(|(n, k)| (n.as_str(), *k)).collect();
        let staged = vitrine_base::atomic::Staged::beside(path);
        let mut w = TableWriter::create(staged.path(), &names).map_err(|e| file_err(e.to_string()))?;
        let mut rows = 0u64;
        let result = self.for_each(0, 0, |id, c| {
            let subject = vitrine_base::hex::encode(&c.subject);
            let mut row = Vec::with_capacity(names.len());
            row.push(Value::Text(&id));
            row.push(Value::Text(&subject));
            row.push(Value::Bool(c.consent & CONSENT_PROFILING != 0));
            row.extend((0..schema.channels.len()).map(|i| Value::Bool(c.consent & channel_consent_bit(i) != 0)));
            row.extend(schema.features.iter().zip(&c.values).map(|(f, v)| feature_cell(*v, &f.kind)));
            w.push(&row).map_err(|e| file_err(e.to_string()))?;
            rows += 1;
            if rows.is_multiple_of(4096) {
                progress(rows, total);
            }
            Ok(())
        });
        let done = result.and_then(|()| w.finish().map_err(|e| file_err(e.to_string())));
        done?;
        staged.commit().map_err(|source| StoreError::Io { path: path.to_path_buf(), source })?;
        progress(rows, total);
        Ok(rows)
    }
}
