//! What the binary carries so it works outside the checkout: the example and demo bundle
//! sources (the embedded default state is built from them) and, when it was built after
//! `cargo xtask wasm`, the engine module. The web demo's site and the engine's JS face
//! are files the `--static-dir` and `--engine-js` flags point at.
use std::path::{Path, PathBuf};

/// A bundle source folder's files (path relative to the folder, bytes).
pub type Files = &'static [(&'static str, &'static [u8])];

/// `host/examples/bundle`: the example telco bundle (one CEL rule file).
pub const EXAMPLE: Files = &[
    ("bundle.toml", include_bytes!("../../examples/bundle/bundle.toml")),
    ("rules/fibre_upgrade.cel", include_bytes!("../../examples/bundle/rules/fibre_upgrade.cel")),
];

/// `web-demo/bundle`: the demo's 13 offers and its propensity model.
pub const DEMO: Files = &[
    ("bundle.toml", include_bytes!("../../../web-demo/bundle/bundle.toml")),
    ("triggers.toml", include_bytes!("../../../web-demo/triggers.toml")),
    ("models/offers.onnx", include_bytes!("../../../web-demo/bundle/models/offers.onnx")),
    ("models/offers.reference.json", include_bytes!("../../../web-demo/bundle/models/offers.reference.json")),
];

/// `dist/engine-abi.wasm` as it was when this binary was built (empty if it was not built yet).
const ENGINE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/engine-abi.wasm"));

/// Environment variable naming an `engine-abi.wasm` when `--engine` is not given.
pub const ENGINE_ENV: &str = "VITRINE_ENGINE";

/// The engine module: `--engine FILE`, else `$VITRINE_ENGINE`, else the embedded one.
pub fn engine(flag: Option<&Path>) -> anyhow::Result<Vec<u8>> {
    let path = flag.map(Path::to_path_buf).or_else(|| std::env::var_os(ENGINE_ENV).map(PathBuf::from));
    match path {
        Some(p) => std::fs::read(&p).map_err(|e| anyhow::anyhow!("engine module {}: {e} (build it with `cargo xtask wasm`)", p.display())),
        None if !ENGINE.is_empty() => Ok(ENGINE.to_vec()),
        None => anyhow::bail!("no engine module: this binary was built before `dist/engine-abi.wasm` existed; pass --engine FILE or set {ENGINE_ENV} (build the module with `cargo xtask wasm`)"),
    }
}

/// Writes `files` under `dir` (creating folders), replacing what is there.
pub fn unpack(files: Files, dir: &Path) -> std::io::Result<()> {
    for (rel, bytes) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        vitrine_base::atomic::write(&path, bytes)?;
    }
    Ok(())
}
