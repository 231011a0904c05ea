//! `vitrine serve`: decisions under Wasmtime, bundle distribution, snapshots, feedback
//! events, reports and metrics over HTTP (axum + tokio).
pub mod default;
mod listener;
pub mod metrics;
mod routes;
mod state;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
pub use state::{AppState, Limits};

use crate::feedback::{SqliteStore, Writer};
use crate::keys::{self, Role};
use crate::runtime::{Runtime, RuntimeOptions};
use crate::store::FeatureStore;

/// Everything `vitrine serve` needs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// `engine-abi.wasm`.
    pub engine: PathBuf,
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
    /// Warm instances kept idle.
    pub warm: usize,
    /// Demo only: `GET /demo/login/{client}` hands out a client's snapshot without the
    /// API key (a simulated login for the storefront).
    pub demo_login: bool,
    /// Periodic learning (off unless set): every `interval` seconds, learn from the
    /// feedback of the last `window` seconds, sign with `key` and hot-swap.
    pub learn: Option<LearnLoop>,
}

/// The periodic `learn` task inside `serve`.
#[derive(Debug, Clone)]
pub struct LearnLoop {
    pub interval: u64,
    pub window: u64,
    /// Bundle-role secret key that signs learned versions.
    pub key: PathBuf,
    pub reward: crate::learn::Reward,
    pub min_impressions: u64,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Key(#[from] crate::keys::KeyError),
    #[error(transparent)]
    Runtime(#[from] crate::runtime::RuntimeError),
    #[error(transparent)]
    Feedback(#[from] crate::feedback::FeedbackError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("snapshot key: {0}")]
    Snapshot(String),
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
        }
    }
}

/// The bundle's declared holdout share (the bundle is verified natively).
fn holdout_share(bundle: &[u8], key: &[u8; 32]) -> Option<f64> {
    let verified = vitrine_engine::bundle::UnverifiedBundle::parse(bundle).ok()?.verify(key).ok()?;
    Some(f64::from(verified.bundle().policy.holdout.share))
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
    let read = |p: &PathBuf| std::fs::read(p).map_err(|source| ServeError::Io { path: p.clone(), source });
    let wasm = read(&config.engine)?;
    let bundle = read(&config.bundle)?;
    let key = keys::load_public(&config.bundle_key, Role::Bundle)?.bytes(&config.bundle_key)?;
    let options = RuntimeOptions { cache_dir: config.cache_dir.clone(), max_idle: config.warm, ..RuntimeOptions::default() };
    let share = holdout_share(&bundle, &key).unwrap_or(0.0);
    let runtime = Arc::new(Runtime::new(&wasm, bundle, key, options)?);
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
        holdout_share: Mutex::new(share),
        static_dir: config.static_dir.clone(),
        demo_login: config.demo_login,
        bundle_key_hex: crate::runtime::hex(&key),
    });
    state.metrics.bundle_version(state.runtime.current().version());
    Ok(Server { router: router(state.clone()), state, writer_thread })
}

/// The routes.
pub fn router(state: Arc<AppState>) -> Router {
    let mut r = Router::new()
        .route("/v1/decide", post(routes::decide))
        .route("/v1/bundle", get(routes::bundle))
        .route("/v1/snapshot/{client}", get(routes::snapshot))
        .route("/v1/events", post(routes::events))
        .route("/v1/report", get(routes::report))
        .route("/v1/admin/bundle", post(routes::admin_bundle))
        .route("/v1/admin/engine", post(routes::admin_engine))
        .route("/v1/admin/rollback", post(routes::admin_rollback))
        .route("/metrics", get(routes::metrics))
        .route("/healthz", get(routes::healthz))
        .route("/v1/bundle/key", get(routes::bundle_key))
        .route("/openapi.json", get(routes::openapi));
    if state.demo_login {
        r = r.route("/demo/login/{client}", get(routes::demo_login));
    }
    if let Some(dir) = &state.static_dir {
        // The storefront's files, and the JS face of the engine it decides with.
        let engine_js = default::repo_root().join("dist/engine-js");
        r = r.nest_service("/engine-js", static_files(engine_js)).fallback_service(static_files(dir.clone()));
    }
    r.layer(axum::middleware::from_fn_with_state(state.clone(), routes::observe)).layer(DefaultBodyLimit::max(state.limits.max_body)).with_state(state)
}

/// Static files under `dir` (GET only, no directory listing, no `..`).
fn static_files(dir: PathBuf) -> axum::routing::MethodRouter {
    get(move |uri: axum::http::Uri| {
        let dir = dir.clone();
        async move {
            use axum::response::IntoResponse;
            let rel = uri.path().trim_start_matches('/');
            let rel = if rel.is_empty() || rel.ends_with('/') { format!("{rel}index.html") } else { rel.to_string() };
            if rel.split('/').any(|c| c == ".." || c.starts_with('.')) {
                return axum::http::StatusCode::NOT_FOUND.into_response();
            }
            let path = dir.join(&rel);
            match tokio::fs::read(&path).await {
                Ok(bytes) => {
                    let ct = match path.extension().and_then(|e| e.to_str()) {
                        Some("html") => "text/html; charset=utf-8",
                        Some("js" | "mjs") => "text/javascript",
                        Some("css") => "text/css",
                        Some("wasm") => "application/wasm",
                        Some("json") => "application/json",
                        Some("svg") => "image/svg+xml",
                        Some("png") => "image/png",
                        _ => "application/octet-stream",
                    };
                    ([(axum::http::header::CONTENT_TYPE, ct)], bytes).into_response()
                }
                Err(_) => axum::http::StatusCode::NOT_FOUND.into_response(),
            }
        }
    })
}

/// One round of the periodic learner: learn from the feedback window, sign, swap.
fn learn_once(state: &AppState, l: &LearnLoop, secret: &keys::Secret) -> Result<u64, String> {
    let current = state.runtime.current();
    let bundle = vitrine_engine::bundle::UnverifiedBundle::parse(&current.bundle).map_err(vitrine_engine::Error::from).and_then(|u| u.verify(&state.runtime.key())).map_err(|e| e.to_string())?.into_bundle();
    let conn = SqliteStore::open_reader(&state.feedback_path).map_err(|e| e.to_string())?;
    let since = routes::now().saturating_sub(l.window);
    let learned = crate::learn::learn(&bundle, &conn, since, l.reward, l.min_impressions).map_err(|e| e.to_string())?;
    let signed = vitrine_engine::bundle::envelope::sign(&learned.bundle, &secret.kid, &secret.key).map_err(|e| e.to_string())?;
    let d = state.runtime.swap_bundle(signed).map_err(|e| e.to_string())?;
    state.metrics.bundle_version(d.version());
    Ok(d.version())
}

/// Serves until `shutdown` resolves, then finishes in-flight requests, flushes the
/// feedback writer and returns.
pub async fn run(config: ServeConfig, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
    let server = build(&config)?;
    let listener = tokio::net::TcpListener::bind(config.listen).await.map_err(|source| ServeError::Io { path: PathBuf::from(config.listen.to_string()), source })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Io { path: PathBuf::from(config.listen.to_string()), source })?;
    // One plain line on stdout for scripts and tests that start the server.
    println!("listening on http://{addr}");
    tracing::info!(%addr, bundle = %server.state.runtime.current().info["bundle"], version = server.state.runtime.current().version(), "serving");
    let capped = listener::Capped::new(listener, config.limits.max_connections);
    let Server { state, router, writer_thread } = server;
    if let Some(l) = config.learn.clone() {
        let secret = Arc::new(keys::load_secret(&l.key, Role::Bundle)?);
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(l.interval.max(1)));
            tick.tick().await;
            loop {
                tick.tick().await;
                let (state, l, secret) = (state.clone(), l.clone(), secret.clone());
                let done = tokio::task::spawn_blocking(move || learn_once(&state, &l, &secret)).await;
                match done {
                    Ok(Ok(v)) => tracing::info!(version = v, "learned and deployed"),
                    Ok(Err(e)) => tracing::warn!(error = %e, "periodic learning failed; the current bundle keeps serving"),
                    Err(e) => tracing::warn!(error = %e, "periodic learning panicked"),
                }
            }
        });
    }
    axum::serve(capped, router).with_graceful_shutdown(shutdown).await.map_err(|source| ServeError::Io { path: PathBuf::from(addr.to_string()), source })?;
    drop(state);
    let _ = tokio::task::spawn_blocking(move || writer_thread.join()).await;
    tracing::info!("stopped");
    Ok(())
}
