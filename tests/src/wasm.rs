//! A minimal Wasmtime host for the raw ABI (`engine-abi.wasm`). One [`AbiHost`]
//! compiles the module once; each [`AbiInstance`] is a fresh store and instance.
use std::path::Path;

use wasmtime::{Config, Engine, Instance, Memory, Module, Store, TypedFunc};

/// Failures of the host side (the guest's own errors come back as JSON).
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("wasmtime: {0}")]
    Wasmtime(#[from] wasmtime::Error),
    #[error("reading {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("guest returned an out-of-bounds buffer")]
    Bounds,
    #[error("guest allocation failed")]
    Alloc,
}

/// A compiled `engine-abi.wasm`.
pub struct AbiHost {
    engine: Engine,
    module: Module,
}

impl std::fmt::Debug for AbiHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AbiHost")
    }
}

/// One instance with a loaded bundle handle (or none yet).
#[allow(missing_debug_implementations)]
pub struct AbiInstance {
    store: Store<()>,
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    free: TypedFunc<(u32, u32), ()>,
    load: TypedFunc<(u32, u32, u32, u32), i32>,
    last_error: TypedFunc<(), u64>,
    decide: TypedFunc<(i32, u32, u32), u64>,
}

impl AbiHost {
    /// Compiles the module at `path`.
    pub fn from_file(path: &Path) -> Result<Self, HostError> {
        let bytes = std::fs::read(path).map_err(|source| HostError::Io { path: path.display().to_string(), source })?;
        Self::from_bytes(&bytes)
    }

    /// Compiles `wasm`. Built with the `profiling` feature, Wasmtime writes
    /// `/tmp/perf-PID.map` so that `perf` names the guest's functions (BENCHMARKS.md).
    pub fn from_bytes(wasm: &[u8]) -> Result<Self, HostError> {
        let mut config = Config::new();
        config.wasm_simd(true);
        #[cfg(feature = "profiling")]
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        let engine = Engine::new(&config)?;
        let module = Module::new(&engine, wasm)?;
        Ok(AbiHost { engine, module })
    }

    /// The module's imports, as `module::name` (the ABI promises none).
    pub fn imports(&self) -> Vec<String> {
        self.module.imports().map(|i| format!("{}::{}", i.module(), i.name())).collect()
    }

    /// The module's exports by name.
    pub fn exports(&self) -> Vec<String> {
        self.module.exports().map(|e| e.name().to_string()).collect()
    }

    /// A fresh instance.
    pub fn instantiate(&self) -> Result<AbiInstance, HostError> {
        let mut store = Store::new(&self.engine, ());
        let instance = Instance::new(&mut store, &self.module, &[])?;
        let memory = instance.get_memory(&mut store, "memory").ok_or(HostError::Bounds)?;
        Ok(AbiInstance {
            alloc: instance.get_typed_func(&mut store, "vitrine_alloc")?,
            free: instance.get_typed_func(&mut store, "vitrine_free")?,
            load: instance.get_typed_func(&mut store, "vitrine_load")?,
            last_error: instance.get_typed_func(&mut store, "vitrine_last_error")?,
            decide: instance.get_typed_func(&mut store, "vitrine_decide")?,
            memory,
            store,
        })
    }
}

impl AbiInstance {
    fn put(&mut self, bytes: &[u8]) -> Result<(u32, u32), HostError> {
        let len = bytes.len() as u32;
        let ptr = self.alloc.call(&mut self.store, len)?;
        if len > 0 && ptr == 0 {
            return Err(HostError::Alloc);
        }
        self.memory.write(&mut self.store, ptr as usize, bytes).map_err(|_| HostError::Bounds)?;
        Ok((ptr, len))
    }

    fn take(&mut self, packed: u64) -> Result<Vec<u8>, HostError> {
        let (ptr, len) = ((packed >> 32) as u32, packed as u32);
        let mut out = vec![0u8; len as usize];
        self.memory.read(&self.store, ptr as usize, &mut out).map_err(|_| HostError::Bounds)?;
        self.free.call(&mut self.store, (ptr, len))?;
        Ok(out)
    }

    /// Loads a bundle; `Ok(Err(json))` carries the guest's error JSON.
    pub fn load(&mut self, bundle: &[u8], key: &[u8]) -> Result<Result<i32, Vec<u8>>, HostError> {
        let (bp, bl) = self.put(bundle)?;
        let (kp, kl) = self.put(key)?;
        let handle = self.load.call(&mut self.store, (bp, bl, kp, kl))?;
        self.free.call(&mut self.store, (bp, bl))?;
        self.free.call(&mut self.store, (kp, kl))?;
        if handle > 0 {
            return Ok(Ok(handle));
        }
        let packed = self.last_error.call(&mut self.store, ())?;
        Ok(Err(self.take(packed)?))
    }

    /// Decides a JSON request; returns the guest's response or error JSON.
    pub fn decide(&mut self, handle: i32, request: &[u8]) -> Result<Vec<u8>, HostError> {
        let (rp, rl) = self.put(request)?;
        let packed = self.decide.call(&mut self.store, (handle, rp, rl))?;
        self.free.call(&mut self.store, (rp, rl))?;
        self.take(packed)
    }

    /// Load then decide: the output a golden vector expects.
    pub fn run(&mut self, bundle: &[u8], key: &[u8], request: &[u8]) -> Result<Vec<u8>, HostError> {
        match self.load(bundle, key)? {
            Ok(h) => self.decide(h, request),
            Err(json) => Ok(json),
        }
    }
}
