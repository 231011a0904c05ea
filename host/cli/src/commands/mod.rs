//! The subcommands, one file each (wasmtime-CLI style: an `Args` struct and `run`).
mod bundle_build;
mod bundle_check;
mod bundle_inspect;
mod bundle_push;
mod demo_history;
mod demo_loop;
mod demo_seed;
mod demo_simulate;
mod export_training;
mod features_export;
mod features_import;
mod keys_new;
mod learn;
mod ope;
mod plan;
mod replay;
mod report;
mod scenario;
mod serve;
mod signed_bundle;
mod snapshot_sign;
mod snapshot_sign_all;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Ed25519 key pairs. Bundle keys sign bundles; snapshot keys sign per-client
    /// snapshots. Keep them apart: a bundle trusts snapshot keys by id.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Build, sign, inspect and push bundles.
    #[command(subcommand)]
    Bundle(BundleCmd),
    /// The feature store (SQLite, one typed column per feature).
    #[command(subcommand)]
    Features(FeaturesCmd),
    /// Export what the host logged, joined, for training elsewhere.
    #[command(subcommand)]
    Export(ExportCmd),
    /// Signed per-client snapshots from the feature store.
    #[command(subcommand)]
    Snapshot(SnapshotCmd),
    /// Serve decisions under Wasmtime, the signed bundle, snapshots, feedback events,
    /// reports and metrics over HTTP.
    ///
    /// With no --bundle it serves the embedded default: the example bundle carried in this
    /// binary, built and signed with fresh dev keys, and a feature store of generated
    /// example clients, all under --state (reused on the next start). It prints the API
    /// key that /v1/snapshot and the admin routes need.
    ///
    /// Example: vitrine serve --listen 127.0.0.1:8080
    Serve(Box<serve::Args>),
    /// Learn from feedback into the next bundle version, signed: per offer a logistic
    /// regression over the bundle's features (decisions joined to their snapshots through
    /// the ledger), promoted only if its held-out AUC is not worse and the doubly-robust
    /// estimate of the resulting policy is not worse beyond its CI; offers with fewer than
    /// --maturity responses keep Thompson sampling on their Beta posterior. Prints (and
    /// logs to OUT.learn.json) every decision. `--learner beta`: Beta posteriors only.
    ///
    /// Example: vitrine learn --bundle telco.vbundle --bundle-key keys/bundle-2026.pub --key keys/bundle-2026.key --feedback .vitrine/feedback.sqlite --features .vitrine/features.sqlite --out telco-v2.vbundle
    Learn(learn::Args),
    /// Replay logged decisions through a candidate bundle and print off-policy estimates
    /// (IPS, self-normalised IPS, doubly robust, bootstrap 95% CIs) next to the logged
    /// policy's observed value: judge a bundle before it ships.
    ///
    /// Example: vitrine replay --bundle telco-v2.vbundle --bundle-key keys/bundle-2026.pub --feedback .vitrine/feedback.sqlite --since 7d
    Replay(replay::Args),
    /// Off-policy estimates (IPS, SNIPS, DR with bootstrap 95% CIs) of a candidate policy
    /// from logged rounds in Open Bandit Pipeline's array shape (JSON Lines: action,
    /// reward, pscore, action_dist, estimated_rewards): the same numbers as `obp.ope`.
    ///
    /// Example: vitrine ope --logged rounds.jsonl
    Ope(ope::Args),
    /// Measure down to the sale: sales, revenue and contacts per client of each arm,
    /// personalised against business as usual and no contact (95% CIs), each offer's
    /// incremental sales, the Qini coefficient of the engine's ranking.
    ///
    /// Example: vitrine report --bundle .vitrine/bundle.vbnd --bundle-key .vitrine/keys/bundle-dev.pub --feedback .vitrine/feedback.sqlite --since 30d
    Report(report::Args),
    /// Plan a campaign: one contact plan for the whole base across the direct channels
    /// (per-client contact budget, minimum gap, quiet days, channel consent and
    /// capacities), decided by the same engine, rules and models as the edge. Writes
    /// <out>/<channel>.parquet and .csv, uncontacted.parquet and .csv, summary.json.
    ///
    /// Example: vitrine plan --bundle telco.vbundle --bundle-key keys/bundle-2026.pub --features features.sqlite --config plan.toml --out plan-w48
    Plan(plan::Args),
    /// What a plan would do before it is signed off: one or two bundles (or one with
    /// changed business levers) planned over the same seeded sample of the base, side by
    /// side: reach and expected value per offer and channel, capacity use, clients left
    /// out and why, offers never chosen, what each business lever costs.
    ///
    /// Example: vitrine scenario --bundle a.vbnd --bundle-key keys/b.pub --features features.sqlite --plan plan.toml --sample 20000 --lever offer:fibre_upgrade=2
    Scenario(scenario::Args),
    /// The demo world: seeded synthetic clients and a traffic simulator.
    #[command(subcommand)]
    Demo(DemoCmd),
}

#[derive(Subcommand, Debug)]
pub enum KeysCmd {
    /// Write DIR/KID.key (secret, mode 0600) and DIR/KID.pub (public).
    ///
    /// Example: vitrine keys new --kid bundle-2026 --role bundle --out keys/
    New(keys_new::Args),
}

#[derive(Subcommand, Debug)]
pub enum BundleCmd {
    /// Compile a bundle source folder (bundle.toml + rule files + models) and sign it.
    ///
    /// Example: vitrine bundle build host/examples/bundle --key keys/bundle-2026.key --out telco.vbundle
    Build(bundle_build::Args),
    /// Every check of `build` (rules, models and their parity gate, references, policy,
    /// keys) without a signing key, reporting every problem at once.
    ///
    /// Example: vitrine bundle check host/examples/bundle
    Check(bundle_check::Args),
    /// Verify a signed bundle with a bundle public key and print it as JSON.
    Inspect(bundle_inspect::Args),
    /// Hot-swap a signed bundle on a running server (verified there; a bad one is refused
    /// and the old one keeps serving).
    ///
    /// Example: vitrine bundle push telco.vbundle --server http://127.0.0.1:8080 --api-key $KEY
    Push(bundle_push::PushArgs),
    /// Roll a running server back to its previous bundle (it keeps the last 5).
    Rollback(bundle_push::RollbackArgs),
}

#[derive(Subcommand, Debug)]
pub enum ExportCmd {
    /// The training table: one row per (logged decision, offer shown or withheld) with
    /// the features it was decided on (from the snapshot ledger), the arm, the treatment
    /// flag, the logged selection probability, the outcome and the reward (docs/training.md).
    ///
    /// Example: vitrine export training --bundle .vitrine/bundle.vbundle --bundle-key .vitrine/keys/bundle-dev.pub --feedback .vitrine/feedback.sqlite --features .vitrine/features.sqlite --since 30d --out train.parquet
    Training(export_training::Args),
}

#[derive(Subcommand, Debug)]
pub enum FeaturesCmd {
    /// Import a CSV or Parquet file (columns: client_id, feature names, consent_profiling,
    /// consent_<channel>) checked cell by cell against the bundle's schema, in one
    /// transaction: a bad cell is reported with its row and column and nothing is written.
    ///
    /// Example: vitrine features import clients.parquet --schema host/examples/bundle/bundle.toml --db features.sqlite
    Import(features_import::Args),
    /// Export the store as Parquet or CSV (by extension): the import's columns plus
    /// `subject`, the salted pseudonym that arms and decisions use. This is what
    /// `vitrine plan --features` and the Spark job read.
    ///
    /// Example: vitrine features export --db features.sqlite --out clients.parquet
    Export(features_export::Args),
}

#[derive(Subcommand, Debug)]
pub enum SnapshotCmd {
    /// Print one client's signed snapshot (base64url, ready for a cookie).
    Sign(snapshot_sign::Args),
    /// Sign every client's snapshot into a JSON-lines file {"client_id", "snapshot"}.
    SignAll(snapshot_sign_all::Args),
}

#[derive(Subcommand, Debug)]
pub enum DemoCmd {
    /// Write N synthetic telco clients (360° profile and consents) as CSV for
    /// `vitrine features import --schema web-demo/bundle`.
    Seed(demo_seed::Args),
    /// Visits by random demo clients through the host (and the edge worker, if given):
    /// clicks and conversions from the hidden truth, events posted back; prints the true
    /// uplift next to the measured one.
    ///
    /// Example: vitrine demo simulate --api-key $(cat .vitrine-demo/api-key) --rate 50 --duration 60s
    Simulate(demo_simulate::Args),
    /// The closed loop against the hidden truth: per learner, a real server on a fresh
    /// state; each round a day of visits through it, then `learn`, then a hot swap. Prints
    /// the true reward per decision, the oracle's and the regret per round; writes
    /// OUT/loop.json and OUT/learning-curve.svg.
    ///
    /// Example: vitrine demo loop --rounds 10 --visits 20000 --out loop
    Loop(Box<demo_loop::Args>),
    /// A large logged history without HTTP (for the learner's benchmark): every demo
    /// client's snapshot signed into the ledger, N decisions by the native engine over the
    /// last days, clicks and conversions from the hidden truth.
    ///
    /// Example: vitrine demo history --decisions 1000000 --state .vitrine-history
    History(demo_history::Args),
}

impl Command {
    pub fn run(self) -> Result<()> {
        match self {
            Command::Keys(KeysCmd::New(a)) => keys_new::run(a),
            Command::Bundle(BundleCmd::Build(a)) => bundle_build::run(a),
            Command::Bundle(BundleCmd::Check(a)) => bundle_check::run(a),
            Command::Bundle(BundleCmd::Inspect(a)) => bundle_inspect::run(a),
            Command::Bundle(BundleCmd::Push(a)) => bundle_push::push(a),
            Command::Bundle(BundleCmd::Rollback(a)) => bundle_push::rollback(a),
            Command::Features(FeaturesCmd::Import(a)) => features_import::run(a),
            Command::Features(FeaturesCmd::Export(a)) => features_export::run(a),
            Command::Export(ExportCmd::Training(a)) => export_training::run(a),
            Command::Snapshot(SnapshotCmd::Sign(a)) => snapshot_sign::run(a),
            Command::Snapshot(SnapshotCmd::SignAll(a)) => snapshot_sign_all::run(a),
            Command::Serve(a) => serve::run(*a),
            Command::Learn(a) => learn::run(a),
            Command::Replay(a) => replay::run(a),
            Command::Report(a) => report::run(a),
            Command::Ope(a) => ope::run(a),
            Command::Plan(a) => plan::run(a),
            Command::Scenario(a) => scenario::run(a),
            Command::Demo(DemoCmd::Seed(a)) => demo_seed::run(a),
            Command::Demo(DemoCmd::Simulate(a)) => demo_simulate::run(a),
            Command::Demo(DemoCmd::Loop(a)) => demo_loop::run(*a),
            Command::Demo(DemoCmd::History(a)) => demo_history::run(a),
        }
    }
}

/// A duration flag (`90s`, `15m`, `36h`, `7d`) in seconds.
pub(crate) fn seconds(duration: &str) -> Result<u64> {
    vitrine_base::duration::parse(duration).ok_or_else(|| anyhow::anyhow!(vitrine_base::duration::expected(duration)))
}

/// A `--since` flag: a duration back from now (`7d`) or a unix time.
pub(crate) fn since(s: &str) -> Result<u64> {
    vitrine_base::clock::since(s, vitrine_base::clock::now())
        .ok_or_else(|| anyhow::anyhow!("--since `{s}`: a duration like 7d or a unix time"))
}
