//! Installs what a fresh machine lacks: the wasm32 target, wasm-bindgen-cli at the
//! exact Cargo.lock version, and the npm tools (binaryen's wasm-opt).
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::run;

/// `rustup target add wasm32-unknown-unknown` unless installed.
pub fn wasm_target() -> Result<()> {
    let out = Command::new("rustup").args(["target", "list", "--installed"]).output().context("rustup is needed")?;
    if !String::from_utf8_lossy(&out.stdout).lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    Ok(())
}

/// The wasm-bindgen version pinned in Cargo.lock.
pub fn locked_wasm_bindgen(root: &Path) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l.trim() == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|v| v.trim().strip_prefix("version = \"")).and_then(|v| v.strip_suffix('"')) {
                return Ok(v.to_string());
            }
        }
    }
    anyhow::bail!("wasm-bindgen is not in Cargo.lock")
}

/// Installs wasm-bindgen-cli at exactly the locked version if the one on PATH differs.
pub fn wasm_bindgen(root: &Path) -> Result<()> {
    let want = locked_wasm_bindgen(root)?;
    let have = Command::new("wasm-bindgen").arg("--version").output().ok().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if have.as_deref() != Some(&format!("wasm-bindgen {want}")) {
        // Without --locked: with it, a pinned transitive crate is missing from the registry.
        run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &want]))?;
    }
    Ok(())
}

/// Debian's Chromium for the browser tests, when missing (`apt-get`, as root on CI).
pub fn chromium() -> Result<()> {
    if Path::new("/usr/bin/chromium").exists() {
        return Ok(());
    }
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get").args(["install", "-y", "-qq", "chromium"]))
}

/// `npm ci` in tests/node when its tools are missing.
pub fn npm_tools(root: &Path) -> Result<()> {
    let dir = root.join("tests/node");
    if !dir.join("node_modules/.bin/wasm-opt").exists() || !dir.join("node_modules/playwright-core").exists() {
        run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir))?;
    }
    Ok(())
}

/// The JS benchmarks' npm packages (json-logic-js, onnxruntime-web for the peer stack).
pub fn bench_js(root: &Path) -> Result<()> {
    let dir = root.join("tests/bench");
    if !dir.join("node_modules/onnxruntime-web").exists() || !dir.join("node_modules/json-logic-js").exists() {
        run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir))?;
    }
    Ok(())
}

/// The web demo's npm packages and build (esbuild bundles the dashboard with uPlot).
pub fn web_demo(root: &Path) -> Result<()> {
    let dir = root.join("web-demo");
    if ["node_modules/uplot", "node_modules/.bin/esbuild", "node_modules/.bin/tsc", "node_modules/.bin/workerd"]
        .iter()
        .any(|p| !dir.join(p).exists())
    {
        run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir))?;
    }
    run(Command::new("npm").args(["run", "--silent", "build"]).current_dir(&dir))
}

/// A Java runtime for Spark (Debian's OpenJDK, when `java` is missing).
pub fn java() -> Result<()> {
    if Command::new("java").arg("-version").output().is_ok_and(|o| o.status.success()) {
        return Ok(());
    }
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get").args(["install", "-y", "-qq", "openjdk-17-jre-headless"]))
}

/// A Python virtualenv under target/ with the Spark planner's packages
/// (`host/spark/requirements.txt`); returns its interpreter.
pub fn spark_venv(root: &Path) -> Result<std::path::PathBuf> {
    let venv = root.join("target/spark-venv");
    let python = venv.join("bin/python");
    let requirements = root.join("host/spark/requirements.txt");
    let stamp = venv.join("requirements.installed");
    let want = std::fs::read_to_string(&requirements).context("reading host/spark/requirements.txt")?;
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str()) && python.exists() {
        return Ok(python);
    }
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(&python).args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"]).arg(&requirements))?;
    std::fs::write(&stamp, want).context("writing the venv stamp")?;
    Ok(python)
}
