//! Helpers shared by the host's integration tests.
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::process::Command;

use vitrine_host::keys::{self, Role};

/// Runs the `vitrine` binary.
pub fn vitrine(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vitrine")).args(args).output().expect("vitrine runs")
}

/// The committed example bundle source folder.
pub fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/bundle")
}

/// A copy of the example folder whose trusted snapshot key is freshly generated
/// (its secret is in `DIR/keys/snap-demo.key`).
pub fn example_copy(tmp: &Path) -> PathBuf {
    let dir = tmp.join("src");
    std::fs::create_dir_all(dir.join("rules")).unwrap();
    std::fs::copy(example().join("bundle.toml"), dir.join("bundle.toml")).unwrap();
    std::fs::copy(example().join("rules/fibre_upgrade.cel"), dir.join("rules/fibre_upgrade.cel")).unwrap();
    keys::generate("snap-demo", Role::Snapshot, &dir.join("keys")).unwrap();
    dir
}
