//! `docs/bundle.md` and `docs/bundle.schema.json` are what the source types generate
//! (`cargo xtask bundle-docs` rewrites them), and the schema accepts the example bundle.
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn the_bundle_reference_is_not_stale() {
    let example = std::fs::read_to_string(root().join("host/examples/bundle/bundle.toml")).unwrap();
    let page = std::fs::read_to_string(root().join("docs/bundle.md")).unwrap_or_default();
    assert!(page == vitrine_source::reference::markdown(&example), "docs/bundle.md is stale: run `cargo xtask bundle-docs`");
    let schema = std::fs::read_to_string(root().join("docs/bundle.schema.json")).unwrap_or_default();
    assert!(schema == vitrine_source::reference::json_schema_text(), "docs/bundle.schema.json is stale: run `cargo xtask bundle-docs`");
}

#[test]
fn every_key_of_the_source_types_is_documented() {
    let schema = vitrine_source::reference::json_schema();
    let mut undocumented = Vec::new();
    for (name, def) in schema["$defs"].as_object().unwrap().iter().chain([("File".to_string(), schema.clone())].iter().map(|(k, v)| (k, v)))
    {
        for (key, p) in def.get("properties").and_then(|p| p.as_object()).into_iter().flatten() {
            if p.get("description").is_none() {
                undocumented.push(format!("{name}.{key}"));
            }
        }
    }
    assert!(undocumented.is_empty(), "keys without a description: {undocumented:?}");
}
