//! The `--bundle FILE --bundle-key KID.pub` pair every command that reads a signed
//! bundle takes, verified the one way (`vitrine_base::signed`).
use std::path::PathBuf;

use anyhow::Result;
use vitrine_base::signed::SignedBundle;

#[derive(clap::Args, Debug)]
pub struct BundleArgs {
    /// The signed bundle.
    #[arg(long)]
    bundle: PathBuf,
    /// Its signer's public key file (KID.pub, role bundle).
    #[arg(long)]
    bundle_key: PathBuf,
}

impl BundleArgs {
    /// Reads the bundle and verifies it with the key.
    pub fn read(&self) -> Result<SignedBundle> {
        Ok(vitrine_base::signed::read(&self.bundle, &self.bundle_key)?)
    }
}
