//! Compiling `engine-abi.wasm` once: a Wasmtime engine with the pooling allocator and
//! epoch interruption, a precompiled `.cwasm` cache keyed by the module's hash, and an
//! [`InstancePre`] that every instance starts from.
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module, OptLevel, PoolingAllocationConfig, ResourceLimiter,
    StoreLimits,
};

use vitrine_base::hex;

use crate::RuntimeError;

/// Largest linear memory one instance may grow to.
pub const MAX_MEMORY: usize = 256 << 20;
/// Instances the pooling allocator reserves slots for.
pub const MAX_INSTANCES: u32 = 64;

/// Per-store state: the memory limiter.
#[derive(Debug)]
pub struct Limits(pub StoreLimits);

impl ResourceLimiter for Limits {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.0.memory_growing(current, desired, maximum)
    }
    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.0.table_growing(current, desired, maximum)
    }
}

/// The Wasmtime engine shared by every module version (one epoch ticker drives it).
pub fn engine() -> Result<Engine, RuntimeError> {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(MAX_INSTANCES).total_memories(MAX_INSTANCES).total_tables(MAX_INSTANCES).max_memory_size(MAX_MEMORY);
    let mut config = Config::new();
    config
        .wasm_simd(true)
        .epoch_interruption(true)
        .cranelift_opt_level(OptLevel::Speed)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config).map_err(|e| RuntimeError::Module(format!("{e:#}")))
}

/// A compiled engine module, ready to instantiate.
#[derive(Clone)]
pub struct EngineModule {
    pub pre: InstancePre<Limits>,
    /// SHA-256 of the `.wasm` bytes, hex.
    pub hash: String,
}

impl std::fmt::Debug for EngineModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineModule").field("hash", &self.hash).finish_non_exhaustive()
    }
}

/// Compiles `wasm` (or reuses `cache_dir/engine-<hash>.cwasm`, written by an earlier run
/// of this host) and checks the ABI promise: no imports, the `vitrine_*` exports.
pub fn compile(engine: &Engine, wasm: &[u8], cache_dir: Option<&Path>) -> Result<EngineModule, RuntimeError> {
    let hash = hex::encode(&Sha256::digest(wasm));
    let module = match cache_dir {
        Some(dir) => cached(engine, wasm, &hash, dir)?,
        None => Module::new(engine, wasm).map_err(|e| RuntimeError::Module(format!("{e:#}")))?,
    };
    let imports: Vec<String> = module.imports().map(|i| format!("{}::{}", i.module(), i.name())).collect();
    if !imports.is_empty() {
        return Err(RuntimeError::Imports(imports));
    }
    for name in [
        "memory",
        "vitrine_alloc",
        "vitrine_free",
        "vitrine_abi_version",
        "vitrine_load",
        "vitrine_last_error",
        "vitrine_decide",
        "vitrine_info",
        "vitrine_unload",
    ] {
        if module.get_export(name).is_none() {
            return Err(RuntimeError::Module(format!("missing export `{name}`")));
        }
    }
    let pre = Linker::new(engine).instantiate_pre(&module).map_err(|e| RuntimeError::Module(format!("{e:#}")))?;
    Ok(EngineModule { pre, hash })
}

/// The `.cwasm` cache. A cache file is only deserialised if it sits in a directory only
/// we can write, next to a `.sha256` file (written by us after the `.cwasm`) matching
/// its bytes; otherwise it is recompiled and rewritten. Deserialising runs native code,
/// so a file we did not produce must never be loaded.
fn cached(engine: &Engine, wasm: &[u8], hash: &str, dir: &Path) -> Result<Module, RuntimeError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RuntimeError::Io { path, source }
    };
    create_private_dir(dir).map_err(io(dir))?;
    let cwasm: PathBuf = dir.join(format!("engine-{}.cwasm", &hash[..32]));
    let sum = cwasm.with_extension("cwasm.sha256");
    if let (Ok(bytes), Ok(expected)) = (std::fs::read(&cwasm), std::fs::read_to_string(&sum)) {
        if hex::encode(&Sha256::digest(&bytes)) == expected.trim() {
            // SAFETY: the file was produced by `Module::serialize` in this host (same
            // directory, private to this user, checksum written after it); Wasmtime
            // also checks the engine configuration and version before using it.
            if let Ok(m) = unsafe { Module::deserialize(engine, &bytes) } {
                return Ok(m);
            }
        }
    }
    let module = Module::new(engine, wasm).map_err(|e| RuntimeError::Module(format!("{e:#}")))?;
    let bytes = module.serialize().map_err(|e| RuntimeError::Module(format!("{e:#}")))?;
    vitrine_base::atomic::write(&cwasm, &bytes).map_err(io(&cwasm))?;
    std::fs::write(&sum, hex::encode(&Sha256::digest(&bytes))).map_err(io(&sum))?;
    Ok(module)
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = std::fs::metadata(dir)?;
        // SAFETY: getuid has no preconditions and cannot fail.
        let me = unsafe { libc_getuid() };
        if meta.uid() != me || meta.mode() & 0o022 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
            let meta = std::fs::metadata(dir)?;
            if meta.uid() != me || meta.mode() & 0o022 != 0 {
                return Err(std::io::Error::other("the cache directory is writable by others"));
            }
        }
    }
    Ok(())
}

#[cfg(unix)]
extern "C" {
    #[link_name = "getuid"]
    fn libc_getuid() -> u32;
}
