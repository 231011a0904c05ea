//! The binary on its own: copied into an empty directory, away from the checkout, it
//! serves the embedded default (example bundle, engine module) and decides over HTTP.
use serde_json::Value;

use crate::common::http;

#[test]
fn the_binary_serves_and_decides_from_an_empty_directory() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("vitrine");
    std::fs::copy(env!("CARGO_BIN_EXE_vitrine"), &bin).unwrap();
    let mut child = std::process::Command::new(&bin)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_remove("VITRINE_ENGINE")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line: {line:?}")).to_string();
    let agent = http();
    let key = std::fs::read_to_string(dir.path().join(".vitrine/api-key")).unwrap();
    let snapshot: Value = agent
        .get(&format!("{base}/v1/snapshot/c-0001"))
        .header("Authorization", &format!("Bearer {}", key.trim()))
        .call()
        .unwrap()
        .into_body()
        .read_json()
        .unwrap();
    let snapshot = snapshot["snapshot"].as_str().expect("a snapshot").to_string();
    let request = serde_json::json!({ "snapshot": snapshot, "slots": [{ "slot": "home_hero" }, { "slot": "offer_cards" }], "context": { "page": "home" } });
    let res = agent.post(&format!("{base}/v1/decide")).send_json(&request).unwrap();
    let status = res.status().as_u16();
    let body: Value = res.into_body().read_json().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200, "{body}");
    // A known client, in its arm (subjects are salted per store: any arm may come up).
    assert!(["personalised", "bau", "no_contact", "no_profiling_consent"].contains(&body["mode"].as_str().unwrap_or("")), "{body}");
    assert!(["personalised", "bau", "no_contact"].contains(&body["record"]["arm"].as_str().unwrap_or("")), "{body}");
    assert_eq!(body["record"]["bundle"], "telco-example", "{body}");
    // Everything it made is under its own state directory, beside it.
    for made in ["bundle.vbundle", "features.sqlite", "feedback.sqlite", "keys/bundle-dev.pub", "src/bundle.toml"] {
        assert!(dir.path().join(".vitrine").join(made).exists(), "{made}");
    }
}

#[test]
fn a_missing_static_dir_or_engine_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(["serve", "--listen", "127.0.0.1:0", "--static-dir", "nowhere/site"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--static-dir nowhere/site: no index.html"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(["serve", "--listen", "127.0.0.1:0", "--engine", "missing.wasm"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("engine module missing.wasm"), "{}", String::from_utf8_lossy(&out.stderr));
}
