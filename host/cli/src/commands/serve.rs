//! `vitrine serve`: the HTTP server, on a given signed bundle or on the embedded default.
use std::path::PathBuf;

use anyhow::Result;
use vitrine_feedback::learn::Reward;
use vitrine_serve::{LearnLoop, Limits, ServeConfig};

use crate::default_state::{self, World};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// State directory of the embedded default (used when --bundle is not given), and of
    /// the feedback store and module cache otherwise.
    #[arg(long, default_value = ".vitrine")]
    state: PathBuf,
    /// A signed bundle to serve (then --bundle-key is required).
    #[arg(long, requires = "bundle_key")]
    bundle: Option<PathBuf>,
    /// The bundle signer's public key file (KID.pub, role bundle).
    #[arg(long)]
    bundle_key: Option<PathBuf>,
    /// engine-abi.wasm (default: $VITRINE_ENGINE, else the module embedded in this binary).
    #[arg(long)]
    engine: Option<PathBuf>,
    /// Feature store for /v1/snapshot/{client}.
    #[arg(long, requires = "snapshot_key")]
    features: Option<PathBuf>,
    /// Snapshot-role secret key for /v1/snapshot/{client}.
    #[arg(long)]
    snapshot_key: Option<PathBuf>,
    /// How long a snapshot the server signs stays valid.
    #[arg(long, default_value = "1h")]
    snapshot_ttl: String,
    /// Feedback store (SQLite, WAL; default: STATE/feedback.sqlite).
    #[arg(long)]
    feedback: Option<PathBuf>,
    /// API key for /v1/snapshot and /v1/admin/* (default from VITRINE_API_KEY; the
    /// embedded default makes one under STATE/api-key).
    #[arg(long, env = "VITRINE_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Where compiled engine modules are cached (.cwasm; default: STATE/cache).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Largest request body, bytes (bigger gets 413).
    #[arg(long, default_value_t = Limits::default().max_body)]
    max_body: usize,
    /// Open connections at most.
    #[arg(long, default_value_t = Limits::default().max_connections)]
    max_connections: usize,
    /// Events older than this are rejected (per event, with a reason).
    #[arg(long, default_value = "7d")]
    max_event_age: String,
    /// Events further than this in the future are rejected (clock skew allowance).
    #[arg(long, default_value = "5m")]
    max_event_skew: String,
    /// Events per `/v1/events` request at most (more gets 413).
    #[arg(long, default_value_t = Limits::default().max_batch)]
    max_batch: usize,
    /// Every snapshot the server signs is recorded in the feature store's ledger (its hash →
    /// the values it carried, so decisions join to their features); entries go this long
    /// after their snapshot expired.
    #[arg(long, default_value = "90d")]
    ledger_retention: String,
    /// Warm engine instances kept idle.
    #[arg(long, default_value_t = 16)]
    warm: usize,
    /// Serve static files from this folder for any other GET path (the web demo's
    /// `web-demo/site`).
    #[arg(long)]
    static_dir: Option<PathBuf>,
    /// With --static-dir: the engine's JS face folder (`dist/engine-js`), served under
    /// /engine-js/.
    #[arg(long, requires = "static_dir")]
    engine_js: Option<PathBuf>,
    /// Demo only: GET /demo/login/{client} returns a client's snapshot without the API key.
    #[arg(long)]
    demo_login: bool,
    /// The trigger policy for `POST /v1/trigger` (TOML: event kinds, their outbound
    /// channels, the contact budget; the demo world's is `web-demo/triggers.toml`).
    /// Needs a feature store.
    #[arg(long)]
    triggers: Option<PathBuf>,
    /// Fill the contact history of `/v1/decide` requests that carry a snapshot and no
    /// `history` from the feedback store, over this long (e.g. 30d): page impressions,
    /// planned and triggered sends and clicks count for the bundle's caps and suppression.
    /// Costs one read of the store per such decision.
    #[arg(long)]
    fill_history: Option<String>,
    /// With no --bundle: the demo world (the demo bundle, 13 offers, 10,000 seeded
    /// clients) instead of the example bundle.
    #[arg(long)]
    demo: bool,
    /// Learn periodically (off by default): every this long (e.g. 1h), learn from the
    /// feedback of --learn-window, sign with --learn-key (default: the embedded default's
    /// dev key) and hot-swap the new version.
    #[arg(long)]
    learn_every: Option<String>,
    /// How much feedback each periodic round learns from.
    #[arg(long, default_value = "30d")]
    learn_window: String,
    #[arg(long)]
    learn_key: Option<PathBuf>,
    /// What the periodic learner counts as a success.
    #[arg(long, value_enum, default_value = "conversion")]
    learn_reward: Reward,
    /// Responses an offer needs before the periodic learner's model replaces Thompson sampling.
    #[arg(long, default_value_t = 20)]
    learn_maturity: u32,
    /// Clicks and conversions count within this long after the decision.
    #[arg(long, default_value = "1d")]
    learn_response_window: String,
    /// Impressions an offer needs before the periodic learner replaces its constant propensity.
    #[arg(long, default_value_t = 100)]
    learn_min_impressions: u64,
}

pub fn run(a: Args) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_target(false)
        .init();
    // What is missing is named before anything is prepared.
    let engine = crate::assets::engine(a.engine.as_deref())?;
    if let Some(dir) = &a.static_dir {
        anyhow::ensure!(
            dir.join("index.html").is_file(),
            "--static-dir {}: no index.html there (the web demo's site is web-demo/site)",
            dir.display()
        );
    }
    if let Some(dir) = &a.engine_js {
        anyhow::ensure!(
            dir.join("vitrine_engine.js").is_file(),
            "--engine-js {}: no vitrine_engine.js there (build dist/engine-js with `cargo xtask wasm`)",
            dir.display()
        );
    }
    let mut config = match (&a.bundle, &a.bundle_key) {
        (Some(bundle), Some(key)) => ServeConfig {
            listen: a.listen,
            engine,
            bundle: bundle.clone(),
            bundle_key: key.clone(),
            features: None,
            snapshot_key: None,
            snapshot_ttl: 0,
            feedback: a.state.join("feedback.sqlite"),
            api_key: None,
            cache_dir: Some(a.state.join("cache")),
            limits: Limits::default(),
            static_dir: None,
            engine_js: None,
            warm: a.warm,
            demo_login: false,
            learn: None,
            triggers: None,
            fill_history: None,
        },
        _ => default_state::prepare(&a.state, a.listen, if a.demo { World::Demo } else { World::Example }, engine)?,
    };
    config.snapshot_ttl = super::seconds(&a.snapshot_ttl)?;
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
    config.limits.max_event_age = super::seconds(&a.max_event_age)?;
    config.limits.max_event_skew = super::seconds(&a.max_event_skew)?;
    config.limits.max_batch = a.max_batch;
    config.limits.ledger_retention = super::seconds(&a.ledger_retention)?;
    config.warm = a.warm;
    config.static_dir = a.static_dir;
    config.engine_js = a.engine_js;
    config.demo_login = a.demo_login;
    if a.triggers.is_some() {
        config.triggers = a.triggers;
    }
    if let Some(window) = &a.fill_history {
        config.fill_history = Some(super::seconds(window)?);
    }
    if let Some(every) = &a.learn_every {
        let key = a.learn_key.clone().unwrap_or_else(|| a.state.join("keys/bundle-dev.key"));
        config.learn = Some(LearnLoop {
            interval: super::seconds(every)?,
            window: super::seconds(&a.learn_window)?,
            key,
            reward: a.learn_reward,
            min_impressions: a.learn_min_impressions,
            features: config.features.clone(),
            maturity: a.learn_maturity,
            response_window: super::seconds(&a.learn_response_window)?,
        });
    }
    if let Some(k) = &config.api_key {
        eprintln!("API key for /v1/snapshot and /v1/admin/*: {k}");
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(vitrine_serve::run(config, shutdown_signal()))?;
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
