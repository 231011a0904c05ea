//! `cargo xtask bench`'s JS part: fixtures made with the real CLI (the demo bundle, its
//! greedy variant for the peer comparison, 10,000 signed demo snapshots) and the
//! 300-feature benchmark fixture, then the node and workerd harnesses of tests/bench.
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::{run, setup};

/// Issue time of the fixture snapshots (valid 30 days from then); the harnesses decide at
/// this time plus a minute.
const ISSUED_AT: &str = "1800000000";

pub fn run_all(root: &Path) -> Result<()> {
    let dir = root.join("target/bench-js");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let vitrine = crate::build_vitrine(root, true)?;
    demo_fixture(root, &vitrine, &dir)?;
    run(Command::new("cargo")
        .args(["run", "--release", "--quiet", "-p", "vitrine-conformance", "--bin", "bench-fixture", "--"])
        .arg(&dir)
        .env_remove("RUST_BACKTRACE")
        .current_dir(root))?;
    setup::bench_js(root)?;
    setup::web_demo(root)?; // workerd
    run(Command::new("node").arg("tests/bench/node.mjs").arg(&dir).current_dir(root))?;
    run(Command::new("node").arg("tests/bench/workerd.mjs").arg(&dir).current_dir(root))
}

fn demo_fixture(root: &Path, vitrine: &Path, dir: &Path) -> Result<()> {
    let cli = |args: &[&str]| -> Result<()> { run(Command::new(vitrine).args(args).current_dir(dir)) };
    cli(&["keys", "new", "--kid", "bench-bundle", "--role", "bundle", "--out", "keys"])?;
    for (name, greedy) in [("demo", false), ("demo-greedy", true)] {
        let src = dir.join(format!("{name}-src"));
        copy_dir(&root.join("web-demo/bundle"), &src)?;
        std::fs::remove_file(src.join("keys/snap-demo.pub"))?;
        if greedy {
            // The peer harness implements the greedy ranking: no exploration, no arms.
            let toml = std::fs::read_to_string(src.join("bundle.toml"))?;
            let toml = toml.replace("exploration = \"epsilon_greedy\"", "exploration = \"none\"");
            let toml: String =
                toml.lines().filter(|l| !l.starts_with("arms = ") && !l.starts_with("epsilon = ")).map(|l| format!("{l}\n")).collect();
            std::fs::write(src.join("bundle.toml"), toml)?;
        }
    }
    // One snapshot key for both: the greedy variant decides the same snapshots.
    cli(&["keys", "new", "--kid", "snap-demo", "--role", "snapshot", "--out", "demo-src/keys"])?;
    std::fs::copy(dir.join("demo-src/keys/snap-demo.pub"), dir.join("demo-greedy-src/keys/snap-demo.pub"))?;
    for name in ["demo", "demo-greedy"] {
        cli(&["bundle", "build", &format!("{name}-src"), "--key", "keys/bench-bundle.key", "--out", &format!("{name}.vbundle")])?;
    }
    cli(&["demo", "seed", "--clients", "10000", "--out", "clients.csv"])?;
    cli(&["features", "import", "clients.csv", "--schema", "demo-src", "--db", "features.sqlite"])?;
    cli(&[
        "snapshot",
        "sign-all",
        "--db",
        "features.sqlite",
        "--key",
        "demo-src/keys/snap-demo.key",
        "--ttl",
        "30d",
        "--now",
        ISSUED_AT,
        "--out",
        "demo-snapshots.jsonl",
    ])
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| from.display().to_string())? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
