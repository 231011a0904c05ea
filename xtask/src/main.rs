//! `cargo xtask <command>`: the project's automation.
//!
//! - `decide [CLIENT]`: build `dist/`, then decide for a fixture client natively and
//!   under Wasmtime and print the decision (the main job, for now).
//! - `demo [--release] [ARGS]`: build `dist/` and serve the storefront (`web-demo/site`)
//!   with `vitrine serve --demo` on 127.0.0.1:8080 (the main job); the debug binary the
//!   tests build unless `--release`.
//! - `serve [ARGS]`: build `dist/` and run `vitrine serve` (release) on its embedded
//!   default state (`.vitrine/`), on 127.0.0.1:8080.
//! - `wasm`: build both Wasm faces into `dist/` (installs what is missing).
//! - `vectors`: regenerate the golden vectors in `tests/vectors/`.
//! - `bundle-docs`: regenerate `docs/bundle.md` and `docs/bundle.schema.json` from the
//!   bundle source types (a test fails when they are stale).
//! - `test`: the README's test command: set up, build, run every test.
//! - `bench [js]`: criterion (engine decide, host rules, models and serving), the Wasmtime
//!   decide loop, and the JS face in node and workerd against the peer stack
//!   (tests/bench); `js`: only the last. Figures for BENCHMARKS.md.
mod bench_js;
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
        // docs/bundle.md and docs/bundle.schema.json from the bundle source types.
        Some("bundle-docs") => run(Command::new("cargo")
            .args(["run", "--quiet", "-p", "vitrine-source", "--bin", "bundle-docs", "--"])
            .arg(&root)
            .current_dir(&root)),
        Some("demo") => {
            // The debug build is the one `cargo xtask test` makes: after the tests the demo
            // starts in seconds. `--release` builds the optimised host (BENCHMARKS.md has both
            // first-run times).
            let release = args.iter().any(|a| a == "--release");
            let rest: Vec<&String> = args[1..].iter().filter(|a| *a != "--release").collect();
            step(1, 4, "the engine's Wasm faces (dist/)");
            wasm::build(&root)?;
            step(2, 4, "the web demo (npm, esbuild)");
            setup::web_demo(&root)?;
            step(
                3,
                4,
                if release {
                    "the vitrine binary (release; cargo shows its progress)"
                } else {
                    "the vitrine binary (debug, as the tests build it; cargo shows its progress)"
                },
            );
            let bin = build_vitrine(&root, release)?;
            step(4, 4, "vitrine serve --demo on http://127.0.0.1:8080 (storefront /, dashboard /dashboard.html)");
            run(Command::new(bin)
                .args(["serve", "--demo", "--state", ".vitrine-demo", "--static-dir", "web-demo/site", "--engine-js", "dist/engine-js"])
                .arg("--demo-login")
                .args(rest)
                .env_remove("RUST_BACKTRACE")
                .current_dir(&root))
        }
        Some("serve") => {
            step(1, 3, "the engine's Wasm faces (dist/)");
            wasm::build(&root)?;
            step(2, 3, "the vitrine binary (release; cargo shows its progress)");
            let bin = build_vitrine(&root, true)?;
            step(3, 3, "vitrine serve on http://127.0.0.1:8080");
            run(Command::new(bin).arg("serve").args(&args[1..]).env_remove("RUST_BACKTRACE").current_dir(&root))
        }
        Some("test") => test(&root),
        Some("bench") => bench(&root, args.get(1).map(String::as_str) == Some("js")),
        _ => {
            eprintln!("usage: cargo xtask <demo|decide|serve|wasm|vectors|bundle-docs|test|bench>");
            bail!("unknown command {:?}", args.first())
        }
    }
}

/// The repository root (xtask lives one level below it).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

/// Builds the `vitrine` binary (after `dist/`, which it embeds), debug or release;
/// returns its path.
fn build_vitrine(root: &Path, release: bool) -> Result<PathBuf> {
    let mut cmd = Command::new("cargo");
    if release {
        cmd.args(["build", "--release", "-p", "vitrine-cli", "--bin", "vitrine"]);
    } else {
        // The test command's features (dev-dependencies unified in): a plain `cargo build`
        // would rebuild cranelift and a dozen crates with other features after the tests.
        cmd.args(["test", "-p", "vitrine-cli", "--no-run"]);
    }
    run(cmd.env_remove("RUST_BACKTRACE").current_dir(root))?;
    Ok(root.join(if release { "target/release/vitrine" } else { "target/debug/vitrine" }))
}

/// A step line for long commands, so a first run shows where it is.
pub(crate) fn step(n: usize, of: usize, what: &str) {
    eprintln!("xtask: [{n}/{of}] {what}");
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
    const STEPS: usize = 7;
    step(1, STEPS, "the engine's Wasm faces (dist/)");
    wasm::build(root)?;
    // Habits CI keeps: formatting and lints on the whole workspace.
    step(2, STEPS, "cargo fmt --check");
    run(Command::new("cargo").args(["fmt", "--all", "--check"]).current_dir(root))?;
    no_compiler_in(root, &["vitrine-serve", "vitrine-runtime"])?;
    step(3, STEPS, "cargo clippy --workspace --all-targets -- -D warnings");
    run(Command::new("cargo")
        .args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])
        .env_remove("RUST_BACKTRACE")
        .current_dir(root))?;
    // Every Rust test: engine unit/property tests, golden vectors (native regeneration
    // check and Wasmtime), each host crate's unit tests and its one integration binary,
    // doc tests.
    step(4, STEPS, "cargo test (engine, vectors, host crates)");
    run(Command::new("cargo")
        .args(["test", "--workspace", "--exclude", "vitrine-engine-js", "--exclude", "vitrine-engine-abi"])
        .env_remove("RUST_BACKTRACE")
        .current_dir(root))?;
    // The JS against the engine's TypeScript types.
    step(5, STEPS, "tsc --noEmit (web demo, against dist/engine-js's .d.ts)");
    setup::web_demo(root)?;
    run(Command::new("npm").args(["run", "--silent", "check"]).current_dir(root.join("web-demo")))?;
    // The same vectors under node, through dist/engine-js; the storefront in Chromium
    // against `vitrine serve` (the binary `cargo test` just built).
    step(6, STEPS, "node suites (vectors, shared helpers, .d.ts vs wire, Chromium, workerd)");
    setup::chromium()?;
    run(Command::new("node").args(["--test", "--test-concurrency=1", "tests/node/"]).current_dir(root))?;
    // The Spark planner (local[2], engine-abi.wasm through wasmtime-py) against `vitrine plan`.
    step(7, STEPS, "Python: the Spark planner (local[2]) against vitrine plan; the training export under pyarrow; the ABI guide's example");
    setup::java()?;
    let python = setup::spark_venv(root)?;
    run(Command::new(&python)
        .args(["host/spark/test_plan_spark.py", "--vitrine", "target/debug/vitrine", "--wasm", "dist/engine-abi.wasm"])
        .env("PYSPARK_PYTHON", &python)
        .env_remove("RUST_BACKTRACE")
        .current_dir(root))?;
    // The training export read back with pyarrow (what pandas and scikit-learn users load).
    run(Command::new(&python)
        .args(["tests/python/test_training_export.py", "--vitrine", "target/debug/vitrine", "--wasm", "dist/engine-abi.wasm"])
        .current_dir(root))?;
    // The raw ABI guide's Python example, run as written (wasmtime-py).
    run(Command::new(&python).args(["tests/python/test_abi_readme.py"]).current_dir(root))?;
    Ok(())
}

/// The crate graph's invariant: the server and the runtime do not link the bundle
/// compiler (`cel`, `tract-onnx`), checked on their normal dependency trees.
fn no_compiler_in(root: &Path, crates: &[&str]) -> Result<()> {
    for krate in crates {
        let out = Command::new("cargo")
            .args(["tree", "--quiet", "-p", krate, "-e", "normal", "--prefix", "none", "--format", "{p}"])
            .current_dir(root)
            .output()
            .context("cargo tree")?;
        anyhow::ensure!(out.status.success(), "cargo tree -p {krate} failed: {}", String::from_utf8_lossy(&out.stderr));
        let tree = String::from_utf8_lossy(&out.stdout);
        let linked: Vec<&str> = tree.lines().filter(|l| l.starts_with("cel ") || l.starts_with("tract-")).collect();
        anyhow::ensure!(linked.is_empty(), "{krate} links the bundle compiler: {linked:?}");
        eprintln!("xtask: {krate} links neither cel nor tract-onnx ({} crates in its tree)", tree.lines().count());
    }
    Ok(())
}

fn bench(root: &Path, only_js: bool) -> Result<()> {
    wasm::build(root)?;
    if only_js {
        return bench_js::run_all(root);
    }
    run(Command::new("cargo").args(["bench", "-p", "vitrine-engine", "--bench", "decide"]).env_remove("RUST_BACKTRACE").current_dir(root))?;
    run(Command::new("cargo")
        .args(["bench", "-p", "vitrine-compile", "--bench", "rules", "--bench", "models"])
        .env_remove("RUST_BACKTRACE")
        .current_dir(root))?;
    run(Command::new("cargo").args(["bench", "-p", "vitrine-cli", "--bench", "serving"]).env_remove("RUST_BACKTRACE").current_dir(root))?;
    run(Command::new("cargo")
        .args(["run", "--release", "-p", "vitrine-conformance", "--bin", "wasm-bench"])
        .env_remove("RUST_BACKTRACE")
        .current_dir(root))?;
    bench_js::run_all(root)
}
