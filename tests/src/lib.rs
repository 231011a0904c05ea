//! The cross-runtime conformance kit.
//!
//! - [`vectors`]: the golden-vector generator (cases built from the engine's testkit
//!   fixtures, expected outputs computed natively) and the loader every runner uses.
//! - [`wasm`]: a Wasmtime host for `dist/engine-abi.wasm`, used by the suite and by
//!   the Wasm benchmark loop.
//!
//! Node runs the same vectors from `tests/node/vectors.test.mjs`.
pub mod vectors;
pub mod wasm;

use std::path::PathBuf;

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).unwrap_or_default()
}
