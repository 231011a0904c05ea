//! `vitrine keys new`: an Ed25519 key pair with a role.
use std::path::PathBuf;

use anyhow::Result;
use vitrine_base::keys::{self, Role};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Key id, 1 to 32 of [A-Za-z0-9._-]; it travels in every signed file.
    #[arg(long)]
    kid: String,
    /// What the key may sign.
    #[arg(long, value_enum)]
    role: Role,
    /// Folder for the two files (created if missing; existing keys are never overwritten).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(a: Args) -> Result<()> {
    let (secret, public) = keys::generate(&a.kid, a.role, &a.out)?;
    println!("{} key `{}`:\n  secret {} (mode 0600)\n  public {}", a.role, a.kid, secret.display(), public.display());
    Ok(())
}
