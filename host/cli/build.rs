//! Embeds `dist/engine-abi.wasm` (built by `cargo xtask wasm`) when it exists, so the
//! `vitrine` binary serves without the source tree. Without it the binary still builds
//! and asks for `--engine` at run time.
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let wasm = manifest.join("../../dist/engine-abi.wasm");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("engine-abi.wasm");
    println!("cargo:rerun-if-changed={}", wasm.display());
    let bytes = std::fs::read(&wasm).unwrap_or_default();
    if let Err(e) = std::fs::write(&out, bytes) {
        panic!("writing {}: {e}", out.display());
    }
}
