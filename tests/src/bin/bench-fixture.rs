//! Writes the 300-feature benchmark fixture for the JS benchmarks (tests/bench):
//! `bench.vbundle`, `bench.key` (the bundle key, hex), `bench-snapshots.jsonl` (10,000
//! distinct signed snapshots, one per line as `{"client_id","snapshot"}`, like
//! `vitrine snapshot sign-all`) and `bench-request.json` (a request without snapshot).
//! `cargo run --release -p vitrine-conformance --bin bench-fixture -- OUT_DIR`
//! (`cargo xtask bench` runs it).
use std::io::Write;

use vitrine_conformance::vectors::to_hex;
use vitrine_engine::snapshot::{encode_text, SnapshotSigner};
use vitrine_engine::testkit::{snapshot_key, Fixture, NOW, SNAPSHOT_KID};

const CLIENTS: usize = 10_000;

fn main() {
    let out = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: bench-fixture OUT_DIR"));
    std::fs::create_dir_all(&out).expect("create the output folder");
    let fx = Fixture::bench();
    std::fs::write(out.join("bench.vbundle"), &fx.bundle_bytes).expect("write the bundle");
    std::fs::write(out.join("bench.key"), to_hex(&fx.bundle_public_key)).expect("write the key");
    let mut request = serde_json::to_value(fx.request(0, NOW, 1)).expect("request JSON");
    if let Some(r) = request.as_object_mut() {
        r.remove("snapshot");
    }
    std::fs::write(out.join("bench-request.json"), request.to_string()).expect("write the request");
    let signer = SnapshotSigner::new(SNAPSHOT_KID, snapshot_key()).expect("signer");
    let mut lines = std::io::BufWriter::new(std::fs::File::create(out.join("bench-snapshots.jsonl")).expect("create the snapshots file"));
    for i in 0..CLIENTS {
        // The 16 fixture clients, each issued at another second: 10,000 distinct snapshots.
        let mut c = fx.clients[i % fx.clients.len()].clone();
        c.issued_at -= i as u64 + 1;
        let text = encode_text(&signer.sign(&fx.bundle.schema, &c).expect("sign"));
        writeln!(lines, "{}", serde_json::json!({ "client_id": format!("b-{i:05}"), "snapshot": text })).expect("write a snapshot");
    }
    lines.flush().expect("flush");
    eprintln!("bench-fixture: {CLIENTS} snapshots, bundle and request in {}", out.display());
}
