//! The Wasmtime host with the real `engine-abi.wasm` (built by `cargo xtask wasm`):
//! limits against hostile modules and bundles, the module cache, typed deployments.
mod deployment;
mod limits;

use std::path::PathBuf;

/// `dist/engine-abi.wasm` (the test command builds it first).
pub fn engine_wasm() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../dist/engine-abi.wasm")
}

/// The engine's small telco bundle (v1, home_hero among its slots).
pub fn telco() -> vitrine_engine::bundle::Bundle {
    vitrine_engine::testkit::Fixture::telco().bundle
}
