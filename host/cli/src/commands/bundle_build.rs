//! `vitrine bundle build`: compile a bundle source folder and sign it.
use std::path::PathBuf;

use anyhow::{Context, Result};
use vitrine_base::keys::{self, Role};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The folder with bundle.toml.
    dir: PathBuf,
    /// A bundle-role secret key file.
    #[arg(long)]
    key: PathBuf,
    /// Where to write the signed bundle (written whole or not at all).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(a: Args) -> Result<()> {
    let secret = keys::load_secret(&a.key, Role::Bundle)?;
    let (bundle, parity) = vitrine_compile::load_with_report(&a.dir)?;
    for (name, p) in &parity {
        let tract = match &p.tract_unavailable {
            None => format!("{} rows vs tract-onnx", p.tract_rows),
            Some(why) => format!("tract-onnx cannot run it: {}", why.lines().next().unwrap_or_default()),
        };
        println!(
            "model `{name}`: parity max |diff| {:.2e} ≤ {:.0e} ({} reference rows; {tract})",
            p.max_diff,
            vitrine_compile::onnx::TOLERANCE,
            p.reference_rows
        );
    }
    let bytes = vitrine_engine::bundle::envelope::sign(&bundle, &secret.kid, &secret.key)?;
    vitrine_base::atomic::write(&a.out, &bytes).with_context(|| format!("writing {}", a.out.display()))?;
    println!(
        "{} v{}: {} offers, {} slots, {} bytes → {}",
        bundle.name,
        bundle.version,
        bundle.offers.len(),
        bundle.slots.len(),
        bytes.len(),
        a.out.display()
    );
    Ok(())
}
