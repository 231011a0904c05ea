//! `vitrine features import FILE.parquet`: typed Parquet columns (integers, floats,
//! booleans, strings, nulls) land exactly as the same rows from CSV, and a bad cell is
//! reported with its row and column and writes nothing.
use std::path::Path;
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use vitrine_store::FeatureStore;

use crate::common::{example_copy, vitrine};

/// One optional Parquet column.
enum Col {
    I32(Vec<Option<i32>>),
    F64(Vec<Option<f64>>),
    F32(Vec<Option<f32>>),
    Bool(Vec<Option<bool>>),
    Str(Vec<Option<&'static str>>),
}

fn levels<T: Clone>(v: &[Option<T>]) -> (Vec<T>, Vec<i16>) {
    (v.iter().flatten().cloned().collect(), v.iter().map(|x| i16::from(x.is_some())).collect())
}

/// Writes one snappy-compressed row group.
fn write_parquet(path: &Path, message: &str, cols: Vec<Col>) {
    let schema = Arc::new(parse_message_type(message).unwrap());
    let props = Arc::new(WriterProperties::builder().set_compression(Compression::SNAPPY).build());
    let mut writer = SerializedFileWriter::new(std::fs::File::create(path).unwrap(), schema, props).unwrap();
    let mut group = writer.next_row_group().unwrap();
    let mut cols = cols.into_iter();
    while let Some(mut column) = group.next_column().unwrap() {
        match (column.untyped(), cols.next().unwrap()) {
            (ColumnWriter::Int32ColumnWriter(w), Col::I32(v)) => {
                let (x, d) = levels(&v);
                w.write_batch(&x, Some(&d), None).unwrap();
            }
            (ColumnWriter::DoubleColumnWriter(w), Col::F64(v)) => {
                let (x, d) = levels(&v);
                w.write_batch(&x, Some(&d), None).unwrap();
            }
            (ColumnWriter::FloatColumnWriter(w), Col::F32(v)) => {
                let (x, d) = levels(&v);
                w.write_batch(&x, Some(&d), None).unwrap();
            }
            (ColumnWriter::BoolColumnWriter(w), Col::Bool(v)) => {
                let (x, d) = levels(&v);
                w.write_batch(&x, Some(&d), None).unwrap();
            }
            (ColumnWriter::ByteArrayColumnWriter(w), Col::Str(v)) => {
                let (x, d) = levels(&v);
                let x: Vec<ByteArray> = x.into_iter().map(ByteArray::from).collect();
                w.write_batch(&x, Some(&d), None).unwrap();
            }
            _ => panic!("column type mismatch"),
        }
        column.close().unwrap();
    }
    group.close().unwrap();
    writer.close().unwrap();
}

const MESSAGE: &str = "message clients {
    OPTIONAL BYTE_ARRAY client_id (UTF8);
    OPTIONAL INT32 tenure_months;
    OPTIONAL DOUBLE monthly_spend;
    OPTIONAL FLOAT data_usage_gb;
    OPTIONAL BOOLEAN fiber_eligible;
    OPTIONAL BOOLEAN fiber_owned;
    OPTIONAL BYTE_ARRAY indoor_coverage (UTF8);
    OPTIONAL BYTE_ARRAY plan (UTF8);
    OPTIONAL BOOLEAN open_complaint;
    OPTIONAL BOOLEAN consent_profiling;
    OPTIONAL BOOLEAN consent_web;
    OPTIONAL BOOLEAN consent_email;
}";

/// The same two clients as the CSV test's `GOOD`, plus an optional third row.
fn clients(third: Option<(i32, f64, &'static str)>) -> Vec<Col> {
    let (mut ids, mut tenure, mut spend, mut plan) =
        (vec![Some("c-001"), Some("c-002")], vec![Some(24), Some(3)], vec![Some(55.5), Some(19.99)], vec![Some("basic"), Some("premium")]);
    let n = if let Some((t, s, p)) = third {
        ids.push(Some("c-003"));
        tenure.push(Some(t));
        spend.push(Some(s));
        plan.push(Some(p));
        3
    } else {
        2
    };
    let pad = |mut v: Vec<Option<bool>>| {
        v.resize(n, None);
        v
    };
    let mut usage = vec![Some(20.0f32), None];
    usage.resize(n, None);
    let mut coverage = vec![Some("poor"), Some("good")];
    coverage.resize(n, None);
    vec![
        Col::Str(ids),
        Col::I32(tenure),
        Col::F64(spend),
        Col::F32(usage),
        Col::Bool(pad(vec![Some(true), Some(false)])),
        Col::Bool(pad(vec![Some(false), Some(false)])),
        Col::Str(coverage),
        Col::Str(plan),
        Col::Bool(pad(vec![Some(false), Some(true)])),
        Col::Bool(pad(vec![Some(true), Some(false)])),
        Col::Bool(pad(vec![Some(true), Some(true)])),
        Col::Bool(pad(vec![Some(true), Some(false)])),
    ]
}

const CSV: &str = "client_id,tenure_months,monthly_spend,data_usage_gb,fiber_eligible,fiber_owned,indoor_coverage,plan,open_complaint,consent_profiling,consent_web,consent_email\n\
c-001,24,55.5,20,true,false,poor,basic,false,true,true,true\n\
c-002,3,19.99,,no,no,good,premium,yes,false,true,false\n";

#[test]
fn parquet_rows_land_exactly_as_csv_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let src = example_copy(tmp.path());
    let schema = vitrine_compile::load(&src).unwrap().schema;
    let pq = tmp.path().join("clients.parquet");
    write_parquet(&pq, MESSAGE, clients(None));
    let csv = tmp.path().join("clients.csv");
    std::fs::write(&csv, CSV).unwrap();

    let mut from_pq = FeatureStore::open(&tmp.path().join("pq.sqlite"), &schema).unwrap();
    let mut seen = Vec::new();
    assert_eq!(from_pq.import_file(&pq, &mut |done, total| seen.push((done, total))).unwrap(), 2);
    assert_eq!(seen.last(), Some(&(2, Some(2))), "progress reports the known total");
    let mut from_csv = FeatureStore::open(&tmp.path().join("csv.sqlite"), &schema).unwrap();
    assert_eq!(from_csv.import_csv(&csv).unwrap(), 2);
    for id in ["c-001", "c-002"] {
        let (a, b) = (from_pq.snapshot_content(id, 1, 60).unwrap(), from_csv.snapshot_content(id, 1, 60).unwrap());
        assert_eq!((a.consent, &a.values), (b.consent, &b.values), "{id}");
    }

    // Through the CLI, with --schema pointing at bundle.toml.
    let db = tmp.path().join("cli.sqlite");
    let run = vitrine(&[
        "features",
        "import",
        pq.to_str().unwrap(),
        "--schema",
        src.join("bundle.toml").to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stdout).contains("imported 2 clients"));
}

#[test]
fn a_bad_parquet_cell_names_row_and_column_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let src = example_copy(tmp.path());
    let schema = vitrine_compile::load(&src).unwrap().schema;
    let mut store = FeatureStore::open(&tmp.path().join("f.sqlite"), &schema).unwrap();
    let cases = [
        ((70_000, 10.0, "basic"), "row 3, column `tenure_months`", "outside the encoded range"),
        ((1, 10.0, "gold"), "row 3, column `plan`", "not one of"),
    ];
    for (third, at, why) in cases {
        let pq = tmp.path().join("bad.parquet");
        write_parquet(&pq, MESSAGE, clients(Some(third)));
        let err = store.import_parquet(&pq).unwrap_err();
        assert_eq!(err.code(), "store_bad_row", "{err}");
        assert!(err.to_string().contains(at) && err.to_string().contains(why), "{err}");
        assert_eq!(store.len().unwrap(), 0, "nothing from a failed import is kept");
    }
    // A boolean where a category is expected is a type error, not a silent default.
    let wrong = MESSAGE.replace("BYTE_ARRAY plan (UTF8)", "BOOLEAN plan");
    let mut cols = clients(None);
    cols[7] = Col::Bool(vec![Some(true), Some(false)]);
    let pq = tmp.path().join("typed.parquet");
    write_parquet(&pq, &wrong, cols);
    let err = store.import_parquet(&pq).unwrap_err();
    assert!(err.to_string().contains("row 1, column `plan`: expected a category"), "{err}");
    assert_eq!(store.len().unwrap(), 0);

    let not = tmp.path().join("not.parquet");
    std::fs::write(&not, CSV).unwrap();
    assert_eq!(store.import_parquet(&not).unwrap_err().code(), "store_bad_file");
    assert_eq!(store.import_file(&tmp.path().join("x.json"), &mut |_, _| {}).unwrap_err().code(), "store_bad_file");
}
