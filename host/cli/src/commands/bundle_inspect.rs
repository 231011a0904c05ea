//! `vitrine bundle inspect`: verify a signed bundle and print it as JSON.
use std::path::PathBuf;

use anyhow::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    file: PathBuf,
    /// A bundle-role public key file.
    #[arg(long)]
    key: PathBuf,
}

pub fn run(a: Args) -> Result<()> {
    let signed = vitrine_base::signed::read(&a.file, &a.key)?;
    println!("{}", serde_json::to_string_pretty(&signed.bundle)?);
    eprintln!("signature verified: key `{}`", signed.kid);
    Ok(())
}
