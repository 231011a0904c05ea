//! `cargo xtask wasm`: both faces, release, into `dist/`.
use std::io::Write;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::{run, setup};

const TARGET: &str = "wasm32-unknown-unknown";

pub fn build(root: &Path) -> Result<()> {
    setup::wasm_target()?;
    setup::wasm_bindgen(root)?;
    setup::npm_tools(root)?;
    run(Command::new("cargo")
        .args(["build", "--target", TARGET, "--profile", "wasm", "-p", "vitrine-engine-abi", "-p", "vitrine-engine-js"])
        .current_dir(root))?;
    let out = root.join(format!("target/{TARGET}/wasm"));
    let dist = root.join("dist");
    std::fs::create_dir_all(&dist)?;

    let abi = dist.join("engine-abi.wasm");
    // The linker exports `__heap_base` and `__data_end`; the ABI promises only its own exports.
    run(Command::new(wasm_opt(root))
        .arg(out.join("vitrine_engine_abi.wasm"))
        .args(["--remove-exports", "--pass-arg=remove-exports@__*", "-o"])
        .arg(&abi))?;
    optimise(root, &abi)?;

    // wasm-bindgen makes the Wasm half (`EngineCore`); the public module is the thin JS
    // layer in engine/js/js/, copied beside it. The .wasm keeps the package's one name.
    let js = dist.join("engine-js");
    let _ = std::fs::remove_dir_all(&js);
    run(Command::new("wasm-bindgen")
        .arg(out.join("vitrine_engine_js.wasm"))
        .args(["--target", "web", "--out-name", "vitrine_engine_core", "--remove-name-section", "--remove-producers-section", "--out-dir"])
        .arg(&js))?;
    std::fs::rename(js.join("vitrine_engine_core_bg.wasm"), js.join("vitrine_engine_bg.wasm"))?;
    std::fs::rename(js.join("vitrine_engine_core_bg.wasm.d.ts"), js.join("vitrine_engine_bg.wasm.d.ts"))?;
    let core_js = js.join("vitrine_engine_core.js");
    let glue = std::fs::read_to_string(&core_js)?;
    anyhow::ensure!(glue.contains("vitrine_engine_core_bg.wasm"), "wasm-bindgen's glue no longer names its .wasm as expected");
    std::fs::write(&core_js, glue.replace("vitrine_engine_core_bg.wasm", "vitrine_engine_bg.wasm"))?;
    for file in ["vitrine_engine.js", "vitrine_engine.d.ts"] {
        std::fs::copy(root.join("engine/js/js").join(file), js.join(file))?;
    }
    optimise(root, &js.join("vitrine_engine_bg.wasm"))?;
    std::fs::write(js.join("package.json"), PACKAGE_JSON)?;

    let mut report = String::from("{\n");
    for (i, (name, path)) in [("engine-abi", abi.clone()), ("engine-js", js.join("vitrine_engine_bg.wasm"))].iter().enumerate() {
        let bytes = std::fs::read(path)?;
        let gz = gzip_len(&bytes)?;
        eprintln!("xtask: {name}: {} bytes raw, {gz} bytes gzip -9", bytes.len());
        report.push_str(&format!("  \"{name}\": {{ \"raw\": {}, \"gzip\": {gz} }}{}\n", bytes.len(), if i == 0 { "," } else { "" }));
    }
    report.push_str("}\n");
    std::fs::write(dist.join("sizes.json"), report)?;
    Ok(())
}

/// `wasm-opt -O3` (speed: the hot path is SIMD maths) keeping the result only if it is smaller.
fn optimise(root: &Path, wasm: &Path) -> Result<()> {
    let tmp = wasm.with_extension("opt.wasm");
    run(Command::new(wasm_opt(root)).arg(wasm).args(["-O3", "--strip-debug", "--strip-producers", "-o"]).arg(&tmp))?;
    let (before, after) = (std::fs::metadata(wasm)?.len(), std::fs::metadata(&tmp)?.len());
    if after < before {
        std::fs::rename(&tmp, wasm)?;
    } else {
        std::fs::remove_file(&tmp)?;
    }
    Ok(())
}

/// binaryen's wasm-opt from npm (Debian's 108 breaks wasm-bindgen output).
fn wasm_opt(root: &Path) -> std::path::PathBuf {
    root.join("tests/node/node_modules/.bin/wasm-opt")
}

fn gzip_len(bytes: &[u8]) -> Result<usize> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    Ok(enc.finish().context("gzip")?.len())
}

const PACKAGE_JSON: &str = r#"{
  "name": "@vitrine/engine",
  "version": "0.1.0",
  "description": "Vitrine decision engine for browsers, node and workerd (vitrine_engine.js over the wasm-bindgen core).",
  "type": "module",
  "main": "vitrine_engine.js",
  "types": "vitrine_engine.d.ts",
  "files": ["vitrine_engine.js", "vitrine_engine.d.ts", "vitrine_engine_core.js", "vitrine_engine_core.d.ts", "vitrine_engine_bg.wasm", "vitrine_engine_bg.wasm.d.ts"],
  "sideEffects": false
}
"#;
