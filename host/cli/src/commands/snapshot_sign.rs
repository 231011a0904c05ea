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
    /// Every signed snapshot is recorded in the store's ledger (its hash → the values it
    /// carried); entries go this long after their snapshot expired.
    #[arg(long, default_value = "90d")]
    ledger_retention: String,
}

impl Signing {
    /// The store (its ledger pruned to the retention), the signer, the issue time and the
    /// validity in seconds.
    pub fn open(&self) -> Result<(FeatureStore, SnapshotSigner, u64, u64)> {
        let store = FeatureStore::open_existing(&self.db)?;
        let secret = keys::load_secret(&self.key, Role::Snapshot)?;
        let signer = SnapshotSigner::new(&secret.kid, secret.key)?;
        let now = self.now.unwrap_or_else(vitrine_base::clock::now);
        store.prune_ledger(vitrine_base::clock::now().max(now), super::seconds(&self.ledger_retention)?)?;
        Ok((store, signer, now, super::seconds(&self.ttl)?))
    }
}

pub fn run(a: Args) -> Result<()> {
    let (mut store, signer, now, ttl) = a.signing.open()?;
    let content = store.snapshot_content(&a.client, now, ttl)?;
    let bytes = signer.sign(store.schema(), &content)?;
    let mut ledger = store.ledger()?;
    ledger.record(&a.client, &bytes)?;
    ledger.commit()?;
    println!("{}", encode_text(&bytes));
    Ok(())
}
