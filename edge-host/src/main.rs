//! `vitrine`: author and ship what the Vitrine engine runs.
// mimalloc: the planner allocates on a reader thread and frees on the workers, where
// glibc's malloc spent a third of the time consolidating (BENCHMARKS.md, campaign planning).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Serve decisions under Wasmtime, the signed bundle, snapshots, feedback events,
    /// reports and metrics over HTTP.
    ///
    /// With no --bundle it serves the embedded default: the repository's example bundle,
    /// built and signed with fresh dev keys, and a feature store of generated example
    /// clients, all under --state (reused on the next start). It prints the API key that
    /// /v1/snapshot and the admin routes need.
    ///
    /// Example: vitrine serve --listen 127.0.0.1:8080
    Serve(Box<ServeArgs>),
    /// Learn from feedback: Beta posteriors per offer (and, for offers scored by a constant
    /// propensity, the posterior mean as the new constant) in the next bundle version,
    /// signed; optionally pushed to a running server.
    ///
    /// Example: vitrine learn --bundle telco.vbundle --bundle-key keys/bundle-2026.pub --key keys/bundle-2026.key --feedback .vitrine/feedback.sqlite --out telco-v2.vbundle
    Learn(LearnArgs),
    /// Replay logged decisions through a candidate bundle and print off-policy estimates
    /// (IPS, self-normalised IPS, doubly robust, bootstrap 95% CIs) next to the logged
    /// policy's observed value: judge a bundle before it ships.
    ///
    /// Example: vitrine replay --bundle telco-v2.vbundle --bundle-key keys/bundle-2026.pub --feedback .vitrine/feedback.sqlite --since 7d
    Replay(ReplayArgs),
    /// Plan a campaign: one contact plan for the whole base across the direct channels
    /// (per-client contact budget, minimum gap, quiet days, channel consent and
    /// capacities), decided by the same engine, rules and models as the edge. Writes
    /// <out>/<channel>.parquet and .csv, uncontacted.parquet and .csv, summary.json.
    ///
    /// Example: vitrine plan --bundle telco.vbundle --bundle-key keys/bundle-2026.pub --features features.sqlite --config plan.toml --out plan-w48
    Plan(PlanArgs),
    /// The demo world: seeded synthetic clients and a traffic simulator.
    #[command(subcommand)]
    Demo(DemoCmd),
}

#[derive(Subcommand, Debug)]
enum DemoCmd {
    /// Write N synthetic telco clients (360° profile and consents) as CSV for
    /// `vitrine features import --schema web-demo/bundle`.
    Seed {
        #[arg(long, default_value_t = vitrine_host::demo::CLIENTS)]
        clients: usize,
        #[arg(long, default_value_t = vitrine_host::demo::SEED)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        /// Also write historical responses (one click draw per client and offer from the
        /// hidden truth) to train propensity models on.
        #[arg(long)]
        labels: Option<PathBuf>,
    },
    /// Visits by random demo clients through the host (and the edge worker, if given):
    /// clicks and conversions from the hidden truth, events posted back; prints the true
    /// uplift next to the measured one.
    ///
    /// Example: vitrine demo simulate --api-key $(cat .vitrine-demo/api-key) --rate 50 --duration 60s
    Simulate {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        host: String,
        /// The edge worker (half the visits go through its POST /decide).
        #[arg(long)]
        edge: Option<String>,
        #[arg(long, env = "VITRINE_API_KEY", hide_env_values = true)]
        api_key: String,
        /// Visits per second.
        #[arg(long, default_value_t = 20.0)]
        rate: f64,
        #[arg(long, default_value = "30s")]
        duration: String,
        /// Must match the seeded world (and its size) for the truth to hold.
        #[arg(long, default_value_t = vitrine_host::demo::CLIENTS)]
        clients: usize,
        #[arg(long, default_value_t = vitrine_host::demo::SEED)]
        seed: u64,
    },
}

#[derive(clap::Args, Debug)]
struct LearnArgs {
    /// The current signed bundle.
    #[arg(long)]
    bundle: PathBuf,
    /// Its signer's public key (KID.pub).
    #[arg(long)]
    bundle_key: PathBuf,
    /// The bundle-role secret key that signs the new version.
    #[arg(long)]
    key: PathBuf,
    #[arg(long)]
    feedback: PathBuf,
    #[arg(long)]
    out: PathBuf,
    /// Only events this recent (a duration like 30d) or after this unix time.
    #[arg(long, default_value = "30d")]
    since: String,
    #[arg(long, value_enum, default_value = "click")]
    reward: vitrine_host::learn::Reward,
    /// Impressions an offer needs before its constant propensity is replaced.
    #[arg(long, default_value_t = 100)]
    min_impressions: u64,
}

#[derive(clap::Args, Debug)]
struct PlanArgs {
    /// The signed bundle.
    #[arg(long)]
    bundle: PathBuf,
    #[arg(long)]
    bundle_key: PathBuf,
    /// The feature store (SQLite), or a .parquet/.csv export of it (`vitrine features export`).
    #[arg(long)]
    features: PathBuf,
    /// The planning policy (TOML: window, contact policy, channels in preference order).
    #[arg(long)]
    config: PathBuf,
    /// Output directory (created whole or not at all).
    #[arg(long)]
    out: PathBuf,
    /// Replace --out if it exists.
    #[arg(long)]
    force: bool,
    /// Log every decision of the plan (holdouts included) into this feedback store once
    /// the plan is complete, so `/v1/report` measures the campaign's uplift from the
    /// events the send system posts (with the plan's decision ids).
    #[arg(long)]
    feedback: Option<PathBuf>,
    /// Decide with `engine-abi.wasm` under Wasmtime instead of the native engine.
    #[arg(long)]
    wasm: bool,
    /// engine-abi.wasm for --wasm (default: the repository's dist/).
    #[arg(long)]
    engine: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
struct ReplayArgs {
    /// The candidate signed bundle.
    #[arg(long)]
    bundle: PathBuf,
    #[arg(long)]
    bundle_key: PathBuf,
    #[arg(long)]
    feedback: PathBuf,
    /// Decisions this recent (a duration like 7d) or after this unix time.
    #[arg(long, default_value = "7d")]
    since: String,
    #[arg(long, value_enum, default_value = "click")]
    reward: vitrine_host::learn::Reward,
    /// engine-abi.wasm (default: the repository's dist/).
    #[arg(long)]
    engine: Option<PathBuf>,
    #[arg(long, default_value_t = 1000)]
    resamples: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// State directory of the embedded default (used when --bundle is not given).
    #[arg(long, default_value = ".vitrine")]
    state: PathBuf,
    /// A signed bundle to serve (then --bundle-key is required).
    #[arg(long, requires = "bundle_key")]
    bundle: Option<PathBuf>,
    /// The bundle signer's public key file (KID.pub, role bundle).
    #[arg(long)]
    bundle_key: Option<PathBuf>,
    /// engine-abi.wasm (built by `cargo xtask wasm`).
    #[arg(long)]
    engine: Option<PathBuf>,
    /// Feature store for /v1/snapshot/{client}.
    #[arg(long, requires = "snapshot_key")]
    features: Option<PathBuf>,
    /// Snapshot-role secret key for /v1/snapshot/{client}.
    #[arg(long)]
    snapshot_key: Option<PathBuf>,
    /// Feedback store (SQLite, WAL).
    #[arg(long)]
    feedback: Option<PathBuf>,
    /// API key for /v1/snapshot and /v1/admin/* (default from VITRINE_API_KEY).
    #[arg(long, env = "VITRINE_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Where compiled engine modules are cached (.cwasm).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Largest request body, bytes (bigger gets 413).
    #[arg(long, default_value_t = 1 << 20)]
    max_body: usize,
    /// Open connections at most.
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
    /// Warm engine instances kept idle.
    #[arg(long, default_value_t = 16)]
    warm: usize,
    /// Serve static files from this folder for any other GET path (the web demo), and
    /// the engine's JS face (dist/engine-js) under /engine-js/.
    #[arg(long)]
    static_dir: Option<PathBuf>,
    /// Demo only: GET /demo/login/{client} returns a client's snapshot without the API key.
    #[arg(long)]
    demo_login: bool,
    /// With no --bundle: the demo world (web-demo/bundle, 13 offers, 10,000 seeded
    /// clients) instead of the example bundle.
    #[arg(long)]
    demo: bool,
    /// Learn periodically (off by default): every this long (e.g. 1h), learn from the
    /// feedback of --learn-window, sign with --learn-key (default: the embedded default's
    /// dev key) and hot-swap the new version.
    #[arg(long)]
    learn_every: Option<String>,
    #[arg(long, default_value = "30d")]
    learn_window: String,
    #[arg(long)]
    learn_key: Option<PathBuf>,
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
    /// Export the store as Parquet or CSV (by extension): the import's columns plus
    /// `subject`, the salted pseudonym that holdouts and decisions use. This is what
    /// `vitrine plan --features` and the Spark job read.
    ///
    /// Example: vitrine features export --db features.sqlite --out clients.parquet
    Export {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        out: PathBuf,
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
    /// Hot-swap a signed bundle on a running server (verified there; a bad one is refused
    /// and the old one keeps serving).
    ///
    /// Example: vitrine bundle push telco.vbundle --server http://127.0.0.1:8080 --api-key $KEY
    Push {
        file: PathBuf,
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server: String,
        #[arg(long, env = "VITRINE_API_KEY", hide_env_values = true)]
        api_key: String,
    },
    /// Roll a running server back to its previous bundle (it keeps the last 5).
    Rollback {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server: String,
        #[arg(long, env = "VITRINE_API_KEY", hide_env_values = true)]
        api_key: String,
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
        Command::Bundle(BundleCmd::Push { file, server, api_key }) => {
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            admin(&server, "/v1/admin/bundle", &api_key, &bytes)?;
        }
        Command::Bundle(BundleCmd::Rollback { server, api_key }) => admin(&server, "/v1/admin/rollback", &api_key, &[])?,
        Command::Serve(args) => serve(*args)?,
        Command::Demo(DemoCmd::Seed { clients, seed, out, labels }) => {
            let world = vitrine_host::demo::world::clients(clients, seed);
            write_atomically(&out, vitrine_host::demo::world::csv(&world).as_bytes())?;
            if let Some(labels) = labels {
                write_atomically(&labels, vitrine_host::demo::world::labels(&world, seed).as_bytes())?;
            }
            println!("{} clients (seed {seed}) → {}", world.len(), out.display());
        }
        Command::Demo(DemoCmd::Simulate { host, edge, api_key, rate, duration, clients, seed }) => {
            let world = vitrine_host::demo::world::clients(clients, seed);
            let options = vitrine_host::demo::simulate::Options { host, edge, api_key, rate, duration: std::time::Duration::from_secs(seconds(&duration)?), seed };
            let s = vitrine_host::demo::simulate::simulate(&world, &options).map_err(|e| anyhow::anyhow!(e))?;
            println!("{} visits ({} through the edge), modes {:?}, {} errors", s.visits, s.edge_visits, s.modes, s.errors);
            println!("{} impressions, {} clicks, {} conversions", s.impressions, s.clicks, s.conversions);
            println!("true conversion share per decision: personalised {:.4}, holdout {:.4}, uplift {:+.4}", s.true_treated_rate, s.true_holdout_rate, s.true_uplift);
            match (s.measured_uplift, s.measured_ci95) {
                (Some(u), Some((lo, hi))) => println!("measured uplift (all traffic in the report range): {u:+.4} [{lo:+.4}, {hi:+.4}]"),
                _ => println!("measured uplift: not enough holdout data yet"),
            }
        }
        Command::Learn(a) => {
            let public = keys::load_public(&a.bundle_key, Role::Bundle)?.bytes(&a.bundle_key)?;
            let bytes = std::fs::read(&a.bundle).with_context(|| format!("reading {}", a.bundle.display()))?;
            let current = vitrine_engine::bundle::UnverifiedBundle::parse(&bytes).map_err(vitrine_engine::Error::from).and_then(|u| u.verify(&public))?.into_bundle();
            let secret = keys::load_secret(&a.key, Role::Bundle)?;
            let conn = vitrine_host::feedback::SqliteStore::open_reader(&a.feedback)?;
            let learned = vitrine_host::learn::learn(&current, &conn, since(&a.since)?, a.reward, a.min_impressions)?;
            for o in &learned.offers {
                let p = o.propensity.map(|(a, b)| format!("; propensity {a:.4} → {b:.4}")).unwrap_or_default();
                println!("{:<20} {:>8} impressions {:>7} {}s  Beta({}, {}){p}", o.offer, o.impressions, o.successes, a.reward.kind(), o.alpha, o.beta);
            }
            let signed = vitrine_engine::bundle::envelope::sign(&learned.bundle, &secret.kid, &secret.key)?;
            write_atomically(&a.out, &signed)?;
            println!("{} v{} → v{}: {} bytes → {}", learned.bundle.name, current.version, learned.bundle.version, signed.len(), a.out.display());
        }
        Command::Replay(a) => {
            let public = keys::load_public(&a.bundle_key, Role::Bundle)?.bytes(&a.bundle_key)?;
            let bytes = std::fs::read(&a.bundle).with_context(|| format!("reading {}", a.bundle.display()))?;
            let engine = a.engine.unwrap_or_else(|| vitrine_host::serve::default::repo_root().join("dist/engine-abi.wasm"));
            let wasm = std::fs::read(&engine).with_context(|| format!("reading {} (build it with `cargo xtask wasm`)", engine.display()))?;
            let runtime = vitrine_host::runtime::Runtime::new(&wasm, bytes, public, vitrine_host::runtime::RuntimeOptions::default())?;
            let conn = vitrine_host::feedback::SqliteStore::open_reader(&a.feedback)?;
            let report = vitrine_host::learn::replay(&runtime, &conn, since(&a.since)?, a.reward, a.resamples)?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("candidate v{}: {} decisions ({} made elsewhere, not replayable), {} slot samples, first pick agrees on {:.1}%", report.candidate_version, report.decisions, report.skipped, report.samples, 100.0 * report.agreement);
                match &report.estimates {
                    None => println!("no logged server decisions in range: nothing to estimate"),
                    Some(e) => {
                        println!("{:<28} {:>10} {:>22}", format!("{} rate per slot", a.reward.kind()), "value", "95% CI (bootstrap)");
                        for (name, x) in [("logged policy (observed)", &e.logged), ("candidate, IPS", &e.ips), ("candidate, SNIPS", &e.snips), ("candidate, doubly robust", &e.dr)] {
                            println!("{name:<28} {:>10.5} [{:>9.5}, {:>9.5}]", x.value, x.ci95.low, x.ci95.high);
                        }
                        println!("effective sample size {:.1} of {}; max weight {:.2}", e.effective_sample_size, e.n, e.max_weight);
                    }
                }
            }
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
        Command::Features(FeaturesCmd::Export { db, out }) => {
            let store = FeatureStore::open_existing(&db)?;
            let bar = indicatif::ProgressBar::new(store.len()?).with_message(format!("exporting to {}", out.display()));
            let rows = store.export(&out, &mut |done, _| bar.set_position(done));
            bar.finish_and_clear();
            println!("exported {} clients to {}", rows?, out.display());
        }
        Command::Plan(a) => plan(a)?,
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

/// Posts to an admin route and prints the server's answer.
fn admin(server: &str, route: &str, api_key: &str, body: &[u8]) -> Result<()> {
    let url = format!("{}{route}", server.trim_end_matches('/'));
    let res = ureq::post(&url).header("Authorization", &format!("Bearer {api_key}")).config().http_status_as_error(false).build().send(body).with_context(|| format!("POST {url}"))?;
    let status = res.status();
    let text = res.into_body().read_to_string().unwrap_or_default();
    if !status.is_success() {
        anyhow::bail!("{url}: {status}: {text}");
    }
    println!("{text}");
    Ok(())
}

fn serve(a: ServeArgs) -> Result<()> {
    use vitrine_host::serve::{self, Limits, ServeConfig};
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into())).with_target(false).init();
    let mut config = match (&a.bundle, &a.bundle_key) {
        (Some(bundle), Some(key)) => ServeConfig {
            listen: a.listen,
            engine: serve::default::repo_root().join("dist/engine-abi.wasm"),
            bundle: bundle.clone(),
            bundle_key: key.clone(),
            features: None,
            snapshot_key: None,
            snapshot_ttl: 3600,
            feedback: a.state.join("feedback.sqlite"),
            api_key: None,
            cache_dir: Some(a.state.join("cache")),
            limits: Limits::default(),
            static_dir: None,
            warm: a.warm,
            demo_login: false,
            learn: None,
        },
        _ => serve::default::prepare(&a.state, a.listen, if a.demo { serve::default::World::Demo } else { serve::default::World::Example })?,
    };
    if let Some(e) = a.engine {
        config.engine = e;
    }
    if !config.engine.exists() {
        anyhow::bail!("{} does not exist: build it with `cargo xtask wasm` or pass --engine", config.engine.display());
    }
    if a.features.is_some() {
        config.features = a.features;
        config.snapshot_key = a.snapshot_key;
    }
    if let Some(f) = a.feedback {
        config.feedback = f;
    }
    if a.api_key.is_some() {
        config.api_key = a.api_key;
    }
    if a.cache_dir.is_some() {
        config.cache_dir = a.cache_dir;
    }
    config.limits.max_body = a.max_body;
    config.limits.max_connections = a.max_connections;
    config.static_dir = a.static_dir;
    config.demo_login = a.demo_login;
    if let Some(every) = &a.learn_every {
        let key = a.learn_key.clone().unwrap_or_else(|| a.state.join("keys/bundle-dev.key"));
        config.learn = Some(vitrine_host::serve::LearnLoop { interval: seconds(every)?, window: seconds(&a.learn_window)?, key, reward: vitrine_host::learn::Reward::Click, min_impressions: 100 });
    }
    if let Some(k) = &config.api_key {
        eprintln!("API key for /v1/snapshot and /v1/admin/*: {k}");
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(serve::run(config, shutdown_signal()))?;
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

fn signer(key: &Path) -> Result<SnapshotSigner> {
    let secret = keys::load_secret(key, Role::Snapshot)?;
    Ok(SnapshotSigner::new(&secret.kid, secret.key)?)
}

/// `7d` (that long ago) or a unix time.
fn since(s: &str) -> Result<u64> {
    if let Ok(t) = s.parse::<u64>() {
        return Ok(t);
    }
    Ok(issue_time(None)?.saturating_sub(seconds(s)?))
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

fn plan(a: PlanArgs) -> Result<()> {
    use vitrine_host::plan::{EngineChoice, PlanJob, Source};
    let bundle_key = keys::load_public(&a.bundle_key, Role::Bundle)?.bytes(&a.bundle_key)?;
    let bundle = std::fs::read(&a.bundle).with_context(|| format!("reading {}", a.bundle.display()))?;
    let engine = if a.wasm {
        let path = a.engine.unwrap_or_else(|| vitrine_host::serve::default::repo_root().join("dist/engine-abi.wasm"));
        EngineChoice::Wasm(std::fs::read(&path).with_context(|| format!("reading {} (build it with `cargo xtask wasm`)", path.display()))?)
    } else {
        EngineChoice::Native
    };
    let bar = indicatif::ProgressBar::new_spinner().with_message("planning");
    let progress = |done: u64, total: Option<u64>| {
        if let Some(total) = total {
            if bar.length() != Some(total) {
                bar.set_length(total);
                bar.set_style(indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} clients, {per_sec}, eta {eta}").unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()));
            }
        }
        bar.set_position(done);
    };
    let job = PlanJob { bundle, bundle_key, source: Source::from_path(&a.features), config: a.config, out: a.out.clone(), force: a.force, engine, feedback: a.feedback, threads: a.threads, progress: &progress };
    let summary = vitrine_host::plan::plan(&job);
    bar.finish_and_clear();
    let s = summary?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
    println!("{} v{} ({} engine, {} threads): {} clients decided in {:.1} s ({:.0} clients/s), {} proposals", s.bundle, s.bundle_version, s.engine, s.threads, s.clients, s.decide_seconds, s.clients_per_second, s.proposals);
    println!("window {} + {} days, quiet {:?}, at most {} contacts per client, {} days apart", s.start, s.days, s.quiet_days, s.max_contacts, s.min_gap_days);
    for c in &s.channels {
        println!("  {:<10} {:>10} contacts of {:>10} ({:.1}%)", c.channel, c.contacts, c.capacity, 100.0 * c.capacity_used);
    }
    let u = &s.uncontacted;
    println!("{} clients contacted, {} contacts; uncontacted: {} holdout, {} no channel consent, {} no eligible offer, {} channel capacity, {} no send day", s.contacted, s.contacts, u.holdout, u.no_channel_consent, u.no_eligible_offer, u.channel_capacity, u.no_send_day);
    if let Some(n) = s.logged_decisions {
        println!("{n} decisions logged to the feedback store");
    }
    println!("written to {} in {:.1} s", a.out.display(), s.seconds);
    Ok(())
}
