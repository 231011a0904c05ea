//! `vitrine bundle check`: every check of `bundle build` (rules, models and their parity
//! gate, references, policy, timing, keys), without a signing key, every problem at once.
use std::path::PathBuf;

use anyhow::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The folder with bundle.toml.
    dir: PathBuf,
}

pub fn run(a: Args) -> Result<()> {
    match vitrine_compile::check(&a.dir) {
        Ok((bundle, parity)) => {
            for (name, p) in &parity {
                println!("model `{name}`: parity max |diff| {:.2e} ({} reference rows)", p.max_diff, p.reference_rows);
            }
            println!(
                "{} v{}: {} offers, {} slots, {} models: ok (build it with `vitrine bundle build --key …`)",
                bundle.name,
                bundle.version,
                bundle.offers.len(),
                bundle.slots.len(),
                bundle.models.len()
            );
            Ok(())
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{}: {e}", e.code());
            }
            anyhow::bail!("{}: {} problem{}", a.dir.display(), errors.len(), if errors.len() == 1 { "" } else { "s" })
        }
    }
}
