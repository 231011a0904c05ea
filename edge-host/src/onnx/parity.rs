//! The parity gate against reference outputs.
use std::path::{Path, PathBuf};

use serde::Deserialize;
use vitrine_engine::models::Scratch;

use super::{Lowered, OnnxError};

/// Largest accepted |engine − reference|.
pub const TOLERANCE: f64 = 1e-5;

#[derive(Deserialize)]
struct Reference {
    rows: Vec<Vec<f64>>,
    outputs: std::collections::BTreeMap<String, serde_json::Value>,
}

/// What the gate measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Parity {
    pub rows: usize,
    pub max_diff: f64,
}

/// `<model>.onnx` → `<model>.reference.json`.
pub fn reference_path(model: &Path) -> PathBuf {
    model.with_extension("reference.json")
}

/// Scores every reference row with the compiled model and compares each mapped output.
/// `n_features` is the schema width; `input_slots` maps ONNX columns to slots.
pub fn check_parity(path: &Path, lowered: &Lowered, input_slots: &[u16], n_features: usize) -> Result<Parity, OnnxError> {
    let reference = reference_path(path);
    let text = std::fs::read_to_string(&reference).map_err(|_| OnnxError::NoReference { path: path.into(), reference: reference.clone() })?;
    let r: Reference = serde_json::from_str(&text).map_err(|e| OnnxError::Read { path: reference.clone(), message: e.to_string() })?;
    let mut out = vec![0.0f32; lowered.model.n_outputs as usize];
    let mut scratch = Scratch::default();
    let mut worst = (0.0f64, String::new());
    for (k, row) in r.rows.iter().enumerate() {
        let mut features = vec![f32::NAN; n_features];
        for (j, &slot) in input_slots.iter().enumerate() {
            features[slot as usize] = row.get(j).copied().unwrap_or(f64::NAN) as f32;
        }
        lowered.model.score(&features, &[], &mut scratch, &mut out);
        for (i, (name, col)) in lowered.outputs.iter().enumerate() {
            let want = r.outputs.get(name).and_then(|v| v.get(k)).and_then(|v| v.get(*col).or(Some(v)).and_then(serde_json::Value::as_f64));
            let Some(want) = want else { return Err(OnnxError::Read { path: reference.clone(), message: format!("no value for `{name}`[{k}][{col}]") }) };
            let diff = (out[i] as f64 - want).abs();
            if diff.is_nan() || diff > worst.0 {
                worst = (diff, format!("{name}[{col}]"));
            }
        }
    }
    if worst.0.is_nan() || worst.0 > TOLERANCE {
        return Err(OnnxError::Parity { path: path.into(), output: worst.1, max_diff: worst.0 });
    }
    Ok(Parity { rows: r.rows.len(), max_diff: worst.0 })
}
