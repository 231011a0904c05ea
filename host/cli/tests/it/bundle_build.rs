//! `vitrine keys new` and `vitrine bundle build` end to end, and every bad input
//! with its code and nothing written.
use std::path::{Path, PathBuf};

use vitrine_base::keys::{self, Role};
use vitrine_engine::decision::{ContextValue, DecideRequest, SlotRequest};
use vitrine_engine::snapshot::{encode_text, SnapshotContent, SnapshotSigner, CONSENT_PROFILING};

use crate::common::{example_copy, vitrine};

const NOW: u64 = 1_800_000_000;

#[test]
fn keys_are_private_and_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("keys");
    let ok = vitrine(&["keys", "new", "--kid", "bundle-1", "--role", "bundle", "--out", out.to_str().unwrap()]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(out.join("bundle-1.key")).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let again = vitrine(&["keys", "new", "--kid", "bundle-1", "--role", "bundle", "--out", out.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));
    assert_eq!(keys::generate("bad kid!", Role::Bundle, &out).unwrap_err().code(), "key_bad_kid");
}

#[test]
fn a_built_bundle_decides_on_a_snapshot_signed_by_a_trusted_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = example_copy(tmp.path());
    let keys_dir = tmp.path().join("keys");
    keys::generate("bundle-1", Role::Bundle, &keys_dir).unwrap();
    let out = tmp.path().join("telco.vbundle");
    let built = vitrine(&[
        "bundle",
        "build",
        dir.to_str().unwrap(),
        "--key",
        keys_dir.join("bundle-1.key").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));

    let public = keys::load_public(&keys_dir.join("bundle-1.pub"), Role::Bundle).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    let mut engine = vitrine_engine::Engine::load(&bytes, &public.bytes(Path::new("k")).unwrap()).unwrap();
    let schema = engine.bundle().schema.clone();

    let snap_key = keys::load_secret(&dir.join("keys/snap-demo.key"), Role::Snapshot).unwrap();
    let signer = SnapshotSigner::new(&snap_key.kid, snap_key.key).unwrap();
    // tenure, spend, usage, fiber_eligible, fiber_owned, coverage (poor), plan (basic), complaint
    let values = [24.0, 55.0, 20.0, 1.0, 0.0, 0.0, 0.0, 0.0].map(Some).to_vec();
    // A subject in the personalised arm (the example bundle has bau and no_contact arms).
    let arms = engine.bundle().policy.arms.clone();
    let subject = (3u8..).map(|n| [n; 16]).find(|s| arms.assign(s) == vitrine_engine::policy::Arm::Personalised).unwrap();
    let content = SnapshotContent { subject, issued_at: NOW - 60, expires_at: NOW + 3600, consent: CONSENT_PROFILING | 0b11110, values };
    let snapshot = encode_text(&signer.sign(&schema, &content).unwrap());
    let req = DecideRequest {
        snapshot: Some(snapshot),
        now: NOW,
        seed: 9,
        context: [("page".to_string(), ContextValue::Label("offers".into()))].into_iter().collect(),
        slots: vec![SlotRequest { slot: "offer_cards".into(), k: Some(4) }],
        history: vec![],
        explain: false,
    };
    let resp = engine.decide(&req).unwrap();
    let mut offers: Vec<&str> = resp.slots[0].offers.iter().map(|o| o.offer.as_str()).collect();
    offers.sort_unstable();
    // All four are eligible for this client; the service action carries its lever.
    assert_eq!(offers, ["data_20gb", "femtocell", "fibre_upgrade", "premium_upgrade"]);
    assert!(resp.slots[0].offers.iter().all(|o| o.c == 1.2), "the offers-page context weight applies");
    let inspect = vitrine(&["bundle", "inspect", out.to_str().unwrap(), "--key", keys_dir.join("bundle-1.pub").to_str().unwrap()]);
    assert!(inspect.status.success());
    assert!(String::from_utf8_lossy(&inspect.stdout).contains("\"telco-example\""));
}

/// Writes a variant of the example with `edit` applied to bundle.toml, returns its folder.
fn variant(tmp: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let dir = example_copy(tmp);
    let text = std::fs::read_to_string(dir.join("bundle.toml")).unwrap();
    std::fs::write(dir.join("bundle.toml"), edit(text)).unwrap();
    dir
}

#[test]
fn bad_sources_fail_with_their_code_and_write_nothing() {
    type Edit = Box<dyn Fn(String) -> String>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        ("malformed toml", Box::new(|t| t.replace("value = 30.0", "value = = 30.0")), "source_toml"),
        ("unknown feature", Box::new(|t| t.replace("data_usage_gb >= 15", "data_usage >= 15")), "rule_unknown_name"),
        ("type error", Box::new(|t| t.replace("data_usage_gb >= 15", "plan >= 15")), "rule_type"),
        ("unknown label", Box::new(|t| t.replace("indoor_coverage == 'poor'", "indoor_coverage == 'bad'")), "rule_unknown_label"),
        (
            "unknown slot",
            Box::new(|t| t.replace("slots = [\"home_hero\", \"offer_cards\"]", "slots = [\"home_hero\", \"offer_card\"]")),
            "source_unknown_name",
        ),
        ("unknown channel", Box::new(|t| t.replace("channel = \"email\"\n", "channel = \"mail\"\n")), "source_unknown_name"),
        ("bad duration", Box::new(|t| t.replace("window = \"7d\" }]", "window = \"7 days\" }]")), "source_invalid"),
        ("engine validation", Box::new(|t| t.replace("propensity = 0.6", "propensity = 1.6")), "bundle_invalid"),
    ];
    for (name, edit, code) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let dir = variant(tmp.path(), edit);
        let err = vitrine_compile::load(&dir).expect_err(name);
        assert_eq!(err.code(), code, "{name}: {err}");
        keys::generate("bundle-1", Role::Bundle, &tmp.path().join("k")).unwrap();
        let out = tmp.path().join("out.vbundle");
        let run = vitrine(&[
            "bundle",
            "build",
            dir.to_str().unwrap(),
            "--key",
            tmp.path().join("k/bundle-1.key").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(!run.status.success(), "{name}");
        assert!(!out.exists() && !out.with_extension("partial").exists(), "{name}: a file was written");
    }
}

#[test]
fn rule_errors_name_the_file_line_and_closest_feature() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = example_copy(tmp.path());
    std::fs::write(dir.join("rules/fibre_upgrade.cel"), "// fibre\nfibre_elig && !fiber_owned\n").unwrap();
    let err = vitrine_compile::load(&dir).unwrap_err().to_string();
    assert!(err.contains("rules/fibre_upgrade.cel:2:1"), "{err}");
    assert!(err.contains("did you mean `fiber_eligible`?"), "{err}");
}

#[test]
fn a_snapshot_key_cannot_sign_a_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = example_copy(tmp.path());
    let out = tmp.path().join("out.vbundle");
    let run = vitrine(&[
        "bundle",
        "build",
        dir.to_str().unwrap(),
        "--key",
        dir.join("keys/snap-demo.key").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("this is a snapshot key; bundle keys are needed here"));
    assert!(!out.exists());
    assert_eq!(keys::load_secret(&dir.join("keys/snap-demo.key"), Role::Bundle).unwrap_err().code(), "key_wrong_role");
}

#[test]
fn bundle_check_reports_every_problem_at_once_without_a_key() {
    let tmp = tempfile::tempdir().unwrap();
    let good = example_copy(&tmp.path().join("good"));
    let ok = vitrine(&["bundle", "check", good.to_str().unwrap()]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains(": ok"));

    // Problems in two rules and a slot, all reported at once with their codes (a value the
    // engine's own validation refuses, the 1.6 propensity, is reported once the rest is clean).
    let bad = variant(&tmp.path().join("bad"), |t| {
        t.replace("data_usage_gb >= 15", "data_usage >= 15")
            .replace("indoor_coverage == 'poor'", "indoor_coverage == 'bad'")
            .replace("propensity = 0.6", "propensity = 1.6")
            .replace("channel = \"email\"\n", "channel = \"mail\"\n")
    });
    let out = vitrine(&["bundle", "check", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    for code in ["rule_unknown_name", "rule_unknown_label", "source_unknown_name"] {
        assert!(err.contains(code), "`{code}` not reported: {err}");
    }
    let problems = err.lines().filter(|l| l.starts_with("rule_") || l.starts_with("source_") || l.starts_with("bundle_")).count();
    assert!(problems >= 3, "every problem at once: {err}");
    assert!(err.contains(&format!("{problems} problems")), "{err}");
    assert_eq!(vitrine_compile::check(&bad).unwrap_err().len(), problems);
}
