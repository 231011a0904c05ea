//! The server's engine call and feedback store, without HTTP:
//! - `decide/*`: one decide for a client with a signed snapshot: on a warm pooled instance
//!   (what `vitrine serve` does), on a fresh instance (instantiate + load the bundle +
//!   decide: the per-request cost without the pool), and natively (`decide_json`).
//! - `store/*`: events written to the SQLite feedback store in one durable transaction.
//!
//! `cargo bench -p vitrine-cli --bench serving` (unset RUST_BACKTRACE; needs
//! `dist/engine-abi.wasm` from `cargo xtask wasm`).
use std::path::Path;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use vitrine_engine::snapshot::{channel_consent_bit, encode_text, SnapshotContent, SnapshotSigner, CONSENT_PROFILING};
use vitrine_feedback::{Event, EventKind, FeedbackStore, SqliteStore};
use vitrine_runtime::{Instance, Runtime, RuntimeOptions};

const NOW: u64 = 1_800_000_000;

fn decide(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("rules")).unwrap();
    for rel in ["bundle.toml", "rules/fibre_upgrade.cel"] {
        std::fs::copy(root.join("../examples/bundle").join(rel), src.join(rel)).unwrap();
    }
    vitrine_base::keys::generate("snap-demo", vitrine_base::keys::Role::Snapshot, &src.join("keys")).unwrap();
    let bundle = vitrine_compile::load(&src).unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]);
    let signed = vitrine_engine::bundle::envelope::sign(&bundle, "b", &key).unwrap();
    let public = key.verifying_key().to_bytes();
    let secret = vitrine_base::keys::load_secret(&src.join("keys/snap-demo.key"), vitrine_base::keys::Role::Snapshot).unwrap();
    let signer = SnapshotSigner::new(&secret.kid, secret.key).unwrap();
    let web = bundle.schema.channel("web").unwrap();
    let values = vec![Some(24.0), Some(45.0), Some(20.0), Some(1.0), Some(0.0), Some(0.0), Some(0.0), Some(0.0)];
    let content = SnapshotContent {
        subject: [1; 16],
        issued_at: NOW - 60,
        expires_at: NOW + 3600,
        consent: CONSENT_PROFILING | channel_consent_bit(web),
        values,
    };
    let snapshot = encode_text(&signer.sign(&bundle.schema, &content).unwrap());
    let request = serde_json::to_vec(&serde_json::json!({ "snapshot": snapshot, "now": NOW, "seed": 7, "slots": [{ "slot": "home_hero" }, { "slot": "offer_cards" }], "context": { "page": "home" } })).unwrap();

    let wasm = std::fs::read(root.join("../../dist/engine-abi.wasm")).expect("dist/engine-abi.wasm: run `cargo xtask wasm`");
    let runtime = Runtime::new(&wasm, signed.clone(), public, RuntimeOptions::default()).unwrap();
    let module = runtime.current().module.clone();
    let mut native = vitrine_engine::api::load(&signed, &public).unwrap();

    let mut g = c.benchmark_group("decide");
    g.bench_function("wasmtime_warm_pool", |b| b.iter(|| black_box(runtime.decide(black_box(&request)).unwrap())));
    g.bench_function("wasmtime_fresh_instance", |b| {
        b.iter(|| {
            let mut i = Instance::new(&module, &signed, &public, 64 << 20, 0).unwrap();
            black_box(i.decide(black_box(&request)).unwrap())
        })
    });
    g.bench_function("native", |b| b.iter(|| black_box(vitrine_engine::api::decide_json(&mut native, black_box(&request)))));
    g.finish();
}

fn store(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&tmp.path().join("f.sqlite")).unwrap();
    let mut next = 0u64;
    let mut g = c.benchmark_group("store");
    for batch in [100usize, 1000] {
        g.throughput(Throughput::Elements(batch as u64));
        g.bench_function(format!("events_per_commit_{batch}"), |b| {
            b.iter_batched(
                || {
                    (0..batch)
                        .map(|_| {
                            next += 1;
                            Event {
                                event_id: format!("e-{next:012}"),
                                decision_id: format!("d-{}", next / 4),
                                kind: EventKind::Click,
                                offer: "fibre_upgrade".into(),
                                treatment: "default".into(),
                                slot: "home_hero".into(),
                                channel: "web".into(),
                                at: NOW,
                                value: None,
                                selection_probability: None,
                                rank: None,
                                uplift: None,
                                record: None,
                            }
                        })
                        .collect::<Vec<_>>()
                },
                |events| black_box(store.write(&events, &[], &[]).unwrap()),
                criterion::BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, decide, store);
criterion_main!(benches);
