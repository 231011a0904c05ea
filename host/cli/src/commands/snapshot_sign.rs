//! `vitrine snapshot sign`: one client's signed snapshot.
use std::path::{Path, PathBuf};

use anyhow::Result;
use vitrine_base::keys::{self, Role};
use vitrine_engine::snapshot::{encode_text, SnapshotSigner};
use vitrine_store::FeatureStore;

/// Validity of a snapshot unless `--ttl` says otherwise.
pub const DEFAULT_TTL: &str = "1d";

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long)]
    db: PathBuf,
    #[arg(long)]
    client: String,
    /// A snapshot-role secret key file.
    #[arg(long)]
    key: PathBuf,
    /// Validity, e.g. 1h, 1d.
    #[arg(long, default_value = DEFAULT_TTL)]
    ttl: String,
    /// Issue time in unix seconds (default: now).
    #[arg(long)]
    now: Option<u64>,
}

pub fn run(a: Args) -> Result<()> {
    let store = FeatureStore::open_existing(&a.db)?;
    let signer = signer(&a.key)?;
    let content = store.snapshot_content(&a.client, a.now.unwrap_or_else(vitrine_base::clock::now), super::seconds(&a.ttl)?)?;
    println!("{}", encode_text(&signer.sign(store.schema(), &content)?));
    Ok(())
}

/// The snapshot signer of a snapshot-role secret key file.
pub fn signer(key: &Path) -> Result<SnapshotSigner> {
    let secret = keys::load_secret(key, Role::Snapshot)?;
    Ok(SnapshotSigner::new(&secret.kid, secret.key)?)
}
