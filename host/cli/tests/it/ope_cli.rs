//! `vitrine ope --logged FILE`: the estimates of hand-computed rounds in obp's shape, and
//! bad rounds named by line.
use crate::common::vitrine;

#[test]
fn ope_on_obp_shaped_rounds_matches_the_hand_computed_values() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("rounds.jsonl");
    std::fs::write(
        &file,
        r#"{"action": 0, "reward": 1.0, "pscore": 0.5, "action_dist": [0.8, 0.2], "estimated_rewards": [0.6, 0.3]}
{"action": 1, "reward": 0.0, "pscore": 0.25, "action_dist": [0.5, 0.5], "estimated_rewards": [0.4, 0.2]}

{"action": 1, "reward": 1.0, "pscore": 0.5, "action_dist": [0.8, 0.2], "estimated_rewards": [0.5, 0.5]}
"#,
    )
    .unwrap();
    let out = vitrine(&["ope", "--logged", file.to_str().unwrap(), "--json", "--resamples", "100"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // By hand: w = 1.6, 2, 0.4; IPS 2/3, SNIPS 2/4, DR (1.18 − 0.1 + 0.7)/3.
    for (field, want) in [("ips", 2.0 / 3.0), ("snips", 0.5), ("dr", 1.78 / 3.0)] {
        assert!((r[field]["value"].as_f64().unwrap() - want).abs() < 1e-12, "{field}: {}", r[field]);
    }
    assert_eq!(r["n"], 3);
    let text = vitrine(&["ope", "--logged", file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("SNIPS"));

    std::fs::write(
        &file,
        "{\"action\": 0, \"reward\": 1.0, \"pscore\": 0.5, \"action_dist\": [0.8, 0.2]}\n{\"action\": 0, \"reward\": \"x\"}\n",
    )
    .unwrap();
    let bad = vitrine(&["ope", "--logged", file.to_str().unwrap()]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("line 2"), "{}", String::from_utf8_lossy(&bad.stderr));
    std::fs::write(&file, "{\"action\": 3, \"reward\": 1.0, \"pscore\": 0.5, \"action_dist\": [0.8, 0.2]}\n").unwrap();
    let bad = vitrine(&["ope", "--logged", file.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("row 0: action 3 is not one of the 2 actions"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
