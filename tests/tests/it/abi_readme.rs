//! engine/abi/README.md's examples against the golden vector they quote
//! (`001-client-0.json`): the request verbatim, every id and hash of the example response,
//! the record's keys, and the values its Python example says it prints (the Python itself
//! runs in `tests/python/test_abi_readme.py`).
use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The fenced block of `lang` that follows the first line containing `after`.
fn block_after<'a>(text: &'a str, after: &str, lang: &str) -> &'a str {
    let start = text.find(after).unwrap_or_else(|| panic!("README lacks `{after}`"));
    let fence = format!("```{lang}\n");
    let open = start + text[start..].find(&fence).unwrap() + fence.len();
    &text[open..open + text[open..].find("```").unwrap()]
}

#[test]
fn the_abi_guide_quotes_the_current_golden_vector() {
    let readme = std::fs::read_to_string(root().join("engine/abi/README.md")).unwrap();
    let case: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("tests/vectors/cases/001-client-0.json")).unwrap()).unwrap();
    let expected: Value = serde_json::from_str(case["expected"].as_str().unwrap()).unwrap();
    let record = &expected["record"];

    // The request example is the vector's request.
    let request: Value =
        serde_json::from_str(block_after(&readme, "Example (request of `tests/vectors/cases/001-client-0.json`)", "json")).unwrap();
    let vector_request: Value = match &case["request"] {
        Value::String(s) => serde_json::from_str(s).unwrap(),
        v => v.clone(),
    };
    assert_eq!(request, vector_request, "the README's request example is stale");

    // Every id and hash the response example shows is the vector's.
    let response = block_after(&readme, "Example (the `expected` output of `001-client-0.json`", "json");
    for key in ["decision_id", "bundle", "bundle_hash", "snapshot_hash", "subject", "history_hash"] {
        let want = record[key].as_str().unwrap();
        let quoted: Vec<&str> = response
            .match_indices(&format!("\"{key}\": \""))
            .map(|(i, m)| &response[i + m.len()..][..response[i + m.len()..].find('"').unwrap()])
            .collect();
        assert!(!quoted.is_empty() && quoted.iter().all(|q| *q == want), "README `{key}` {quoted:?}, the vector has {want}");
    }
    // The record example names every key the record has (`withheld` only appears for `no_contact` clients).
    let record_block = &response[response.find("\"record\": {").unwrap()..];
    let shown: BTreeSet<String> =
        record_block.lines().filter_map(|l| l.trim().strip_prefix('"').and_then(|l| l.split('"').next()).map(str::to_string)).collect();
    for key in record.as_object().unwrap().keys() {
        assert!(shown.contains(key), "the README's record example lacks `{key}`");
    }

    // The Python example's printed values, as its comments say.
    let python = block_after(&readme, "### Python (`pip install wasmtime`)", "python");
    assert!(python.contains(&format!("# {}", record["bundle"].as_str().unwrap())), "bundle name comment");
    assert!(python.contains(&format!("# {}", expected["decision_id"].as_str().unwrap())), "decision id comment is stale");
}
