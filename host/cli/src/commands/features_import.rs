//! `vitrine features import`: a CSV or Parquet file into the feature store, checked cell
//! by cell against the bundle's schema (read without compiling the bundle).
use std::path::PathBuf;

use anyhow::Result;
use vitrine_store::FeatureStore;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A `.csv` (with a header row) or `.parquet` file.
    file: PathBuf,
    /// The bundle source (its `bundle.toml`, or the folder holding it) whose schema the features follow.
    #[arg(long)]
    schema: PathBuf,
    #[arg(long)]
    db: PathBuf,
}

pub fn run(a: Args) -> Result<()> {
    let schema = vitrine_source::read_schema(&a.schema)?;
    let mut store = FeatureStore::open(&a.db, &schema)?;
    let bar = crate::progress::bar(format!("importing {}", a.file.display()));
    let rows = store.import_file(&a.file, &mut |done, total| crate::progress::update(&bar, done, total));
    bar.finish_and_clear();
    let rows = rows?;
    println!("imported {rows} clients into {} ({} in total)", a.db.display(), store.len()?);
    Ok(())
}
