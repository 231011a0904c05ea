//! Decide latency on the benchmark fixture (300 features, 100 offers, 100-output
//! logistic model, 100-tree depth-6 GBDT, 3 slots of top-3), natively, with the
//! verified-snapshot cache warm and cold, its uplift variant (every offer by a
//! T-learner), plus the stages alone.
//!
//! `cargo bench -p vitrine-engine --bench decide` (unset RUST_BACKTRACE first).
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use vitrine_engine::models::Scratch;
use vitrine_engine::snapshot::{encode_text, SnapshotSigner};
use vitrine_engine::testkit::{snapshot_key, Fixture, NOW, SNAPSHOT_KID};
use vitrine_engine::{api, Engine};

fn decide(c: &mut Criterion) {
    let fx = Fixture::bench();
    let mut engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    let req = fx.request(0, NOW, 1);
    engine.decide(&req).unwrap();
    let mut g = c.benchmark_group("decide_native");
    g.bench_function("cached_snapshot", |b| b.iter(|| black_box(engine.decide(black_box(&req)).unwrap())));
    let json = fx.request_json(0, NOW, 1);
    g.bench_function("cached_snapshot_json_in_out", |b| b.iter(|| black_box(api::decide_json(&mut engine, black_box(json.as_bytes())))));

    // Fresh: every iteration presents snapshot bytes the engine has never seen.
    let signer = SnapshotSigner::new(SNAPSHOT_KID, snapshot_key()).unwrap();
    let mut n = 0u64;
    g.bench_function("fresh_snapshot", |b| {
        b.iter_batched(
            || {
                n += 1;
                let mut content = fx.clients[(n % 16) as usize].clone();
                content.issued_at -= n;
                let mut r = req.clone();
                r.snapshot = Some(encode_text(&signer.sign(&fx.bundle.schema, &content).unwrap()));
                r
            },
            |r| black_box(engine.decide(&r).unwrap()),
            BatchSize::SmallInput,
        )
    });

    // The same fixture, every offer scored by a T-learner (two 100-output logistic models).
    let up = Fixture::bench_uplift();
    let mut uplift = Engine::load(&up.bundle_bytes, &up.bundle_public_key).unwrap();
    let up_req = up.request(0, NOW, 1);
    uplift.decide(&up_req).unwrap();
    g.bench_function("cached_snapshot_uplift_t_learner", |b| b.iter(|| black_box(uplift.decide(black_box(&up_req)).unwrap())));
    let up_json = up.request_json(0, NOW, 1);
    g.bench_function("cached_snapshot_uplift_t_learner_json_in_out", |b| {
        b.iter(|| black_box(api::decide_json(&mut uplift, black_box(up_json.as_bytes()))))
    });
    g.finish();

    let mut s = c.benchmark_group("stages_native");
    let features: Vec<f32> = fx.clients[0].values.iter().map(|v| v.unwrap_or(f32::NAN)).collect();
    let mut scratch = Scratch::default();
    let mut out = vec![0.0f32; 100];
    s.bench_function("logistic_100x300", |b| b.iter(|| fx.bundle.models[0].score(black_box(&features), &[], &mut scratch, &mut out)));
    s.bench_function("gbdt_100x6", |b| b.iter(|| fx.bundle.models[1].score(black_box(&features), &[], &mut scratch, &mut out)));
    let bytes = fx.snapshot_bytes(0);
    let key = ed25519_dalek::VerifyingKey::from_bytes(&snapshot_key().verifying_key().to_bytes()).unwrap();
    let sig = ed25519_dalek::Signature::from_bytes(&bytes[bytes.len() - 64..].try_into().unwrap());
    let msg = [vitrine_engine::snapshot::SIGNING_DOMAIN, &bytes[..bytes.len() - 64]].concat();
    s.bench_function("ed25519_verify_strict", |b| b.iter(|| key.verify_strict(black_box(&msg), &sig).unwrap()));
    s.finish();
}

criterion_group!(benches, decide);
criterion_main!(benches);
