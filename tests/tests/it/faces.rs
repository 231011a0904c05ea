//! One semantics for every face: the malformed requests of `tests/faces/malformed.json`
//! get the same error code natively and from the raw ABI under Wasmtime (the JS object
//! and text faces run the same file in tests/node/faces.test.mjs).
use serde_json::Value;
use vitrine_conformance::wasm::AbiHost;
use vitrine_conformance::{repo_root, vectors};
use vitrine_engine::api;

/// Every case's name, request text and expected code.
fn cases() -> Vec<(String, String, String)> {
    let file: Value =
        serde_json::from_slice(&std::fs::read(repo_root().join("tests/faces/malformed.json")).expect("malformed.json")).expect("JSON");
    let suite = vectors::load(&repo_root().join("tests/vectors")).expect("vectors load");
    let base_name = file["base"].as_str().expect("base");
    let base = suite.cases.iter().find(|c| c.name == base_name).and_then(|c| c.request.clone()).expect("the base vector has a request");
    let list = file["cases"].as_array().expect("cases");
    assert!(list.len() >= 25, "{} cases", list.len());
    list.iter()
        .map(|c| {
            let text = match c.get("text") {
                Some(t) => t.as_str().expect("text").to_string(),
                None => {
                    let mut req = base.as_object().expect("object").clone();
                    for (k, v) in c.get("set").and_then(Value::as_object).into_iter().flatten() {
                        req.insert(k.clone(), v.clone());
                    }
                    for k in c.get("delete").and_then(Value::as_array).into_iter().flatten() {
                        req.remove(k.as_str().expect("field name"));
                    }
                    Value::Object(req).to_string()
                }
            };
            (c["name"].as_str().expect("name").to_string(), text, c["code"].as_str().expect("code").to_string())
        })
        .collect()
}

fn code(out: &[u8]) -> String {
    let v: Value = serde_json::from_slice(out).unwrap_or(Value::Null);
    v.pointer("/error/code").and_then(Value::as_str).unwrap_or("<no error>").to_string()
}

#[test]
fn native_and_raw_abi_give_every_malformed_request_its_code() {
    let suite = vectors::load(&repo_root().join("tests/vectors")).expect("vectors load");
    let case = suite.cases.iter().find(|c| c.name == "client-0").expect("client-0");
    let bundle = &suite.bundles[&case.bundle];
    let mut native = api::load(bundle, &case.key_bytes()).expect("loads");
    let host = AbiHost::from_file(&repo_root().join("dist/engine-abi.wasm")).expect("engine-abi.wasm (cargo xtask wasm)");
    let mut inst = host.instantiate().expect("instantiate");
    let handle = inst.load(bundle, &case.key_bytes()).expect("host call").expect("loads");
    // The base request itself decides: the cases fail for their one change.
    assert_eq!(code(&api::decide_json(&mut native, &case.request_bytes())), "<no error>");
    let mut wrong = Vec::new();
    for (name, text, expected) in cases() {
        let n = api::decide_json(&mut native, text.as_bytes());
        let a = inst.decide(handle, text.as_bytes()).expect("host call");
        if code(&n) != expected || a != n {
            wrong.push(format!("{name}: want {expected}, native {}, abi {}", String::from_utf8_lossy(&n), String::from_utf8_lossy(&a)));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
