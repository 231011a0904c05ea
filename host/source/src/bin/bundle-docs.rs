//! Writes `docs/bundle.md` and `docs/bundle.schema.json` from the source types
//! (`cargo xtask bundle-docs`). With `--check`, fails when either is stale instead.
use std::path::PathBuf;

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(args.next().unwrap_or_else(|| ".".into()));
    let check = args.next().as_deref() == Some("--check");
    let example = match std::fs::read_to_string(root.join("host/examples/bundle/bundle.toml")) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("host/examples/bundle/bundle.toml: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let files = [
        (root.join("docs/bundle.md"), vitrine_source::reference::markdown(&example)),
        (root.join("docs/bundle.schema.json"), vitrine_source::reference::json_schema_text()),
    ];
    for (path, text) in files {
        if check {
            if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                eprintln!("{} is stale: run `cargo xtask bundle-docs`", path.display());
                return std::process::ExitCode::FAILURE;
            }
        } else if let Err(e) = std::fs::write(&path, text) {
            eprintln!("{}: {e}", path.display());
            return std::process::ExitCode::FAILURE;
        } else {
            println!("wrote {}", path.display());
        }
    }
    std::process::ExitCode::SUCCESS
}
