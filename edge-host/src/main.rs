//! `vitrine`: author and ship what the Vitrine engine runs.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use vitrine_host::keys::{self, Role};
use vitrine_host::source;
use vitrine_host::store::FeatureStore;
use vitrine_engine::snapshot::{encode_text, SnapshotSigner};

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
    /// The feature store (SQLite, one typed column per feature).
    #[command(subcommand)]
    Features(FeaturesCmd),
    /// Signed per-client snapshots from the feature store.
    #[command(subcommand)]
    Snapshot(SnapshotCmd),
}

#[derive(Subcommand, Debug)]
enum FeaturesCmd {
    /// Import a CSV or Parquet file (columns: client_id, feature names, consent_profiling,
    /// consent_<channel>) checked cell by cell against the bundle's schema, in one
    /// transaction: a bad cell is reported with its row and column and nothing is written.
    ///
    /// Example: vitrine features import clients.parquet --schema edge-host/examples/bundle/bundle.toml --db features.sqlite
    Import {
        /// A `.csv` (with a header row) or `.parquet` file.
        file: PathBuf,
        /// The bundle source (its `bundle.toml`, or the folder holding it) whose schema the features follow.
        #[arg(long)]
        schema: PathBuf,
        #[arg(long)]
        db: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum SnapshotCmd {
    /// Print one client's signed snapshot (base64url, ready for a cookie).
    Sign {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        client: String,
        /// A snapshot-role secret key file.
        #[arg(long)]
        key: PathBuf,
        /// Validity, e.g. 1h, 1d.
        #[arg(long, default_value = "1d")]
        ttl: String,
        /// Issue time in unix seconds (default: now).
        #[arg(long)]
        now: Option<u64>,
    },
    /// Sign every client's snapshot into a JSON-lines file {"client_id", "snapshot"}.
    SignAll {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "1d")]
        ttl: String,
        #[arg(long)]
        now: Option<u64>,
    },
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
            let (bundle, parity) = source::load_with_report(&dir)?;
            for (name, p) in &parity {
                let tract = match &p.tract_unavailable {
                    None => format!("{} rows vs tract-onnx", p.tract_rows),
                    Some(why) => format!("tract-onnx cannot run it: {}", why.lines().next().unwrap_or_default()),
                };
                println!("model `{name}`: parity max |diff| {:.2e} ≤ {:.0e} ({} reference rows; {tract})", p.max_diff, vitrine_host::onnx::TOLERANCE, p.reference_rows);
            }
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
        Command::Features(FeaturesCmd::Import { file, schema, db }) => {
            let dir = if schema.is_file() { schema.parent().map(Path::to_path_buf).unwrap_or_default() } else { schema };
            let bundle = source::load(&dir)?;
            let mut store = FeatureStore::open(&db, &bundle.schema)?;
            let bar = indicatif::ProgressBar::new_spinner().with_message(format!("importing {}", file.display()));
            let rows = store.import_file(&file, &mut |done, total| {
                if let Some(total) = total {
                    bar.set_length(total);
                    bar.set_style(indicatif::ProgressStyle::default_bar());
                }
                bar.set_position(done);
            });
            bar.finish_and_clear();
            let rows = rows?;
            println!("imported {rows} clients into {} ({} in total)", db.display(), store.len()?);
        }
        Command::Snapshot(SnapshotCmd::Sign { db, client, key, ttl, now }) => {
            let store = FeatureStore::open_existing(&db)?;
            let signer = signer(&key)?;
            let content = store.snapshot_content(&client, issue_time(now)?, seconds(&ttl)?)?;
            println!("{}", encode_text(&signer.sign(store.schema(), &content)?));
        }
        Command::Snapshot(SnapshotCmd::SignAll { db, key, out, ttl, now }) => {
            let store = FeatureStore::open_existing(&db)?;
            let signer = signer(&key)?;
            let total = store.len()?;
            let bar = indicatif::ProgressBar::new(total);
            let mut lines = String::with_capacity(total as usize * 800);
            let started = std::time::Instant::now();
            store.for_each(issue_time(now)?, seconds(&ttl)?, |id, content| {
                let snapshot = signer.sign(store.schema(), &content).map_err(|e| vitrine_host::store::StoreError::Corrupt(format!("client `{id}`: {e}")))?;
                lines.push_str(&serde_json::json!({ "client_id": id, "snapshot": encode_text(&snapshot) }).to_string());
                lines.push('\n');
                bar.inc(1);
                Ok(())
            })?;
            bar.finish_and_clear();
            write_atomically(&out, lines.as_bytes())?;
            let secs = started.elapsed().as_secs_f64();
            println!("signed {total} snapshots in {secs:.2} s ({:.0}/s) → {}", total as f64 / secs.max(1e-9), out.display());
        }
    }
    Ok(())
}

fn signer(key: &Path) -> Result<SnapshotSigner> {
    let secret = keys::load_secret(key, Role::Snapshot)?;
    Ok(SnapshotSigner::new(&secret.kid, secret.key)?)
}

fn seconds(duration: &str) -> Result<u64> {
    vitrine_host::rules::parse_duration(duration).ok_or_else(|| anyhow::anyhow!("`{duration}` is not a duration like 90s, 15m, 36h or 7d"))
}

fn issue_time(now: Option<u64>) -> Result<u64> {
    match now {
        Some(n) => Ok(n),
        None => Ok(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs()),
    }
}

/// Writes to a temporary file beside `path`, then renames: no partial file on failure.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}
