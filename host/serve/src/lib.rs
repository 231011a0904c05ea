//! `vitrine-serve`: decisions under Wasmtime, bundle distribution, snapshots, feedback
//! events, reports and metrics over HTTP (axum + tokio), one file per resource under
//! `routes/`.
//!
//! This crate does not link the bundle compiler: it serves signed bundles that were
//! built elsewhere (the CLI prepares the embedded default state before it calls [`run`]).
mod learn_loop;
mod listener;
pub mod metrics;
mod routes;
mod state;
mod static_files;
pub mod trigger;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
pub use state::{AppState, Limits};

pub use learn_loop::LearnLoop;
use vitrine_base::keys::{self, Role};
use vitrine_feedback::{SqliteStore, Writer};
use vitrine_runtime::{Runtime, RuntimeOptions};
use vitrine_store::FeatureStore;

/// Everything `vitrine serve` needs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// The `engine-abi.wasm` module's bytes.
    pub engine: Vec<u8>,
    /// The signed bundle to serve first.
    pub bundle: PathBuf,
    /// The bundle signer's public key file (`KID.pub`, role bundle).
    pub bundle_key: PathBuf,
    /// Feature store and snapshot signing key (both needed for `/v1/snapshot`).
    pub features: Option<PathBuf>,
    pub snapshot_key: Option<PathBuf>,
    pub snapshot_ttl: u64,
    /// The feedback store (SQLite).
    pub feedback: PathBuf,
    pub api_key: Option<String>,
    pub cache_dir: Option<PathBuf>,
    pub limits: Limits,
    pub static_dir: Option<PathBuf>,
    /// The engine's JS face (`engine-js/`), served under `/engine-js/` with `static_dir`.
    pub engine_js: Option<PathBuf>,
    /// Warm instances kept idle.
    pub warm: usize,
    /// Demo only: `GET /demo/login/{client}` hands out a client's snapshot without the
    /// API key (a simulated login for the storefront).
    pub demo_login: bool,
    /// The trigger policy (`POST /v1/trigger`), if any.
    pub triggers: Option<PathBuf>,
    /// Fill the history of `/v1/decide` requests that carry a snapshot and no history
    /// from the feedback store, over this many seconds.
    pub fill_history: Option<u64>,
    /// Periodic learning (off unless set): every `interval` seconds, learn from the
    /// feedback of the last `window` seconds, sign with `key` and hot-swap.
    pub learn: Option<LearnLoop>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Key(#[from] vitrine_base::keys::KeyError),
    #[error(transparent)]
    Runtime(#[from] vitrine_runtime::RuntimeError),
    #[error(transparent)]
    Feedback(#[from] vitrine_feedback::FeedbackError),
    #[error(transparent)]
    Store(#[from] vitrine_store::StoreError),
    #[error("snapshot key: {0}")]
    Snapshot(String),
    #[error("{0}")]
    Bundle(String),
    #[error("trigger policy {0}")]
    Triggers(#[from] trigger::TriggerConfigError),
}

impl ServeError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ServeError::Io { .. } => "serve_io",
            ServeError::Key(e) => e.code(),
            ServeError::Runtime(e) => e.code(),
            ServeError::Feedback(e) => e.code(),
            ServeError::Store(e) => e.code(),
            ServeError::Snapshot(_) => "serve_snapshot_key",
            ServeError::Triggers(_) => "serve_triggers",
            ServeError::Bundle(_) => "serve_bundle",
        }
    }
}

/// A running server's parts.
#[allow(missing_debug_implementations)]
pub struct Server {
    pub state: Arc<AppState>,
    pub router: Router,
    writer_thread: std::thread::JoinHandle<()>,
}

/// Builds the runtime, stores and router.
pub fn build(config: &ServeConfig) -> Result<Server, ServeError> {
    let bundle = std::fs::read(&config.bundle).map_err(|source| ServeError::Io { path: config.bundle.clone(), source })?;
    let key = keys::load_public(&config.bundle_key, Role::Bundle)?.bytes(&config.bundle_key)?;
    let options = RuntimeOptions { cache_dir: config.cache_dir.clone(), max_idle: config.warm, ..RuntimeOptions::default() };
    let runtime = Arc::new(Runtime::new(&config.engine, bundle, key, options)?);
    let store = SqliteStore::open(&config.feedback)?;
    let (writer, writer_thread) = Writer::spawn(Box::new(store), 4096)?;
    let features = config.features.as_ref().map(|p| FeatureStore::open_existing(p).map(Mutex::new)).transpose()?;
    let signer = match &config.snapshot_key {
        Some(p) => {
            let s = keys::load_secret(p, Role::Snapshot)?;
            Some(vitrine_engine::snapshot::SnapshotSigner::new(&s.kid, s.key).map_err(|e| ServeError::Snapshot(e.to_string()))?)
        }
        None => None,
    };
    let triggers = match &config.triggers {
        Some(path) => {
            let deployment = runtime.current();
            let Some(bundle) = deployment.facts.bundle.as_deref() else {
                return Err(ServeError::Bundle("the served bundle is not verified natively: triggers need its schema and slots".into()));
            };
            Some(Arc::new(trigger::TriggerPolicy::load(path, bundle)?))
        }
        None => None,
    };
    let state = Arc::new(AppState {
        runtime,
        writer,
        feedback_path: config.feedback.clone(),
        features,
        signer,
        snapshot_ttl: config.snapshot_ttl,
        api_key: config.api_key.clone(),
        metrics: metrics::Metrics::default(),
        limits: config.limits.clone(),
        static_dir: config.static_dir.clone(),
        engine_js: config.engine_js.clone(),
        demo_login: config.demo_login,
        bundle_key_hex: vitrine_base::hex::encode(&key),
        subjects: std::sync::Mutex::new(None),
        ledger_pruned: std::sync::atomic::AtomicU64::new(0),
        triggers,
        fill_history: config.fill_history,
    });
    state.metrics.bundle_version(state.runtime.current().version());
    Ok(Server { router: router(state.clone()), state, writer_thread })
}

/// The routes.
pub fn router(state: Arc<AppState>) -> Router {
    // Routes that hand out client data or change what is served need the API key.
    let keyed = Router::new()
        .route("/v1/snapshot/{client}", get(routes::snapshot))
        .route("/v1/trigger", post(routes::trigger))
        .route("/v1/admin/bundle", post(routes::admin_bundle))
        .route("/v1/admin/engine", post(routes::admin_engine))
        .route("/v1/admin/rollback", post(routes::admin_rollback))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), routes::require_api_key));
    let mut r = Router::new()
        .merge(keyed)
        .route("/v1/decide", post(routes::decide))
        .route("/v1/bundle", get(routes::bundle))
        .route("/v1/events", post(routes::events))
        .route("/v1/report", get(routes::report))
        .route("/metrics", get(routes::metrics))
        .route("/healthz", get(routes::healthz))
        .route("/v1/bundle/key", get(routes::bundle_key))
        .route("/openapi.json", get(routes::openapi));
    if state.demo_login {
        r = r.route("/demo/login/{client}", get(routes::demo_login));
    }
    if let Some(dir) = &state.static_dir {
        // The storefront's files, and the JS face of the engine it decides with.
        if let Some(engine_js) = &state.engine_js {
            r = r.nest_service("/engine-js", static_files::service(engine_js.clone()));
        }
        r = r.fallback_service(static_files::service(dir.clone()));
    }
    r.layer(axum::middleware::from_fn_with_state(state.clone(), routes::observe))
        .layer(DefaultBodyLimit::max(state.limits.max_body))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then finishes in-flight requests, flushes the
/// feedback writer and returns.
pub async fn run(config: ServeConfig, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
    let server = build(&config)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Io { path: PathBuf::from(config.listen.to_string()), source })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Io { path: PathBuf::from(config.listen.to_string()), source })?;
    // One plain line on stdout for scripts and tests that start the server.
    println!("listening on http://{addr}");
    tracing::info!(%addr, bundle = %server.state.runtime.current().name(), version = server.state.runtime.current().version(), "serving");
    let capped = listener::Capped::new(listener, config.limits.max_connections);
    let Server { state, router, writer_thread } = server;
    if let Some(l) = config.learn.clone() {
        learn_loop::spawn(state.clone(), l)?;
    }
    axum::serve(capped, router)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| ServeError::Io { path: PathBuf::from(addr.to_string()), source })?;
    drop(state);
    let _ = tokio::task::spawn_blocking(move || writer_thread.join()).await;
    tracing::info!("stopped");
    Ok(())
}
