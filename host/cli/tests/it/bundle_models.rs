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

/// Rewrites the bundle.toml in `dir`.
fn edit(dir: &Path, f: impl FnOnce(String) -> String) {
    let path = dir.join("bundle.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, f(text)).unwrap();
}

const MODEL_PROPENSITY: &str = r#"propensity = { model = "offers", output = "fibre_upgrade_probabilities", column = 1 }"#;

#[test]
fn uplift_declarations_compile_t_s_and_direct() {
    use vitrine_engine::bundle::{ModelOutput, Score, Uplift};
    let tmp = tempfile::tempdir().unwrap();
    // A T-learner: two outputs of one graph (any two serve the test).
    let t = with_model(&tmp.path().join("t"), "offers_logit.onnx", INPUTS, "fibre_upgrade_probabilities");
    edit(&t, |s| {
        s.replace(MODEL_PROPENSITY, r#"uplift = { treated = { model = "offers", output = "fibre_upgrade_probabilities" }, control = { model = "offers", output = "plan_upgrade_probabilities" } }"#)
    });
    let b = vitrine_compile::load(&t).unwrap_or_else(|e| panic!("{e}"));
    let fibre = b.offers.iter().find(|o| o.id == "fibre_upgrade").unwrap();
    assert_eq!(
        fibre.score,
        Score::Uplift(Uplift::TwoModel { treated: ModelOutput { model: 0, output: 1 }, control: ModelOutput { model: 0, output: 5 } })
    );
    // Direct uplift.
    let d = with_model(&tmp.path().join("d"), "offers_logit.onnx", INPUTS, "fibre_upgrade_probabilities");
    edit(&d, |s| s.replace(MODEL_PROPENSITY, r#"uplift = { direct = { model = "offers", output = "fibre_upgrade_probabilities" } }"#));
    let b = vitrine_compile::load(&d).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(b.offers.iter().find(|o| o.id == "fibre_upgrade").unwrap().score, Score::Uplift(Uplift::Direct(_))));
    // An S-learner: the model's last input column is the treatment flag (not a feature);
    // the parity gate feeds it through, and the engine evaluates it at 1 and at 0.
    let s = with_model(&tmp.path().join("s"), "offers_logit.onnx", INPUTS, "fibre_upgrade_probabilities");
    edit(&s, |text| {
        text.replace(MODEL_PROPENSITY, r#"uplift = { s_learner = { model = "offers", output = "fibre_upgrade_probabilities" } }"#)
            .replace(r#""open_complaint"]"#, "\"contacted\"]\ntreatment = \"contacted\"")
    });
    let b = vitrine_compile::load(&s).unwrap_or_else(|e| panic!("{e}"));
    assert!(b.models[0].has_treatment_input());
    assert!(matches!(b.offers.iter().find(|o| o.id == "fibre_upgrade").unwrap().score, Score::Uplift(Uplift::Treatment(_))));
    let features: Vec<f32> = vec![0.5; b.schema.features.len()];
    let (mut on, mut off) = (vec![0.0; 6], vec![0.0; 6]);
    let mut scratch = vitrine_engine::models::Scratch::default();
    b.models[0].score_at(&features, &[], 1.0, &mut scratch, &mut on);
    b.models[0].score_at(&features, &[], 0.0, &mut scratch, &mut off);
    assert_ne!(on[1], off[1], "the treatment column moves the score");
}

#[test]
fn bad_uplift_and_arm_declarations_have_their_codes() {
    let tmp = tempfile::tempdir().unwrap();
    type Edit = fn(String) -> String;
    let cases: [(&str, Edit, &str); 6] = [
        (
            "missing-output",
            |s| {
                s.replace(MODEL_PROPENSITY, r#"uplift = { treated = { model = "offers", output = "fibre_upgrade_probabilities" }, control = { model = "offers", output = "nope_probabilities" } }"#)
            },
            "uplift_declaration",
        ),
        (
            "s-learner-without-treatment",
            |s| s.replace(MODEL_PROPENSITY, r#"uplift = { s_learner = { model = "offers", output = "fibre_upgrade_probabilities" } }"#),
            "uplift_declaration",
        ),
        (
            "treatment-not-an-input",
            |s| s.replace(r#""open_complaint"]"#, "\"open_complaint\"]\ntreatment = \"contacted\""),
            "uplift_declaration",
        ),
        (
            "both-scores",
            |s| {
                s.replace(
                    MODEL_PROPENSITY,
                    &format!(
                        "{MODEL_PROPENSITY}\nuplift = {{ direct = {{ model = \"offers\", output = \"fibre_upgrade_probabilities\" }} }}"
                    ),
                )
            },
            "source_invalid",
        ),
        ("arm-shares-over-one", |s| s.replace("bau = 0.10, no_contact = 0.05", "bau = 0.7, no_contact = 0.4"), "arm_shares"),
        ("unknown-cost-channel", |s| s.replace("sms = 0.5, email = 0.05", "sms = 0.5, fax = 1.0"), "source_unknown_name"),
    ];
    for (name, f, code) in cases {
        let dir = with_model(&tmp.path().join(name), "offers_logit.onnx", INPUTS, "fibre_upgrade_probabilities");
        let before = std::fs::read_to_string(dir.join("bundle.toml")).unwrap();
        edit(&dir, f);
        assert_ne!(before, std::fs::read_to_string(dir.join("bundle.toml")).unwrap(), "{name}: the edit applies");
        let err = vitrine_compile::load(&dir).unwrap_err();
        assert_eq!(err.code(), code, "{name}: {err}");
        // `bundle build` names it and writes nothing.
        let out_file = tmp.path().join(format!("{name}.vbnd"));
        let key = tmp.path().join(format!("{name}-keys"));
        vitrine_base::keys::generate("b", vitrine_base::keys::Role::Bundle, &key).unwrap();
        let out = vitrine(&[
            "bundle",
            "build",
            "--key",
            key.join("b.key").to_str().unwrap(),
            "--out",
            out_file.to_str().unwrap(),
            dir.to_str().unwrap(),
        ]);
        assert!(
            !out.status.success() && String::from_utf8_lossy(&out.stderr).contains(&err.to_string()),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out_file.exists(), "{name}: nothing written");
    }
}

#[test]
fn an_older_bundles_holdout_becomes_the_bau_arm() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = example_copy(tmp.path());
    edit(&dir, |s| {
        s.replace(r#"arms = { salt = "example-2026", bau = 0.10, no_contact = 0.05 }"#, "holdout_share = 0.07\nholdout_salt = \"old-salt\"")
    });
    let b = vitrine_compile::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((b.policy.arms.bau, b.policy.arms.no_contact, b.policy.arms.salt.as_str()), (0.07, 0.0, "old-salt"));
    // And an older offer's baseline propensity becomes its BAU priority (× V × L).
    edit(&dir, |s| s.replacen("propensity = 0.35", "propensity = 0.35\nbaseline_propensity = 0.2", 1));
    let b = vitrine_compile::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    let fibre = b.offers.iter().find(|o| o.id == "fibre_upgrade").unwrap();
    assert_eq!(fibre.bau_priority, Some(0.2 * fibre.value * fibre.lever));
}
