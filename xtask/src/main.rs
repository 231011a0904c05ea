//! `cargo xtask <command>`: the project's automation.
//!
//! - `decide [CLIENT]`: build `dist/`, then decide for a fixture client natively and
//!   under Wasmtime and print the decision (the main job, for now).
//! - `demo [ARGS]`: build `dist/` and serve the storefront (`web-demo/site`) with
//!   `vitrine serve` on 127.0.0.1:8080 (the main job).
//! - `serve [ARGS]`: build `dist/` and run `vitrine serve` (release) on its embedded
//!   default state (`.vitrine/`), on 127.0.0.1:8080.
//! - `wasm`: build both Wasm faces into `dist/` (installs what is missing).
//! - `vectors`: regenerate the golden vectors in `tests/vectors/`.
//! - `test`: the README's test command: set up, build, run every test.
//! - `bench`: criterion (engine decide, host rules, models and serving) and the Wasmtime decide loop;
//!   figures for BENCHMARKS.md.
mod setup;
mod wasm;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = root();
    match args.first().map(String::as_str) {
        Some("wasm") => wasm::build(&root),
        Some("decide") => {
            wasm::build(&root)?;
            run(Command::new("cargo")
                .args(["run", "--quiet", "-p", "vitrine-conformance", "--bin", "decide", "--"])
                .args(&args[1..])
                .current_dir(&root))
        }
        Some("vectors") => {
            run(Command::new("cargo").args(["run", "--quiet", "-p", "vitrine-conformance", "--bin", "vectors"]).current_dir(&root))
        }
        Some("demo") => {
            wasm::build(&root)?;
            setup::web_demo(&root)?;
            run(Command::new("cargo")
                .args([
                    "run",
                    "--release",
                    "--quiet",
                    "-p",
                    "vitrine-host",
                    "--bin",
                    "vitrine",
                    "--",
                    "serve",
                    "--demo",
                    "--state",
                    ".vitrine-demo",
                    "--static-dir",
                    "web-demo/site",
                    "--demo-login",
                ])
                .args(&args[1..])
                .env_remove("RUST_BACKTRACE")
                .current_dir(&root))
        }
        Some("serve") => {
            wasm::build(&root)?;
            run(Command::new("cargo")
                .args(["run", "--release", "--quiet", "-p", "vitrine-host", "--bin", "vitrine", "--", "serve"])
                .args(&args[1..])
                .env_remove("RUST_BACKTRACE")
                .current_dir(&root))
        }
        Some("test") => test(&root),
        Some("bench") => bench(&root),
        _ => {
            eprintln!("usage: cargo xtask <demo|decide|serve|wasm|vectors|test|bench>");
            bail!("unknown command {:?}", args.first())
        }
    }
}

/// The repository root (xtask lives one level below it).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

/// Runs `cmd`, failing with its command line if it fails.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let line = format!("{cmd:?}");
    eprintln!("xtask: {line}");
    let status = cmd.status().with_context(|| format!("cannot start {line}"))?;
    if !status.success() {
        bail!("{line} failed with {status}");
    }
    Ok(())
}

fn test(root: &Path) -> Result<()> {
    wasm::build(root)?;
    // Every Rust test: engine unit/property tests, golden vectors (native regeneration
    // check and Wasmtime), doc tests.
    run(Command::new("cargo")
        .args(["test", "--workspace", "--exclude", "vitrine-engine-js", "--exclude", "vitrine-engine-abi"])
        .env_remove("RUST_BACKTRACE")
        .current_dir(root))?;
    // The same vectors under node, through dist/engine-js; the storefront in Chromium
    // against `vitrine serve` (the binary `cargo test` just built).
    setup::chromium()?;
    setup::web_demo(root)?;
    run(Command::new("node").args(["--test", "--test-concurrency=1", "tests/node/"]).current_dir(root))?;
    // The Spark planner (local[2], engine-abi.wasm through wasmtime-py) against `vitrine plan`.
    setup::java()?;
    let python = setup::spark_venv(root)?;
    run(Command::new(&python)
        .args(["edge-host/spark/test_plan_spark.py", "--vitrine", "target/debug/vitrine", "--wasm", "dist/engine-abi.wasm"])
        .env("PYSPARK_PYTHON", &python)
        .env_remove("RUST_BACKTRACE")
        .current_dir(root))?;
    Ok(())
}

fn bench(root: &Path) -> Result<()> {
    wasm::build(root)?;
    run(Command::new("cargo").args(["bench", "-p", "vitrine-engine", "--bench", "decide"]).env_remove("RUST_BACKTRACE").current_dir(root))?;
    run(Command::new("cargo")
        .args(["bench", "-p", "vitrine-host", "--bench", "rules", "--bench", "models", "--bench", "serving"])
        .env_remove("RUST_BACKTRACE")
        .current_dir(root))?;
    run(Command::new("cargo")
        .args(["run", "--release", "-p", "vitrine-conformance", "--bin", "wasm-bench"])
        .env_remove("RUST_BACKTRACE")
        .current_dir(root))?;
    Ok(())
}
