//! `vitrine-runtime`: the server's engine: the very `engine-abi.wasm` that edges and browsers run, under
//! Wasmtime. The module is compiled once (and cached as `.cwasm`), instances come from
//! an [`wasmtime::InstancePre`] on the pooling allocator, and a bounded pool of **warm
//! instances** keeps the loaded bundle and the engine's verified-snapshot cache between
//! requests (measured against instantiating per request: see BENCHMARKS.md). Every call
//! runs under an epoch deadline and a memory limit; a trapping instance is dropped.
//!
//! Deployments (module + bundle) are swapped atomically: a new one is verified by
//! loading it in a fresh instance first, a refused one leaves the old one serving, and
//! the last [`HISTORY`] deployments are kept for rollback.
mod error;
mod instance;
mod module;
mod reply;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

pub use error::RuntimeError;
pub use instance::{Instance, DEADLINE_TICKS};
pub use module::{EngineModule, MAX_MEMORY};
pub use reply::reply;
use sha2::{Digest, Sha256};
use vitrine_base::hex;
use wasmtime::Engine;

/// How often the epoch advances; a call may run `DEADLINE_TICKS` ticks (100 ms).
pub const TICK: Duration = Duration::from_millis(10);
/// Deployments kept for rollback (besides the current one).
pub const HISTORY: usize = 5;

/// Options for [`Runtime::new`].
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Where compiled modules are cached (`None`: compile every start).
    pub cache_dir: Option<PathBuf>,
    /// Idle warm instances kept (more are created under load and dropped after).
    pub max_idle: usize,
    /// Linear-memory limit per instance, bytes.
    pub memory_limit: usize,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions { cache_dir: None, max_idle: 16, memory_limit: 64 << 20 }
    }
}

/// One engine module with one signed bundle.
#[derive(Debug)]
pub struct Deployment {
    pub generation: u64,
    pub module: Arc<EngineModule>,
    pub bundle: Arc<Vec<u8>>,
    /// SHA-256 of the bundle bytes (hex): the HTTP `ETag`.
    pub bundle_sha256: String,
    /// What the host needs to know about the bundle it serves.
    pub facts: BundleFacts,
}

impl Deployment {
    /// The bundle's version number.
    pub fn version(&self) -> u64 {
        self.facts.version
    }

    /// The bundle's name.
    pub fn name(&self) -> &str {
        &self.facts.name
    }
}

/// The deployed bundle's facts: name and version as the guest reports them (its
/// `vitrine_info`, so they describe what the module actually loaded), and the arms and
/// offers, read natively from the verified bundle (the guest's info does not carry
/// policy).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct BundleFacts {
    #[serde(rename = "bundle")]
    pub name: String,
    pub version: u64,
    /// The bundle's content hash (the guest's `hash`), empty if the guest gives none.
    #[serde(default)]
    pub hash: String,
    /// The bundle policy's experiment arms.
    #[serde(skip)]
    pub arms: vitrine_engine::policy::Arms,
    /// Offer id → attribution window (seconds) of every offer.
    #[serde(skip)]
    pub offers: std::collections::BTreeMap<String, u64>,
    /// The natively verified bundle (what the report reads about maturity).
    #[serde(skip)]
    pub bundle: Option<std::sync::Arc<vitrine_engine::bundle::Bundle>>,
}

/// The engine runtime shared by all request handlers.
#[allow(missing_debug_implementations)]
pub struct Runtime {
    engine: Engine,
    key: [u8; 32],
    options: RuntimeOptions,
    current: RwLock<Arc<Deployment>>,
    history: Mutex<VecDeque<Arc<Deployment>>>,
    idle: Mutex<Vec<Instance>>,
    next_generation: AtomicU64,
    /// Swaps are serialised (verification happens outside the read path).
    swap: Mutex<()>,
    stop: Arc<AtomicBool>,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Runtime {
    /// Compiles `wasm`, verifies and loads `bundle` with the bundle signing `key`.
    pub fn new(wasm: &[u8], bundle: Vec<u8>, key: [u8; 32], options: RuntimeOptions) -> Result<Runtime, RuntimeError> {
        let engine = module::engine()?;
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (engine, stop) = (engine.clone(), stop.clone());
            std::thread::Builder::new()
                .name("vitrine-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(TICK);
                        engine.increment_epoch();
                    }
                })
                .map_err(|source| RuntimeError::Io { path: PathBuf::from("<epoch thread>"), source })?;
        }
        let module = Arc::new(module::compile(&engine, wasm, options.cache_dir.as_deref())?);
        let (first, instance) = deploy(module, Arc::new(bundle), &key, &options, 1)?;
        Ok(Runtime {
            engine,
            key,
            current: RwLock::new(Arc::new(first)),
            history: Mutex::new(VecDeque::new()),
            idle: Mutex::new(vec![instance]),
            next_generation: AtomicU64::new(2),
            swap: Mutex::new(()),
            stop,
            options,
        })
    }

    /// The bundle signing public key deployments are verified with.
    pub fn key(&self) -> [u8; 32] {
        self.key
    }

    /// The deployment now serving.
    pub fn current(&self) -> Arc<Deployment> {
        self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Decides a JSON request on a warm instance of the current deployment: the guest's
    /// response or error JSON. `Err` means the call was aborted (trap, deadline, memory).
    pub fn decide(&self, request: &[u8]) -> Result<(Vec<u8>, Arc<Deployment>), RuntimeError> {
        let current = self.current();
        let mut instance = self.checkout(&current)?;
        let out = instance.decide(request)?;
        self.checkin(instance);
        Ok((out, current))
    }

    /// Decides a JSON plan request on a warm instance (see [`Instance::plan`]).
    pub fn plan(&self, request: &[u8]) -> Result<Vec<u8>, RuntimeError> {
        let current = self.current();
        let mut instance = self.checkout(&current)?;
        let out = instance.plan(request)?;
        self.checkin(instance);
        Ok(out)
    }

    fn checkout(&self, current: &Arc<Deployment>) -> Result<Instance, RuntimeError> {
        loop {
            let popped = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
            match popped {
                Some(i) if i.generation == current.generation => return Ok(i),
                Some(_) => continue, // an older deployment's instance: drop it
                None => return Instance::new(&current.module, &current.bundle, &self.key, self.options.memory_limit, current.generation),
            }
        }
    }

    fn checkin(&self, instance: Instance) {
        if instance.generation != self.current().generation {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < self.options.max_idle {
            idle.push(instance);
        }
    }

    /// Verifies `bundle` (signature, schema, everything the guest checks at load) in a
    /// fresh instance of the current module, then swaps it in. On error nothing changes.
    pub fn swap_bundle(&self, bundle: Vec<u8>) -> Result<Arc<Deployment>, RuntimeError> {
        let _guard = self.swap.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let module = self.current().module.clone();
        self.install(module, Arc::new(bundle))
    }

    /// Compiles a new engine module, loads the current bundle in it, then swaps it in.
    pub fn swap_module(&self, wasm: &[u8]) -> Result<Arc<Deployment>, RuntimeError> {
        let _guard = self.swap.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let module = Arc::new(module::compile(&self.engine, wasm, self.options.cache_dir.as_deref())?);
        let bundle = self.current().bundle.clone();
        self.install(module, bundle)
    }

    fn install(&self, module: Arc<EngineModule>, bundle: Arc<Vec<u8>>) -> Result<Arc<Deployment>, RuntimeError> {
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let (next, instance) = deploy(module, bundle, &self.key, &self.options, generation)?;
        let next = Arc::new(next);
        let previous = std::mem::replace(&mut *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner), next.clone());
        let mut history = self.history.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        history.push_back(previous);
        while history.len() > HISTORY {
            history.pop_front();
        }
        drop(history);
        let mut idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        idle.clear();
        idle.push(instance);
        Ok(next)
    }

    /// Goes back to the previous deployment (its bundle and module), re-verified.
    pub fn rollback(&self) -> Result<Arc<Deployment>, RuntimeError> {
        let _guard = self.swap.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let previous = {
            let mut history = self.history.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let len = history.len();
            history.pop_back().ok_or(RuntimeError::NoRollback(len))?
        };
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let (next, instance) = deploy(previous.module.clone(), previous.bundle.clone(), &self.key, &self.options, generation)?;
        let next = Arc::new(next);
        *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = next.clone();
        let mut idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        idle.clear();
        idle.push(instance);
        Ok(next)
    }

    /// (bundle version, bundle sha256) of the deployments kept for rollback, oldest first.
    pub fn history(&self) -> Vec<(u64, String)> {
        self.history
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|d| (d.version(), d.bundle_sha256.clone()))
            .collect()
    }
}

/// Loads `bundle` in a fresh instance of `module`: the verification every swap goes
/// through. Returns the deployment and that (warm) instance.
fn deploy(
    module: Arc<EngineModule>,
    bundle: Arc<Vec<u8>>,
    key: &[u8; 32],
    options: &RuntimeOptions,
    generation: u64,
) -> Result<(Deployment, Instance), RuntimeError> {
    let mut instance = Instance::new(&module, &bundle, key, options.memory_limit, generation)?;
    let mut facts =
        reply::<BundleFacts>(&instance.info()?).map_err(|e| RuntimeError::BundleRefused { code: e.code, message: e.message })?;
    // The guest verified the bundle; the host reads its policy natively for the facts the
    // guest's info does not carry.
    let verified = vitrine_engine::bundle::UnverifiedBundle::parse(&bundle)
        .map_err(vitrine_engine::Error::from)
        .and_then(|u| u.verify(key))
        .map_err(|e| RuntimeError::BundleRefused { code: e.code().to_string(), message: e.to_string() })?;
    facts.arms = verified.bundle().policy.arms.clone();
    facts.offers = verified.bundle().offers.iter().map(|o| (o.id.clone(), o.attribution_secs)).collect();
    facts.bundle = Some(std::sync::Arc::new(verified.into_bundle()));
    let bundle_sha256 = hex::encode(&Sha256::digest(bundle.as_slice()));
    Ok((Deployment { generation, module, bundle, bundle_sha256, facts }, instance))
}
