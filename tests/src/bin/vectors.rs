//! Writes the golden vectors: `cargo run -p vitrine-conformance --bin vectors -- [DIR]`
//! (default `tests/vectors`). `cargo xtask vectors` calls this.
use std::path::PathBuf;

fn main() -> std::process::ExitCode {
    let dir = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(|| vitrine_conformance::repo_root().join("tests/vectors"));
    let suite = vitrine_conformance::vectors::generate();
    for sub in ["bundles", "cases"] {
        let _ = std::fs::remove_dir_all(dir.join(sub));
        if let Err(e) = std::fs::create_dir_all(dir.join(sub)) {
            eprintln!("cannot create {}: {e}", dir.join(sub).display());
            return std::process::ExitCode::FAILURE;
        }
    }
    let files = vitrine_conformance::vectors::files(&suite);
    for (rel, bytes) in &files {
        if let Err(e) = std::fs::write(dir.join(rel), bytes) {
            eprintln!("cannot write {rel}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    println!("wrote {} cases and {} bundles to {}", suite.cases.len(), suite.bundles.len(), dir.display());
    std::process::ExitCode::SUCCESS
}
