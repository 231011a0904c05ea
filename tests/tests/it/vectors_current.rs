//! The committed golden vectors are exactly what the generator makes today.
use vitrine_conformance::{repo_root, vectors};

#[test]
fn committed_vectors_match_a_fresh_generation() {
    let dir = repo_root().join("tests/vectors");
    let fresh = vectors::files(&vectors::generate());
    let mut stale = Vec::new();
    for (rel, bytes) in &fresh {
        match std::fs::read(dir.join(rel)) {
            Ok(disk) if &disk == bytes => {}
            Ok(_) => stale.push(format!("{rel} differs")),
            Err(_) => stale.push(format!("{rel} is missing")),
        }
    }
    let on_disk = vectors::load(&dir).expect("vectors load");
    let expected_count = fresh.iter().filter(|(r, _)| r.starts_with("cases/")).count();
    if on_disk.cases.len() != expected_count {
        stale.push(format!("{} case files on disk, generator makes {expected_count}", on_disk.cases.len()));
    }
    assert!(stale.is_empty(), "golden vectors are stale; run `cargo xtask vectors` and review the diff:\n{}", stale.join("\n"));
}

#[test]
fn the_suite_is_large_and_covers_every_stage() {
    let suite = vectors::load(&repo_root().join("tests/vectors")).expect("vectors load");
    assert!(suite.cases.len() >= 40, "only {} cases", suite.cases.len());
    for stage in ["decision", "policy", "rules", "models", "snapshot", "request", "bundle"] {
        assert!(suite.cases.iter().any(|c| c.stage == stage), "no case for stage {stage}");
    }
}

#[test]
fn every_reachable_error_code_has_a_vector() {
    let suite = vectors::load(&repo_root().join("tests/vectors")).expect("vectors load");
    let codes: std::collections::BTreeSet<String> = suite
        .cases
        .iter()
        .filter_map(|c| serde_json::from_str::<serde_json::Value>(&c.expected).ok()?.pointer("/error/code")?.as_str().map(String::from))
        .collect();
    // Codes only a host can raise (encode errors) or that need megabytes of input
    // (oversized bundles, requests and models) are unit-tested in the engine instead.
    let reachable = [
        "schema_too_large",
        "schema_duplicate_name",
        "schema_bad_feature",
        "snapshot_bad_encoding",
        "snapshot_bad_magic",
        "snapshot_bad_version",
        "snapshot_truncated",
        "snapshot_oversized",
        "snapshot_malformed",
        "snapshot_unknown_key",
        "snapshot_bad_signature",
        "snapshot_schema_mismatch",
        "snapshot_expired",
        "snapshot_not_yet_valid",
        "rule_too_long",
        "rule_type",
        "rule_stack",
        "rule_bad_index",
        "rule_step_limit",
        "model_shape",
        "model_bad_index",
        "model_tree_structure",
        "model_not_finite",
        "bundle_bad_magic",
        "bundle_bad_version",
        "bundle_truncated",
        "bundle_bad_key",
        "bundle_bad_signature",
        "bundle_decode",
        "bundle_invalid",
        "request_malformed",
        "request_too_many",
        "request_unknown_slot",
        "request_unknown_context",
        "request_context_type",
        "request_unknown_channel",
        "request_bad_value",
        "request_now_in_milliseconds",
    ];
    let missing: Vec<&str> = reachable.iter().copied().filter(|c| !codes.contains(*c)).collect();
    assert!(missing.is_empty(), "no vector for {missing:?}");
}
