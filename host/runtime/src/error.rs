//! Runtime errors.
use std::path::PathBuf;

/// Why the Wasmtime runtime could not compile, load or call the engine.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the engine module is not usable: {0}")]
    Module(String),
    #[error("the engine module imports {0:?}; the raw ABI imports nothing")]
    Imports(Vec<String>),
    #[error("the engine module speaks ABI version {0}; this host speaks 1")]
    AbiVersion(u32),
    /// The guest refused the bundle (its error JSON, as `code`, and message).
    #[error("bundle refused: {code}: {message}")]
    BundleRefused { code: String, message: String },
    /// The call trapped, ran past its deadline or hit its memory limit; the instance was dropped.
    #[error("engine call aborted: {0}")]
    Trap(String),
    #[error("the guest returned a malformed buffer")]
    Bounds,
    #[error("no bundle is loaded")]
    NoBundle,
    #[error("nothing to roll back to: {0} bundle(s) in history")]
    NoRollback(usize),
}

impl RuntimeError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            RuntimeError::Io { .. } => "runtime_io",
            RuntimeError::Module(_) => "runtime_module",
            RuntimeError::Imports(_) => "runtime_imports",
            RuntimeError::AbiVersion(_) => "runtime_abi_version",
            RuntimeError::BundleRefused { .. } => "runtime_bundle_refused",
            RuntimeError::Trap(_) => "runtime_trap",
            RuntimeError::Bounds => "runtime_bounds",
            RuntimeError::NoBundle => "runtime_no_bundle",
            RuntimeError::NoRollback(_) => "runtime_no_rollback",
        }
    }
}

impl From<wasmtime::Error> for RuntimeError {
    fn from(e: wasmtime::Error) -> Self {
        RuntimeError::Trap(format!("{e:#}"))
    }
}
