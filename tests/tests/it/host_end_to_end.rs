//! Host to engine, end to end: the example bundle source is built and signed by the
//! host, a client's features go through the feature store and a snapshot signed by
//! the host, and the engine decides the same bytes natively and under Wasmtime
//! through `dist/engine-abi.wasm`.
use std::path::Path;

use vitrine_base::keys::{self, Role};
use vitrine_conformance::{repo_root, wasm::AbiHost};
use vitrine_engine::api;
use vitrine_engine::snapshot::{encode_text, SnapshotSigner};
use vitrine_store::FeatureStore;

const NOW: u64 = 1_800_000_000;

#[test]
fn built_bundle_and_signed_snapshot_decide_identically_native_and_wasm() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let example = repo_root().join("host/examples/bundle");
    std::fs::create_dir_all(src.join("rules")).unwrap();
    // Arms off: subjects are salted randomly per store, so the mode must not depend on them.
    let arms = "arms = { salt = \"example-2026\", bau = 0.10, no_contact = 0.05 }";
    let toml = std::fs::read_to_string(example.join("bundle.toml")).unwrap();
    assert!(toml.contains(arms));
    let toml = toml.replace(arms, "arms = { salt = \"example-2026\" }");
    std::fs::write(src.join("bundle.toml"), toml).unwrap();
    std::fs::copy(example.join("rules/fibre_upgrade.cel"), src.join("rules/fibre_upgrade.cel")).unwrap();
    keys::generate("snap-demo", Role::Snapshot, &src.join("keys")).unwrap();
    let (bundle_secret, _) = keys::generate("bundle-e2e", Role::Bundle, &tmp.path().join("k")).unwrap();
    let bundle_key = keys::load_secret(&bundle_secret, Role::Bundle).unwrap();

    let bundle = vitrine_compile::load(&src).unwrap();
    let bytes = vitrine_engine::bundle::envelope::sign(&bundle, &bundle_key.kid, &bundle_key.key).unwrap();
    let public = bundle_key.key.verifying_key().to_bytes();

    let csv = tmp.path().join("clients.csv");
    std::fs::write(&csv, "client_id,tenure_months,monthly_spend,data_usage_gb,fiber_eligible,fiber_owned,indoor_coverage,plan,open_complaint,consent_profiling,consent_web,consent_email\nc-1,30,62.5,18,true,false,fair,plus,false,true,true,true\n").unwrap();
    let mut store = FeatureStore::open(&tmp.path().join("f.sqlite"), &bundle.schema).unwrap();
    store.import_csv(&csv).unwrap();
    let snap_key = keys::load_secret(&src.join("keys/snap-demo.key"), Role::Snapshot).unwrap();
    let signer = SnapshotSigner::new(&snap_key.kid, snap_key.key).unwrap();
    let snapshot = encode_text(&signer.sign(&bundle.schema, &store.snapshot_content("c-1", NOW - 10, 3600).unwrap()).unwrap());

    let request = format!(
        r#"{{"snapshot":"{snapshot}","now":{NOW},"seed":11,"context":{{"page":"offers","hour":19}},"slots":[{{"slot":"home_hero"}},{{"slot":"offer_cards"}},{{"slot":"email_weekly"}}],"explain":true}}"#
    );
    let mut engine = api::load(&bytes, &public).unwrap();
    let native = api::decide_json(&mut engine, request.as_bytes());
    let text = String::from_utf8(native.clone()).unwrap();
    assert!(text.starts_with(r#"{"decision_id""#), "{text}");
    assert!(text.contains(r#""offer":"fibre_upgrade""#), "an eligible fibre client sees fibre: {text}");

    let wasm = repo_root().join("dist/engine-abi.wasm");
    assert!(Path::new(&wasm).exists(), "run `cargo xtask wasm` first (cargo xtask test does)");
    let mut inst = AbiHost::from_file(&wasm).unwrap().instantiate().unwrap();
    assert_eq!(inst.run(&bytes, &public, request.as_bytes()).unwrap(), native);
}
