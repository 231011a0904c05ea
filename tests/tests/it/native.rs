//! Every golden vector, natively, byte for byte.
use vitrine_conformance::{repo_root, vectors};

#[test]
fn native_output_is_byte_identical_to_every_vector() {
    let suite = vectors::load(&repo_root().join("tests/vectors")).expect("vectors load");
    let mut failures = Vec::new();
    for case in &suite.cases {
        let bundle = &suite.bundles[&case.bundle];
        let out = vectors::run_native(bundle, &case.key_bytes(), &case.request_bytes());
        if out != case.expected.as_bytes() {
            failures.push(case.name.clone());
        }
    }
    assert!(failures.is_empty(), "native differs on {failures:?}");
}
