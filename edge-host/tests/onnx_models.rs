//! The committed ONNX test models lower to engine models that reproduce onnxruntime's
//! reference outputs within 1e-5; unsupported ops and broken parity are refused.
use std::path::{Path, PathBuf};

use vitrine_host::onnx::{check_parity, lower};

fn model(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/out").join(format!("{name}.onnx"))
}

/// The 8 ONNX input columns read schema slots 10..18 of a 20-feature schema.
fn slots() -> Vec<u16> {
    (10..18).collect()
}

#[test]
fn supported_models_pass_the_parity_gate() {
    for name in ["offers_logit", "scaled_logit", "with_scaler_op", "rf_regressor", "gbdt_lgbm"] {
        let path = model(name);
        let lowered = lower(&path, name, &slots()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!lowered.outputs.is_empty(), "{name}: no outputs mapped");
        let parity = check_parity(&path, &lowered, &slots(), 20).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parity.rows, 32);
        assert!(parity.max_diff <= 1e-5, "{name}: {}", parity.max_diff);
        eprintln!("{name}: {} outputs, max |diff| {:e}", lowered.outputs.len(), parity.max_diff);
    }
}

#[test]
fn an_unsupported_op_is_named_with_its_node() {
    let err = lower(&model("mlp"), "mlp", &slots()).unwrap_err();
    assert_eq!(err.code(), "model_unsupported_op");
    assert!(err.to_string().contains("op `"), "{err}");
}

#[test]
fn a_broken_model_fails_parity_and_a_missing_reference_is_explained() {
    let path = model("scaled_logit");
    let mut lowered = lower(&path, "scaled_logit", &slots()).unwrap();
    if let vitrine_engine::models::Body::Linear { weights, .. } = &mut lowered.model.body {
        weights[0] += 0.01;
    }
    let err = check_parity(&path, &lowered, &slots(), 20).unwrap_err();
    assert_eq!(err.code(), "model_parity");
    assert!(err.to_string().contains("max |engine - reference|"), "{err}");

    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("alone.onnx");
    std::fs::copy(&path, &copy).unwrap();
    let lowered = lower(&copy, "alone", &slots()).unwrap();
    let err = check_parity(&copy, &lowered, &slots(), 20).unwrap_err();
    assert_eq!(err.code(), "model_no_reference");
    assert!(err.to_string().contains("onnxruntime"), "{err}");
}
