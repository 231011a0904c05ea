//! `vitrine snapshot sign`: one client's signed snapshot.
use std::path::PathBuf;

use anyhow::Result;
use vitrine_base::keys::{self, Role};
use vitrine_engine::snapshot::{encode_text, SnapshotSigner};
use vitrine_store::FeatureStore;

/// Validity of a snapshot unless `--ttl` says otherwise.
const DEFAULT_TTL: &str = "1d";

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long)]
    client: String,
    #[command(flatten)]
    signing: Signing,
}

/// What signing snapshots takes: the store, the key, validity and issue time.
#[derive(clap::Args, Debug)]
pub struct Signing {
    /// The feature store.
    #[arg(long)]
    db: PathBuf,
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

impl Signing {
    /// The store, the signer, the issue time and the validity in seconds.
    pub fn open(&self) -> Result<(FeatureStore, SnapshotSigner, u64, u64)> {
        let store = FeatureStore::open_existing(&self.db)?;
        let secret = keys::load_secret(&self.key, Role::Snapshot)?;
        let signer = SnapshotSigner::new(&secret.kid, secret.key)?;
        Ok((store, signer, self.now.unwrap_or_else(vitrine_base::clock::now), super::seconds(&self.ttl)?))
    }
}

pub fn run(a: Args) -> Result<()> {
    let (store, signer, now, ttl) = a.signing.open()?;
    let content = store.snapshot_content(&a.client, now, ttl)?;
    println!("{}", encode_text(&signer.sign(store.schema(), &content)?));
    Ok(())
}
