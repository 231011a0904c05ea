//! Typed tables written as Parquet or CSV (by extension): the planner's outputs and the
//! feature-store export. Rows are buffered per column and written as row groups of
//! [`ROW_GROUP`] rows, so memory stays bounded whatever the table's length.
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

/// Rows per Parquet row group.
pub const ROW_GROUP: usize = 65_536;

/// A column's type. Every column is nullable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Float,
    Bool,
    /// Days since 1970-01-01 (Parquet `DATE`; `YYYY-MM-DD` in CSV).
    Date,
    /// A 32-bit integer (Parquet `INT32`).
    Int,
}

/// One cell to write.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Null,
    Text(&'a str),
    Float(f64),
    Bool(bool),
    Date(i32),
    Int(i32),
}

/// Why a table could not be written.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{path}: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("{path}: expected a .csv or .parquet file name")]
    Format { path: PathBuf },
}

impl TableError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            TableError::Write { .. } => "table_write",
            TableError::Format { .. } => "table_format",
        }
    }
}

enum Buffer {
    Text(Vec<ByteArray>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
    Date(Vec<i32>),
    Int(Vec<i32>),
}

enum Sink {
    Parquet { writer: SerializedFileWriter<BufWriter<File>>, buffers: Vec<(Buffer, Vec<i16>)>, rows: usize },
    Csv(csv::Writer<BufWriter<File>>),
}

/// A table being written.
#[allow(missing_debug_implementations)]
pub struct TableWriter {
    path: PathBuf,
    kinds: Vec<Kind>,
    sink: Sink,
    written: u64,
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01).
pub fn date_text(days: i32) -> String {
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Howard Hinnant's `civil_from_days`.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Howard Hinnant's `days_from_civil`; `None` for an impossible date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> Option<i64> {
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    if d == 0 || d > days_in_month {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

impl TableWriter {
    /// Creates `path` (`.parquet` or `.csv`) with these columns.
    pub fn create(path: &Path, columns: &[(&str, Kind)]) -> Result<TableWriter, TableError> {
        let err = |reason: String| TableError::Write { path: path.to_path_buf(), reason };
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let parquet = match ext.as_deref() {
            Some("parquet") => true,
            Some("csv") => false,
            _ => return Err(TableError::Format { path: path.to_path_buf() }),
        };
        let file = BufWriter::with_capacity(1 << 20, File::create(path).map_err(|e| err(e.to_string()))?);
        let sink = if parquet {
            let fields = columns
                .iter()
                .map(|(name, kind)| {
                    let (physical, logical) = match kind {
                        Kind::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
                        Kind::Float => (Physical::DOUBLE, None),
                        Kind::Bool => (Physical::BOOLEAN, None),
                        Kind::Date => (Physical::INT32, Some(LogicalType::Date)),
                        Kind::Int => (Physical::INT32, None),
                    };
                    Type::primitive_type_builder(name, physical)
                        .with_repetition(Repetition::OPTIONAL)
                        .with_logical_type(logical)
                        .build()
                        .map(Arc::new)
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| err(e.to_string()))?;
            let schema = Type::group_type_builder("vitrine").with_fields(fields).build().map_err(|e| err(e.to_string()))?;
            let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
            let writer = SerializedFileWriter::new(file, Arc::new(schema), Arc::new(props)).map_err(|e| err(e.to_string()))?;
            let buffers = columns
                .iter()
                .map(|(_, k)| {
                    let b = match k {
                        Kind::Text => Buffer::Text(Vec::new()),
                        Kind::Float => Buffer::Float(Vec::new()),
                        Kind::Bool => Buffer::Bool(Vec::new()),
                        Kind::Date => Buffer::Date(Vec::new()),
                        Kind::Int => Buffer::Int(Vec::new()),
                    };
                    (b, Vec::new())
                })
                .collect();
            Sink::Parquet { writer, buffers, rows: 0 }
        } else {
            let mut w = csv::Writer::from_writer(file);
            w.write_record(columns.iter().map(|(n, _)| *n)).map_err(|e| err(e.to_string()))?;
            Sink::Csv(w)
        };
        Ok(TableWriter { path: path.to_path_buf(), kinds: columns.iter().map(|(_, k)| *k).collect(), sink, written: 0 })
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.written
    }

    /// Appends one row (one value per column, of the column's kind or `Null`).
    pub fn push(&mut self, row: &[Value<'_>]) -> Result<(), TableError> {
        let err = |reason: String| TableError::Write { path: self.path.clone(), reason };
        if row.len() != self.kinds.len() {
            return Err(err(format!("{} values for {} columns", row.len(), self.kinds.len())));
        }
        // Checked before anything is buffered, so a refused row leaves no partial row.
        for (v, k) in row.iter().zip(&self.kinds) {
            let fits = matches!(
                (v, k),
                (Value::Null, _)
                    | (Value::Text(_), Kind::Text)
                    | (Value::Float(_), Kind::Float)
                    | (Value::Bool(_), Kind::Bool)
                    | (Value::Date(_), Kind::Date)
                    | (Value::Int(_), Kind::Int)
            );
            if !fits {
                return Err(err(format!("value {v:?} does not fit a {k:?} column")));
            }
        }
        match &mut self.sink {
            Sink::Csv(w) => {
                let cells: Vec<String> = row
                    .iter()
                    .map(|v| match v {
                        Value::Null => String::new(),
                        Value::Text(s) => s.to_string(),
                        Value::Float(x) => format!("{x}"),
                        Value::Bool(b) => b.to_string(),
                        Value::Date(d) => date_text(*d),
                        Value::Int(i) => i.to_string(),
                    })
                    .collect();
                w.write_record(&cells).map_err(|e| err(e.to_string()))?;
            }
            Sink::Parquet { buffers, rows, .. } => {
                for ((buf, defs), v) in buffers.iter_mut().zip(row) {
                    let ok = match (buf, v) {
                        (_, Value::Null) => true,
                        (Buffer::Text(b), Value::Text(s)) => {
                            b.push(ByteArray::from(s.as_bytes().to_vec()));
                            true
                        }
                        (Buffer::Float(b), Value::Float(x)) => {
                            b.push(*x);
                            true
                        }
                        (Buffer::Bool(b), Value::Bool(x)) => {
                            b.push(*x);
                            true
                        }
                        (Buffer::Date(b), Value::Date(x)) | (Buffer::Int(b), Value::Int(x)) => {
                            b.push(*x);
                            true
                        }
                        _ => false,
                    };
                    if !ok {
                        return Err(err(format!("value {v:?} does not fit its column")));
                    }
                    defs.push(i16::from(*v != Value::Null));
                }
                *rows += 1;
                if *rows >= ROW_GROUP {
                    self.flush()?;
                }
            }
        }
        self.written += 1;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), TableError> {
        let path = self.path.clone();
        let err = move |e: parquet::errors::ParquetError| TableError::Write { path: path.clone(), reason: e.to_string() };
        let Sink::Parquet { writer, buffers, rows } = &mut self.sink else { return Ok(()) };
        if *rows == 0 {
            return Ok(());
        }
        let mut group = writer.next_row_group().map_err(&err)?;
        for (buf, defs) in buffers.iter_mut() {
            let mut col = group
                .next_column()
                .map_err(&err)?
                .ok_or_else(|| err(parquet::errors::ParquetError::General("fewer columns than buffers".into())))?;
            match buf {
                Buffer::Text(b) => col.typed::<ByteArrayType>().write_batch(b, Some(defs), None).map(drop),
                Buffer::Float(b) => col.typed::<DoubleType>().write_batch(b, Some(defs), None).map(drop),
                Buffer::Bool(b) => col.typed::<BoolType>().write_batch(b, Some(defs), None).map(drop),
                Buffer::Date(b) | Buffer::Int(b) => col.typed::<Int32Type>().write_batch(b, Some(defs), None).map(drop),
            }
            .map_err(&err)?;
            col.close().map_err(&err)?;
            match buf {
                Buffer::Text(b) => b.clear(),
                Buffer::Float(b) => b.clear(),
                Buffer::Bool(b) => b.clear(),
                Buffer::Date(b) | Buffer::Int(b) => b.clear(),
            }
            defs.clear();
        }
        group.close().map_err(&err)?;
        *rows = 0;
        Ok(())
    }

    /// Writes what is buffered and closes the file.
    pub fn finish(mut self) -> Result<u64, TableError> {
        self.flush()?;
        let path = self.path.clone();
        let err = |reason: String| TableError::Write { path: path.clone(), reason };
        match self.sink {
            Sink::Parquet { writer, .. } => {
                writer.close().map_err(|e| err(e.to_string()))?;
            }
            Sink::Csv(mut w) => {
                w.flush().map_err(|e| err(e.to_string()))?;
                let inner = w.into_inner().map_err(|e| err(e.to_string()))?;
                inner.into_inner().map_err(|e| err(e.to_string()))?.sync_all().map_err(|e| err(e.to_string()))?;
            }
        }
        Ok(self.written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for days in [-1000, 0, 59, 60, 365, 11_016, 20_415, 20_780, 40_000] {
            let (y, m, d) = civil_from_days(days as i64);
            assert_eq!(days_from_civil(y, m, d), Some(days as i64), "{y}-{m}-{d}");
        }
        assert_eq!(date_text(0), "1970-01-01");
        assert_eq!(days_from_civil(2026, 11, 23).map(|d| date_text(d as i32)), Some("2026-11-23".into()));
        assert_eq!(days_from_civil(2026, 2, 29), None);
        assert!(days_from_civil(2028, 2, 29).is_some());
    }

    #[test]
    fn parquet_and_csv_hold_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let cols = [("id", Kind::Text), ("x", Kind::Float), ("ok", Kind::Bool), ("day", Kind::Date)];
        for name in ["t.parquet", "t.csv"] {
            let path = dir.path().join(name);
            let mut w = TableWriter::create(&path, &cols).unwrap();
            for i in 0..(ROW_GROUP + 10) {
                let id = format!("c-{i}");
                let x = if i % 7 == 0 { Value::Null } else { Value::Float(i as f64 / 3.0) };
                w.push(&[Value::Text(&id), x, Value::Bool(i % 2 == 0), Value::Date(20_000 + (i % 5) as i32)]).unwrap();
            }
            assert!(w.push(&[Value::Float(1.0), Value::Null, Value::Null, Value::Null]).is_err(), "a float in a text column");
            assert_eq!(w.finish().unwrap(), (ROW_GROUP + 10) as u64);
            let rows = crate::Rows::open(&path).unwrap();
            assert_eq!(rows.headers, ["id", "x", "ok", "day"]);
            let all: Vec<_> = rows.iter.collect::<Result<_, _>>().unwrap();
            assert_eq!(all.len(), ROW_GROUP + 10);
            let row = &all[ROW_GROUP + 3];
            let id = format!("c-{}", ROW_GROUP + 3);
            assert_eq!(row[0], crate::Cell::Text(id));
        }
        assert!(matches!(TableWriter::create(&dir.path().join("t.txt"), &cols), Err(TableError::Format { .. })));
    }
}
