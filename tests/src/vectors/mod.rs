//! Golden vectors: language-neutral JSON cases under `tests/vectors/`.
//!
//! Layout: `bundles/NAME.vbundle` (signed bundle bytes) and `cases/NNN-name.json`:
//! `{ name, stage, description, bundle, bundle_public_key (hex), request (JSON) or
//! request_text (exact text), expected (the exact output bytes, as a string) }`.
//! A runner loads the bundle with the key (a load error's JSON is the output),
//! decides the request, and compares the output byte for byte with `expected`.
mod cases;
mod mutate;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use vitrine_engine::api;

/// One golden case.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Case {
    pub name: String,
    pub stage: String,
    pub description: String,
    pub bundle: String,
    pub bundle_public_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_text: Option<String>,
    pub expected: String,
}

impl Case {
    /// The request bytes to feed the engine.
    pub fn request_bytes(&self) -> Vec<u8> {
        match (&self.request_text, &self.request) {
            (Some(t), _) => t.as_bytes().to_vec(),
            (None, Some(v)) => serde_json::to_vec(v).unwrap_or_default(),
            (None, None) => Vec::new(),
        }
    }

    /// The bundle public key bytes.
    pub fn key_bytes(&self) -> Vec<u8> {
        from_hex(&self.bundle_public_key)
    }
}

/// Bundles by name plus the cases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Suite {
    pub bundles: BTreeMap<String, Vec<u8>>,
    pub cases: Vec<Case>,
}

/// Errors reading a suite from disk.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: {source}")]
    Json { path: String, source: serde_json::Error },
}

/// The native reference: load (error JSON on failure) then decide.
pub fn run_native(bundle: &[u8], key: &[u8], request: &[u8]) -> Vec<u8> {
    match api::load(bundle, key) {
        Ok(mut engine) => api::decide_json(&mut engine, request),
        Err(e) => api::error_json(&e),
    }
}

/// Builds every case and computes its expected output natively.
pub fn generate() -> Suite {
    let mut suite = cases::build();
    for case in &mut suite.cases {
        let bundle = suite.bundles.get(&case.bundle).cloned().unwrap_or_default();
        case.expected = String::from_utf8(run_native(&bundle, &case.key_bytes(), &case.request_bytes())).unwrap_or_default();
    }
    suite
}

/// The files of `suite`, relative to `tests/vectors/`.
pub fn files(suite: &Suite) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = suite.bundles.iter().map(|(n, b)| (format!("bundles/{n}.vbundle"), b.clone())).collect();
    for (i, c) in suite.cases.iter().enumerate() {
        let mut json = serde_json::to_vec_pretty(c).unwrap_or_default();
        json.push(b'\n');
        out.push((format!("cases/{:03}-{}.json", i + 1, c.name), json));
    }
    out
}

/// Reads the suite under `dir` (usually `tests/vectors`).
pub fn load(dir: &Path) -> Result<Suite, VectorError> {
    fn io(path: &Path) -> impl Fn(std::io::Error) -> VectorError + '_ {
        move |source| VectorError::Io { path: path.display().to_string(), source }
    }
    let mut suite = Suite::default();
    let bdir = dir.join("bundles");
    for entry in std::fs::read_dir(&bdir).map_err(io(&bdir))? {
        let path = entry.map_err(io(&bdir))?.path();
        if let (Some(stem), Some("vbundle")) = (path.file_stem().and_then(|s| s.to_str()), path.extension().and_then(|s| s.to_str())) {
            suite.bundles.insert(stem.to_string(), std::fs::read(&path).map_err(io(&path))?);
        }
    }
    let cdir = dir.join("cases");
    let mut names: Vec<_> = std::fs::read_dir(&cdir).map_err(io(&cdir))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    for path in names {
        let text = std::fs::read(&path).map_err(io(&path))?;
        suite.cases.push(serde_json::from_slice(&text).map_err(|source| VectorError::Json { path: path.display().to_string(), source })?);
    }
    Ok(suite)
}

/// Lower-case hex.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses lower- or upper-case hex (invalid pairs are skipped).
pub fn from_hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()).collect()
}
