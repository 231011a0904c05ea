//! Compiled models (the engine's compact forms) vs tract-onnx running the original ONNX
//! graph, per row at batch 1, on the committed test models and their reference rows.
//! `cargo bench -p vitrine-compile --bench models` (unset RUST_BACKTRACE: tract captures a
//! backtrace per internal error otherwise).
use std::path::{Path, PathBuf};

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tract_onnx::prelude::*;
use vitrine_compile::onnx::lower;
use vitrine_engine::models::Scratch;

/// (benchmark label, model file stem)
const MODELS: [(&str, &str); 4] =
    [("logistic", "scaled_logit"), ("gbdt_30_trees", "gbdt_lgbm"), ("mlp_8", "mlp"), ("three_logistic", "offers_logit")];

fn model_path(stem: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/out").join(format!("{stem}.onnx"))
}

/// The 32 reference rows of a model (8 columns; none missing for these models).
fn rows(stem: &str) -> Vec<Vec<f32>> {
    let text = std::fs::read_to_string(model_path(stem).with_extension("reference.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["rows"].as_array().unwrap().iter().map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()).collect()
}

fn models(c: &mut Criterion) {
    let slots: Vec<u16> = (0..8).collect();
    let mut g = c.benchmark_group("model_row");
    for (label, stem) in MODELS {
        let rows = rows(stem);
        let lowered = lower(&model_path(stem), stem, &slots, None).unwrap();
        let mut scratch = Scratch::default();
        let mut out = vec![0.0f32; lowered.model.n_outputs as usize];
        let mut k = 0usize;
        g.bench_function(format!("{label}/engine"), |b| {
            b.iter(|| {
                k = (k + 1) % rows.len();
                lowered.model.score(black_box(&rows[k]), &[], &mut scratch, &mut out);
                black_box(out[0])
            })
        });
        let plan = tract_onnx::onnx()
            .model_for_path(model_path(stem))
            .and_then(|m| m.with_input_fact(0, f32::fact([1, 8]).into()))
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .unwrap();
        let mut k = 0usize;
        g.bench_function(format!("{label}/tract"), |b| {
            b.iter(|| {
                k = (k + 1) % rows.len();
                let input = tract_ndarray::Array2::from_shape_vec((1, 8), rows[k].clone()).unwrap();
                black_box(plan.run(tvec!(Tensor::from(input).into())).unwrap())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, models);
criterion_main!(benches);
