//! `[[models]]` in bundle.toml: ONNX models lowered, parity-gated, and used by offers.
use std::path::{Path, PathBuf};

use vitrine_engine::bundle::Propensity;

use crate::common::{example_copy, vitrine};

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../compile/models/out")
}

/// The example plus two derived flags, a `[[models]]` entry and an offer scored by it.
fn with_model(tmp: &Path, file: &str, inputs: &str, output: &str) -> PathBuf {
    let dir = example_copy(tmp);
    let mut text = std::fs::read_to_string(dir.join("bundle.toml")).unwrap();
    text = text.replace("propensity = 0.35", &format!("propensity = {{ model = \"offers\", output = \"{output}\", column = 1 }}"));
    text.push_str(&format!(
        r#"
[[schema.features]]
name = "indoor_coverage_poor"
type = "boolean"

[[schema.features]]
name = "plan_premium"
type = "boolean"
personal = false

[[models]]
name = "offers"
file = "{}"
inputs = [{inputs}]
"#,
        models_dir().join(file).display()
    ));
    std::fs::write(dir.join("bundle.toml"), text).unwrap();
    dir
}

const INPUTS: &str = r#""tenure_months", "monthly_spend", "data_usage_gb", "fiber_eligible", "fiber_owned", "indoor_coverage_poor", "plan_premium", "open_complaint""#;

#[test]
fn an_offer_scored_by_an_onnx_model() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = with_model(tmp.path(), "offers_logit.onnx", INPUTS, "fibre_upgrade_probabilities");
    let bundle = vitrine_compile::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bundle.models.len(), 1);
    assert_eq!(bundle.models[0].n_outputs, 6);
    let fibre = bundle.offers.iter().find(|o| o.id == "fibre_upgrade").unwrap();
    assert_eq!(fibre.score, vitrine_engine::bundle::Score::Propensity(Propensity::Model { model: 0, output: 1 }));
    // The bundle signs and loads in the engine.
    let key = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
    let bytes = vitrine_engine::bundle::envelope::sign(&bundle, "b", &key).unwrap();
    assert!(vitrine_engine::Engine::load(&bytes, &key.verifying_key().to_bytes()).is_ok());
}

#[test]
fn model_errors_have_their_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = with_model(tmp.path(), "offers_logit.onnx", &INPUTS.replace("fiber_owned", "fibre_owned"), "fibre_upgrade_probabilities");
    let err = vitrine_compile::load(&dir).unwrap_err();
    assert_eq!(err.code(), "source_unknown_name", "{err}");
    assert!(err.to_string().contains("did you mean `fiber_owned`?"), "{err}");

    let tmp = tempfile::tempdir().unwrap();
    let dir = with_model(tmp.path(), "svm_rbf.onnx", INPUTS, "probabilities");
    let err = vitrine_compile::load(&dir).unwrap_err();
    assert_eq!(err.code(), "model_unsupported_op", "{err}");
    assert!(err.to_string().contains("op `SVMClassifier`"), "{err}");

    let tmp = tempfile::tempdir().unwrap();
    let dir = with_model(tmp.path(), "offers_logit.onnx", INPUTS, "churn");
    let err = vitrine_compile::load(&dir).unwrap_err();
    assert_eq!(err.code(), "source_invalid", "{err}");
    assert!(err.to_string().contains("fibre_upgrade_probabilities[1]"), "{err}");
}

#[test]
fn bundle_build_prints_each_models_parity() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = with_model(tmp.path(), "offers_logit.onnx", INPUTS, "fibre_upgrade_probabilities");
    let keys = tmp.path().join("keys");
    assert!(vitrine(&["keys", "new", "--kid", "b1", "--role", "bundle", "--out", keys.to_str().unwrap()]).status.success());
    let out = tmp.path().join("b.vbundle");
    let run = vitrine(&[
        "bundle",
        "build",
        dir.to_str().unwrap(),
        "--key",
        keys.join("b1.key").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains("model `offers`: parity max |diff|") && stdout.contains("32 reference rows; 96 rows vs tract-onnx"),
        "{stdout}"
    );
}
