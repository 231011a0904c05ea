//! `vitrine`: author and ship what the Vitrine engine runs.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use vitrine_host::keys::{self, Role};
use vitrine_host::source;

/// Vitrine host: keys, bundles (and, with the host issues, snapshots and serving).
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Ed25519 key pairs. Bundle keys sign bundles; snapshot keys sign per-client
    /// snapshots. Keep them apart: a bundle trusts snapshot keys by id.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Build, sign and inspect bundles.
    #[command(subcommand)]
    Bundle(BundleCmd),
}

#[derive(Subcommand, Debug)]
enum KeysCmd {
    /// Write DIR/KID.key (secret, mode 0600) and DIR/KID.pub (public).
    ///
    /// Example: vitrine keys new --kid bundle-2026 --role bundle --out keys/
    New {
        /// Key id, 1 to 32 of [A-Za-z0-9._-]; it travels in every signed file.
        #[arg(long)]
        kid: String,
        /// What the key may sign.
        #[arg(long, value_enum)]
        role: Role,
        /// Folder for the two files (created if missing; existing keys are never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum BundleCmd {
    /// Compile a bundle source folder (bundle.toml + rule files) and sign it.
    ///
    /// Example: vitrine bundle build edge-host/examples/bundle --key keys/bundle-2026.key --out telco.vbundle
    Build {
        /// The folder with bundle.toml.
        dir: PathBuf,
        /// A bundle-role secret key file.
        #[arg(long)]
        key: PathBuf,
        /// Where to write the signed bundle (written whole or not at all).
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a signed bundle with a bundle public key and print it as JSON.
    Inspect {
        file: PathBuf,
        /// A bundle-role public key file.
        #[arg(long)]
        key: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Keys(KeysCmd::New { kid, role, out }) => {
            let (secret, public) = keys::generate(&kid, role, &out)?;
            println!("{role} key `{kid}`:\n  secret {} (mode 0600)\n  public {}", secret.display(), public.display());
        }
        Command::Bundle(BundleCmd::Build { dir, key, out }) => {
            let secret = keys::load_secret(&key, Role::Bundle)?;
            let bundle = source::load(&dir)?;
            let bytes = vitrine_engine::bundle::envelope::sign(&bundle, &secret.kid, &secret.key).map_err(source::SourceError::Engine)?;
            write_atomically(&out, &bytes)?;
            println!("{} v{}: {} offers, {} slots, {} bytes → {}", bundle.name, bundle.version, bundle.offers.len(), bundle.slots.len(), bytes.len(), out.display());
        }
        Command::Bundle(BundleCmd::Inspect { file, key }) => {
            let public = keys::load_public(&key, Role::Bundle)?;
            let public = public.bytes(&key)?;
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let verified = vitrine_engine::bundle::UnverifiedBundle::parse(&bytes)
                .map_err(vitrine_engine::Error::from)
                .and_then(|u| u.verify(&public))
                .map_err(|e| anyhow::anyhow!("{}: {} ({})", file.display(), e, e.code()))?;
            println!("{}", serde_json::to_string_pretty(verified.bundle())?);
            eprintln!("signature verified: key `{}`", verified.kid());
        }
    }
    Ok(())
}

/// Writes to a temporary file beside `path`, then renames: no partial file on failure.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}
