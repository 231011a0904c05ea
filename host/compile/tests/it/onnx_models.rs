//! The committed ONNX test models lower to engine models that reproduce onnxruntime's
//! reference outputs, and tract-onnx's outputs where tract runs the graph, within 1e-5;
//! unsupported ops and broken parity are refused.
use std::path::{Path, PathBuf};

use vitrine_compile::onnx::{check_parity, lower, RANDOM_ROWS};
use vitrine_engine::models::Body;
use vitrine_engine::schema::{FeatureDef, FeatureKind, Quant, Schema};

fn model(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/out").join(format!("{name}.onnx"))
}

/// The ONNX input columns read slots 10.. of a 20-feature schema whose numeric features
/// span 0-255 in whole steps (the random rows tract scores are drawn from it).
fn slots(n: u16) -> Vec<u16> {
    (10..10 + n).collect()
}

fn schema() -> Schema {
    let features = (0..20)
        .map(|i| FeatureDef {
            name: format!("f{i}"),
            kind: FeatureKind::Numeric { quant: Quant::U8 { scale: 1.0, offset: 0.0 } },
            personal: false,
        })
        .map(|mut f| {
            if f.name == "f18" {
                f.kind = FeatureKind::Categorical { vocab: ["a", "b", "c", "d"].map(String::from).to_vec() };
            }
            f
        })
        .collect();
    Schema { features, context: Vec::new(), channels: vec!["web".into()] }
}

fn width(name: &str) -> u16 {
    if name == "prep_pipeline" {
        9
    } else {
        8
    }
}

#[test]
fn supported_models_pass_the_parity_gate() {
    // (model, whether tract-onnx can run it)
    for (name, tract) in [
        ("offers_logit", true),
        ("scaled_logit", true),
        ("with_scaler_op", false),
        ("rf_regressor", false),
        ("gbdt_lgbm", true),
        ("mlp", true),
        ("prep_pipeline", false),
    ] {
        let path = model(name);
        let slots = slots(width(name));
        let lowered = lower(&path, name, &slots, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!lowered.outputs.is_empty(), "{name}: no outputs mapped");
        let parity = check_parity(&path, &lowered, &slots, None, &schema()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parity.reference_rows, 32, "{name}");
        assert_eq!(parity.tract_rows, if tract { 32 + RANDOM_ROWS } else { 0 }, "{name}: {:?}", parity.tract_unavailable);
        assert!(parity.max_diff <= 1e-5, "{name}: {}", parity.max_diff);
        eprintln!("{name}: {} outputs, max |diff| {:e}, tract {:?}", lowered.outputs.len(), parity.max_diff, parity.tract_unavailable);
    }
}

#[test]
fn preprocessing_and_mlp_lower_to_engine_forms() {
    let prep = lower(&model("prep_pipeline"), "prep", &slots(9), None).unwrap();
    let inputs = &prep.model.inputs;
    assert_eq!(inputs.len(), 8 + 4, "8 imputed+scaled columns and a 4-way one-hot");
    assert!(inputs[..8].iter().all(|i| matches!(i, vitrine_engine::models::Input::Feature { impute: Some(_), .. })));
    assert!(matches!(inputs[11], vitrine_engine::models::Input::OneHot { slot: 18, category: 3 }));
    let mlp = lower(&model("mlp"), "mlp", &slots(8), None).unwrap();
    let Body::Mlp { layers } = &mlp.model.body else { panic!("not an MLP: {:?}", mlp.model.body) };
    assert_eq!(layers.iter().map(|l| (l.n_in, l.n_out)).collect::<Vec<_>>(), [(8, 8), (8, 1)]);
    assert_eq!(mlp.outputs, [("probabilities".to_string(), 1)], "engine output is P(class 1)");
}

#[test]
fn an_unsupported_op_is_named_with_its_node() {
    let err = lower(&model("svm_rbf"), "svm", &slots(8), None).unwrap_err();
    assert_eq!(err.code(), "model_unsupported_op");
    assert!(err.to_string().contains("op `SVMClassifier` is not supported"), "{err}");
    assert!(err.to_string().contains("node `"), "{err}");
}

#[test]
fn a_broken_model_fails_parity_against_the_reference_and_against_tract() {
    let path = model("scaled_logit");
    let mut lowered = lower(&path, "scaled_logit", &slots(8), None).unwrap();
    if let Body::Linear { weights, .. } = &mut lowered.model.body {
        weights[0] += 0.01;
    }
    let err = check_parity(&path, &lowered, &slots(8), None, &schema()).unwrap_err();
    assert_eq!(err.code(), "model_parity");
    assert!(err.to_string().contains("max |engine - reference|"), "{err}");

    // Without reference outputs, tract alone catches a changed intercept.
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("alone.onnx");
    std::fs::copy(&path, &copy).unwrap();
    let mut lowered = lower(&copy, "alone", &slots(8), None).unwrap();
    if let Body::Linear { bias, .. } = &mut lowered.model.body {
        bias[1] += 0.05;
    }
    let err = check_parity(&copy, &lowered, &slots(8), None, &schema()).unwrap_err();
    assert_eq!(err.code(), "model_parity", "{err}");
    let good = lower(&copy, "alone", &slots(8), None).unwrap();
    let parity = check_parity(&copy, &good, &slots(8), None, &schema()).unwrap();
    assert_eq!((parity.reference_rows, parity.tract_rows), (0, RANDOM_ROWS));
}

#[test]
fn a_model_tract_cannot_run_needs_reference_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("alone.onnx");
    std::fs::copy(model("with_scaler_op"), &copy).unwrap();
    let lowered = lower(&copy, "alone", &slots(8), None).unwrap();
    let err = check_parity(&copy, &lowered, &slots(8), None, &schema()).unwrap_err();
    assert_eq!(err.code(), "model_no_reference");
    let text = err.to_string();
    assert!(text.contains("onnxruntime") && text.contains("alone.reference.json") && text.contains("Scaler"), "{text}");
}

#[test]
fn a_reference_file_that_cannot_check_anything_or_does_not_fit_is_refused_naming_what() {
    // with_scaler_op: tract cannot run it, so the reference file is its only check.
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model("with_scaler_op").with_extension("reference.json")).unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("m.onnx");
    std::fs::copy(model("with_scaler_op"), &copy).unwrap();
    let lowered = lower(&copy, "m", &slots(8), None).unwrap();
    let output = lowered.outputs[0].0.clone();
    let check = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut r = reference.clone();
        edit(&mut r);
        std::fs::write(copy.with_extension("reference.json"), r.to_string()).unwrap();
        check_parity(&copy, &lowered, &slots(8), None, &schema()).map(|p| p.reference_rows).map_err(|e| (e.code(), e.to_string()))
    };
    assert_eq!(check(&|_| {}), Ok(32), "the file as generated passes");
    let keep = |n: usize| {
        move |r: &mut serde_json::Value| {
            r["rows"].as_array_mut().unwrap().truncate(n);
            for v in r["outputs"].as_object_mut().unwrap().values_mut() {
                v.as_array_mut().unwrap().truncate(n);
            }
        }
    };
    for n in [0, 1, 31] {
        let (code, text) = check(&keep(n)).unwrap_err();
        assert_eq!(code, "model_reference");
        assert!(text.contains(&format!("{n} reference row(s)")) && text.contains("at least 32"), "{text}");
    }
    let (_, text) = check(&|r| {
        r["rows"][5].as_array_mut().unwrap().pop();
    })
    .unwrap_err();
    assert!(text.contains("row 5 has 7 values; the model takes 8"), "{text}");
    let (_, text) = check(&|r| {
        let o = r["outputs"].as_object_mut().unwrap();
        let v = o.remove(&output).unwrap();
        o.insert("probabilitys".into(), v);
    })
    .unwrap_err();
    assert!(text.contains(&format!("no output `{output}`")) && text.contains("`probabilitys`"), "{text}");
    let (_, text) = check(&|r| {
        r["outputs"][&output].as_array_mut().unwrap().pop();
    })
    .unwrap_err();
    assert!(text.contains("has 31 row(s), the file has 32 input rows"), "{text}");
    let (_, text) = check(&|r| {
        r["outputs"][&output][3] = serde_json::json!([null, null]);
    })
    .unwrap_err();
    assert!(text.contains(&format!("output `{output}`, row 3, column")), "{text}");
}
