//! The engine's main job, end to end: load the fixture telco bundle, decide for a
//! client natively and under Wasmtime through `dist/engine-abi.wasm`, check the two
//! agree byte for byte, and print the decision.
//! `cargo xtask decide [CLIENT]` (builds `dist/` first).
use std::process::ExitCode;

use vitrine_conformance::{repo_root, wasm::AbiHost};
use vitrine_engine::api;
use vitrine_engine::testkit::{Fixture, NOW};

fn main() -> ExitCode {
    let client: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(0);
    let fx = Fixture::telco();
    if client >= fx.clients.len() {
        eprintln!("client must be 0..{}", fx.clients.len());
        return ExitCode::FAILURE;
    }
    let mut req = fx.request(client, NOW, 42);
    req.explain = true;
    let request = serde_json::to_vec(&req).unwrap_or_default();
    let native = match api::load(&fx.bundle_bytes, &fx.bundle_public_key) {
        Ok(mut engine) => api::decide_json(&mut engine, &request),
        Err(e) => api::error_json(&e),
    };
    let wasm = AbiHost::from_file(&repo_root().join("dist/engine-abi.wasm"))
        .and_then(|host| host.instantiate())
        .and_then(|mut inst| inst.run(&fx.bundle_bytes, &fx.bundle_public_key, &request));
    let wasm = match wasm {
        Ok(w) => w,
        Err(e) => {
            eprintln!("Wasmtime: {e} (run `cargo xtask wasm` first)");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("request:\n{}\n", serde_json::to_string_pretty(&req).unwrap_or_default());
    // Pretty-printed through the response type, so keys keep the engine's order.
    let pretty = serde_json::from_slice::<vitrine_engine::decision::DecideResponse>(&native)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| String::from_utf8_lossy(&native).into_owned());
    println!("{pretty}");
    if native != wasm {
        eprintln!("native and Wasmtime outputs differ");
        return ExitCode::FAILURE;
    }
    eprintln!("\nnative and Wasmtime (engine-abi.wasm) outputs are byte-identical ({} bytes)", native.len());
    ExitCode::SUCCESS
}
