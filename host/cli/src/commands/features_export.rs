//! `vitrine features export`: the store as Parquet or CSV, with subject pseudonyms.
use std::path::PathBuf;

use anyhow::Result;
use vitrine_store::FeatureStore;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long)]
    db: PathBuf,
    /// `.parquet` or `.csv` (written whole or not at all).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(a: Args) -> Result<()> {
    let store = FeatureStore::open_existing(&a.db)?;
    let bar = crate::progress::bar(format!("exporting to {}", a.out.display()));
    let total = store.len()?;
    let rows = store.export(&a.out, &mut |done, _| crate::progress::update(&bar, done, Some(total)));
    bar.finish_and_clear();
    println!("exported {} clients to {}", rows?, a.out.display());
    Ok(())
}
