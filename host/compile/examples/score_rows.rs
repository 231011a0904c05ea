//! Times the engine's compiled form of each committed test model per row (batch 1) on the
//! model's reference rows, and prints one JSON line per model. The engine half of
//! `host/compile/models/bench_ort.py`, which runs onnxruntime on the same models and rows.
//!
//! `cargo run --release -p vitrine-compile --example score_rows -- [MODEL ...]`
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use vitrine_compile::onnx::lower;
use vitrine_engine::models::Scratch;

const DEFAULT: [&str; 7] = ["scaled_logit", "offers_logit", "with_scaler_op", "gbdt_lgbm", "rf_regressor", "mlp", "prep_pipeline"];

fn main() -> anyhow::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/out");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<&str> = if args.is_empty() { DEFAULT.to_vec() } else { args.iter().map(String::as_str).collect() };
    for name in names {
        let path = dir.join(format!("{name}.onnx"));
        let reference: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path.with_extension("reference.json"))?)?;
        let rows: Vec<Vec<f32>> = reference["rows"]
            .as_array()
            .ok_or_else(|| anyhow::anyhow!("{name}: no rows"))?
            .iter()
            .map(|r| r.as_array().into_iter().flatten().map(|x| x.as_f64().map_or(f32::NAN, |x| x as f32)).collect())
            .collect();
        let width = rows.first().map_or(0, Vec::len);
        let slots: Vec<u16> = (0..width as u16).collect();
        let lowered = lower(&path, name, &slots, None)?;
        let mut scratch = Scratch::default();
        let mut out = vec![0.0f32; lowered.model.n_outputs as usize];
        // Warm up, then time at least 200 ms.
        let mut n = 0u64;
        let started = Instant::now();
        while started.elapsed().as_millis() < 200 || n < 100_000 {
            for row in &rows {
                lowered.model.score(black_box(row), &[], &mut scratch, &mut out);
                black_box(out[0]);
            }
            n += rows.len() as u64;
        }
        let started = Instant::now();
        for _ in 0..n / rows.len() as u64 {
            for row in &rows {
                lowered.model.score(black_box(row), &[], &mut scratch, &mut out);
                black_box(out[0]);
            }
        }
        let ns = started.elapsed().as_nanos() as f64 / n as f64;
        println!("{}", serde_json::json!({ "model": name, "rows": rows.len(), "ns_per_row": ns }));
    }
    Ok(())
}
