//! Parquet rows read column by column: each column chunk is decoded in batches of
//! [`BATCH`] values straight into cells, with no per-row record objects (the record API
//! allocates a name per cell and was the planner's bottleneck).
use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use parquet::basic::{LogicalType, Type as Physical};
use parquet::column::reader::ColumnReader;
use parquet::file::reader::{FileReader, SerializedFileReader};

use super::{Cell, StoreError};

/// Records decoded per column per step.
pub const BATCH: usize = 4096;

enum Kind {
    Bool,
    Int,
    Date,
    Float,
    Text,
}

/// Rows of a Parquet file, in order.
pub(super) struct ParquetRows {
    path: PathBuf,
    reader: SerializedFileReader<std::fs::File>,
    kinds: Vec<(String, Kind, i16)>,
    group: usize,
    readers: Vec<ColumnReader>,
    ready: VecDeque<Vec<Cell>>,
    row: u64,
    failed: bool,
}

impl ParquetRows {
    /// Opens `path`; returns the column names, the row count and the rows.
    pub(super) fn open(path: &Path) -> Result<(Vec<String>, u64, ParquetRows), StoreError> {
        let bad = |reason: String| StoreError::File { path: path.to_path_buf(), reason };
        let file = std::fs::File::open(path).map_err(|source| StoreError::Io { path: path.to_path_buf(), source })?;
        let reader = SerializedFileReader::new(file).map_err(|e| bad(format!("not a Parquet file: {e}")))?;
        let meta = reader.metadata().file_metadata();
        let total = u64::try_from(meta.num_rows()).unwrap_or(0);
        let schema = meta.schema_descr();
        let top = schema.root_schema().get_fields().len();
        if schema.num_columns() != top {
            return Err(bad("nested columns are not supported: one flat column per feature".into()));
        }
        let mut kinds = Vec::with_capacity(top);
        for i in 0..top {
            let c = schema.column(i);
            let name = c.name().to_string();
            let kind = match (c.physical_type(), c.logical_type_ref()) {
                (Physical::BOOLEAN, _) => Kind::Bool,
                (Physical::INT32, Some(LogicalType::Date)) => Kind::Date,
                (Physical::INT32 | Physical::INT64, _) => Kind::Int,
                (Physical::FLOAT | Physical::DOUBLE, _) => Kind::Float,
                (Physical::BYTE_ARRAY, _) => Kind::Text,
                (t, _) => return Err(bad(format!("column `{name}`: unsupported Parquet type {t}"))),
            };
            if c.max_rep_level() > 0 {
                return Err(bad(format!("column `{name}`: repeated values are not supported")));
            }
            kinds.push((name, kind, c.max_def_level()));
        }
        let names = kinds.iter().map(|(n, _, _)| n.clone()).collect();
        Ok((
            names,
            total,
            ParquetRows {
                path: path.to_path_buf(),
                reader,
                kinds,
                group: 0,
                readers: Vec::new(),
                ready: VecDeque::new(),
                row: 0,
                failed: false,
            },
        ))
    }

    fn bad(&self, reason: String) -> StoreError {
        StoreError::File { path: self.path.clone(), reason: format!("near row {}: {reason}", self.row + 1) }
    }

    /// Decodes the next batch of rows into `ready`; false at the end.
    fn fill(&mut self) -> Result<bool, StoreError> {
        loop {
            if self.readers.is_empty() {
                if self.group >= self.reader.num_row_groups() {
                    return Ok(false);
                }
                let rg = self.reader.get_row_group(self.group).map_err(|e| self.bad(e.to_string()))?;
                let mut readers = Vec::with_capacity(self.kinds.len());
                for i in 0..self.kinds.len() {
                    readers.push(rg.get_column_reader(i).map_err(|e| self.bad(e.to_string()))?);
                }
                drop(rg);
                self.readers = readers;
                self.group += 1;
            }
            let mut columns: Vec<Vec<Cell>> = Vec::with_capacity(self.kinds.len());
            for i in 0..self.kinds.len() {
                let cells = self.read_column(i)?;
                columns.push(cells);
            }
            let n = columns.first().map_or(0, Vec::len);
            if columns.iter().any(|c| c.len() != n) {
                return Err(self.bad("columns of unequal length".into()));
            }
            if n == 0 {
                self.readers.clear();
                continue;
            }
            let mut rows: Vec<Vec<Cell>> = (0..n).map(|_| Vec::with_capacity(columns.len())).collect();
            for col in columns {
                for (row, cell) in rows.iter_mut().zip(col) {
                    row.push(cell);
                }
            }
            self.ready.extend(rows);
            return Ok(true);
        }
    }

    fn read_column(&mut self, i: usize) -> Result<Vec<Cell>, StoreError> {
        let (name, kind, max_def) = (&self.kinds[i].0, &self.kinds[i].1, self.kinds[i].2);
        let mut defs: Vec<i16> = Vec::with_capacity(BATCH);
        macro_rules! read {
            ($r:expr, $f:expr) => {{
                let mut values = Vec::with_capacity(BATCH);
                let defs_arg = if max_def > 0 { Some(&mut defs) } else { None };
                let (records, _, _) = $r.read_records(BATCH, defs_arg, None, &mut values).map_err(|e| e.to_string())?;
                spread(values, &defs, max_def, records, $f)
            }};
        }
        let mut go = || -> Result<Vec<Cell>, String> {
            match (&mut self.readers[i], kind) {
                (ColumnReader::BoolColumnReader(r), _) => read!(r, |b: bool| Ok(Cell::Bool(b))),
                (ColumnReader::Int32ColumnReader(r), Kind::Date) => read!(r, |d: i32| Ok(Cell::Text(crate::table::date_text(d)))),
                (ColumnReader::Int32ColumnReader(r), _) => read!(r, |x: i32| Ok(Cell::Number(f64::from(x)))),
                (ColumnReader::Int64ColumnReader(r), _) => read!(r, |x: i64| Ok(Cell::Number(x as f64))),
                (ColumnReader::FloatColumnReader(r), _) => read!(r, |x: f32| Ok(Cell::Number(f64::from(x)))),
                (ColumnReader::DoubleColumnReader(r), _) => read!(r, |x: f64| Ok(Cell::Number(x))),
                (ColumnReader::ByteArrayColumnReader(r), _) => {
                    read!(r, |b: parquet::data_type::ByteArray| String::from_utf8(b.data().to_vec())
                        .map(Cell::Text)
                        .map_err(|_| "text that is not UTF-8".to_string()))
                }
                _ => Err("unsupported Parquet type".into()),
            }
        };
        let out = go();
        out.map_err(|e| self.bad(format!("column `{name}`: {e}")))
    }
}

/// Spreads the present `values` over `records`, with `Missing` where a level says null.
fn spread<T>(
    values: Vec<T>,
    defs: &[i16],
    max_def: i16,
    records: usize,
    f: impl Fn(T) -> Result<Cell, String>,
) -> Result<Vec<Cell>, String> {
    let mut out = Vec::with_capacity(records);
    let mut values = values.into_iter();
    for r in 0..records {
        if max_def > 0 && defs.get(r).copied().unwrap_or(0) < max_def {
            out.push(Cell::Missing);
        } else {
            out.push(f(values.next().ok_or("fewer values than levels")?)?);
        }
    }
    Ok(out)
}

impl Iterator for ParquetRows {
    type Item = Result<Vec<Cell>, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if self.ready.is_empty() {
            match self.fill() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
        self.row += 1;
        self.ready.pop_front().map(Ok)
    }
}
