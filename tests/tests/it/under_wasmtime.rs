//! Every golden vector under Wasmtime through `dist/engine-abi.wasm` (built by
//! `cargo xtask wasm`, which `cargo xtask test` runs first).
use vitrine_conformance::wasm::AbiHost;
use vitrine_conformance::{repo_root, vectors};

fn host() -> AbiHost {
    let path = repo_root().join("dist/engine-abi.wasm");
    assert!(path.exists(), "{} is missing: run `cargo xtask wasm` (cargo xtask test does)", path.display());
    AbiHost::from_file(&path).expect("engine-abi.wasm compiles")
}

#[test]
fn the_raw_abi_module_imports_nothing() {
    let host = host();
    assert_eq!(host.imports(), Vec::<String>::new());
    let mut exports = host.exports();
    exports.sort();
    assert_eq!(
        exports,
        [
            "memory",
            "vitrine_abi_version",
            "vitrine_alloc",
            "vitrine_decide",
            "vitrine_free",
            "vitrine_info",
            "vitrine_last_error",
            "vitrine_load",
            "vitrine_plan",
            "vitrine_snapshot_cache",
            "vitrine_unload"
        ]
    );
}

#[test]
fn wasmtime_output_is_byte_identical_to_every_vector() {
    let host = host();
    let suite = vectors::load(&repo_root().join("tests/vectors")).expect("vectors load");
    let mut failures = Vec::new();
    for case in &suite.cases {
        let mut inst = host.instantiate().expect("instantiate");
        let out = inst.run(&suite.bundles[&case.bundle], &case.key_bytes(), &case.request_bytes()).expect("host call");
        if out != case.expected.as_bytes() {
            failures.push(format!("{}:\n  want {}\n  got  {}", case.name, case.expected, String::from_utf8_lossy(&out)));
        }
    }
    assert!(failures.is_empty(), "Wasmtime differs on {} cases:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn one_instance_serves_many_requests_and_reuses_verified_snapshots() {
    let host = host();
    let suite = vectors::load(&repo_root().join("tests/vectors")).expect("vectors load");
    let case = suite.cases.iter().find(|c| c.name == "client-0").expect("client-0 case");
    let mut inst = host.instantiate().expect("instantiate");
    let handle = inst.load(&suite.bundles["telco"], &case.key_bytes()).expect("call").expect("loads");
    for _ in 0..3 {
        assert_eq!(inst.decide(handle, &case.request_bytes()).expect("call"), case.expected.as_bytes());
    }
    let bad = inst.decide(handle + 7, &case.request_bytes()).expect("call");
    assert!(String::from_utf8_lossy(&bad).contains("\"code\":\"internal\""), "unknown handle must be an error JSON");
}
