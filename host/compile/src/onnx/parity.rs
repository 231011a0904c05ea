//! The parity gate: the compiled model must reproduce the original ONNX model within
//! [`TOLERANCE`] on the model's sample rows (against `<model>.reference.json`, written by
//! onnxruntime) and, where tract-onnx runs the graph's ops, on those rows plus seeded
//! random rows drawn from the schema (against tract).
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tract_onnx::prelude::*;
use vitrine_engine::models::Scratch;
use vitrine_engine::schema::{FeatureKind, Quant, Schema};

use super::{Lowered, OnnxError};

/// Largest accepted |engine − reference|.
pub const TOLERANCE: f64 = 1e-5;

/// Fewest rows a reference file must hold: a gate of a row or two checks nothing.
pub const MIN_REFERENCE_ROWS: usize = 32;

/// Random rows scored against tract, besides the sample rows.
pub const RANDOM_ROWS: usize = 64;

#[derive(Deserialize)]
struct Reference {
    /// `null` is a missing value.
    rows: Vec<Vec<Option<f64>>>,
    outputs: std::collections::BTreeMap<String, serde_json::Value>,
}

/// What the gate measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Parity {
    /// Rows compared against the shipped reference outputs.
    pub reference_rows: usize,
    /// Rows compared against tract-onnx running the original graph (0 if tract cannot).
    pub tract_rows: usize,
    /// Why tract could not run the graph, if it could not.
    pub tract_unavailable: Option<String>,
    pub max_diff: f64,
}

/// `<model>.onnx` → `<model>.reference.json`.
pub fn reference_path(model: &Path) -> PathBuf {
    model.with_extension("reference.json")
}

/// Runs the gate. `input_slots` maps ONNX columns to feature slots of `schema`.
/// Column `treatment` (an S-learner's flag) is fed to the engine as the treatment value.
pub fn check_parity(
    path: &Path,
    lowered: &Lowered,
    input_slots: &[u16],
    treatment: Option<usize>,
    schema: &Schema,
) -> Result<Parity, OnnxError> {
    let reference = reference_path(path);
    let shipped = match std::fs::read_to_string(&reference) {
        Ok(text) => Some(
            serde_json::from_str::<Reference>(&text).map_err(|e| OnnxError::Read { path: reference.clone(), message: e.to_string() })?,
        ),
        Err(_) => None,
    };
    let mut gate = Gate {
        lowered,
        input_slots,
        treatment,
        n_features: schema.features.len(),
        worst: (0.0, String::new()),
        scratch: Scratch::default(),
    };
    let mut sample_rows: Vec<Vec<f32>> = Vec::new();
    if let Some(r) = &shipped {
        check_reference(r, lowered, input_slots.len(), &reference)?;
        for (k, row) in r.rows.iter().enumerate() {
            let row: Vec<f32> = (0..input_slots.len()).map(|j| row.get(j).copied().flatten().map_or(f32::NAN, |v| v as f32)).collect();
            let out = gate.score(&row);
            for (i, (name, col)) in lowered.outputs.iter().enumerate() {
                let want =
                    r.outputs.get(name).and_then(|v| v.get(k)).and_then(|v| v.get(*col).or(Some(v)).and_then(serde_json::Value::as_f64));
                let Some(want) = want else {
                    return Err(OnnxError::Reference {
                        path: reference.clone(),
                        message: format!(
                            "output `{name}`, row {k}, column {col}: no number there (onnxruntime writes one per row and column)"
                        ),
                    });
                };
                gate.compare(out[i], want, name, *col);
            }
            sample_rows.push(row);
        }
    }
    let mut rows = sample_rows.clone();
    rows.extend(random_rows(schema, input_slots, RANDOM_ROWS));
    if let Some(t) = treatment {
        // The flag is 0 or 1, whatever feature its placeholder slot names.
        for (k, row) in rows.iter_mut().enumerate().skip(sample_rows.len()) {
            row[t] = (k % 2) as f32;
        }
    }
    let (tract_rows, tract_unavailable) = match against_tract(path, &mut gate, &rows) {
        Ok(()) => (rows.len(), None),
        Err(why) if shipped.is_none() => return Err(OnnxError::NoReference { path: path.into(), reference, tract: why }),
        Err(why) => (0, Some(why)),
    };
    let (max_diff, output) = gate.worst;
    if max_diff.is_nan() || max_diff > TOLERANCE {
        return Err(OnnxError::Parity { path: path.into(), output, max_diff });
    }
    Ok(Parity { reference_rows: sample_rows.len(), tract_rows, tract_unavailable, max_diff })
}

/// The reference file's shape against the model's: enough rows, each as wide as the
/// model's input, and every output the model has, with one entry per row.
fn check_reference(r: &Reference, lowered: &Lowered, n_inputs: usize, path: &Path) -> Result<(), OnnxError> {
    let bad = |message: String| Err(OnnxError::Reference { path: path.to_path_buf(), message });
    if r.rows.len() < MIN_REFERENCE_ROWS {
        return bad(format!(
            "{} reference row(s); the parity gate needs at least {MIN_REFERENCE_ROWS} (score more sample rows with onnxruntime)",
            r.rows.len()
        ));
    }
    if let Some((k, row)) = r.rows.iter().enumerate().find(|(_, row)| row.len() != n_inputs) {
        return bad(format!("row {k} has {} values; the model takes {n_inputs} input columns", row.len()));
    }
    for name in lowered_names(lowered) {
        let Some(values) = r.outputs.get(name) else {
            let given: Vec<&str> = r.outputs.keys().map(String::as_str).collect();
            return bad(format!(
                "no output `{name}` (the file has {}; the model's outputs are {})",
                list(&given),
                list(&lowered_names(lowered))
            ));
        };
        let n = values.as_array().map_or(0, Vec::len);
        if n != r.rows.len() {
            return bad(format!("output `{name}` has {n} row(s), the file has {} input rows", r.rows.len()));
        }
    }
    Ok(())
}

/// The model's output names, each once, in order.
fn lowered_names(lowered: &Lowered) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for (n, _) in &lowered.outputs {
        if !names.contains(&n.as_str()) {
            names.push(n);
        }
    }
    names
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

struct Gate<'a> {
    lowered: &'a Lowered,
    input_slots: &'a [u16],
    treatment: Option<usize>,
    n_features: usize,
    worst: (f64, String),
    scratch: Scratch,
}

impl Gate<'_> {
    /// The engine's outputs for one ONNX input row.
    fn score(&mut self, row: &[f32]) -> Vec<f32> {
        let mut features = vec![f32::NAN; self.n_features];
        let mut treatment = 1.0;
        for (j, &slot) in self.input_slots.iter().enumerate() {
            if Some(j) == self.treatment {
                treatment = row[j];
            } else {
                features[slot as usize] = row[j];
            }
        }
        let mut out = vec![0.0f32; self.lowered.model.n_outputs as usize];
        self.lowered.model.score_at(&features, &[], treatment, &mut self.scratch, &mut out);
        out
    }

    fn compare(&mut self, got: f32, want: f64, name: &str, col: usize) {
        let diff = (f64::from(got) - want).abs();
        if diff.is_nan() || diff > self.worst.0 {
            self.worst = (diff, format!("{name}[{col}]"));
        }
    }
}

/// Scores `rows` with tract-onnx and the engine; `Err` says why tract cannot run the model.
fn against_tract(path: &Path, gate: &mut Gate<'_>, rows: &[Vec<f32>]) -> Result<(), String> {
    let n_in = gate.input_slots.len();
    let plan = tract_onnx::onnx()
        .model_for_path(path)
        .and_then(|m| m.with_input_fact(0, f32::fact([1, n_in]).into()))
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .map_err(|e| format!("{e:#}"))?;
    let names: Vec<String> = plan
        .model()
        .outputs
        .iter()
        .map(|o| plan.model().outlet_label(*o).map_or_else(|| plan.model().node(o.node).name.clone(), str::to_string))
        .collect();
    for row in rows {
        let input = tract_ndarray::Array2::from_shape_vec((1, n_in), row.clone()).map_err(|e| e.to_string())?;
        let result = plan.run(tvec!(Tensor::from(input).into())).map_err(|e| format!("{e:#}"))?;
        let out = gate.score(row);
        for (i, (name, col)) in gate.lowered.outputs.iter().enumerate() {
            let k = names.iter().position(|n| n == name).ok_or_else(|| format!("tract has no output `{name}`"))?;
            let values = result[k].to_plain_array_view::<f32>().map_err(|e| e.to_string())?;
            let want = values.iter().nth(*col).copied().ok_or_else(|| format!("tract output `{name}` has no column {col}"))?;
            gate.compare(out[i], f64::from(want), name, *col);
        }
    }
    Ok(())
}

/// Seeded rows drawn from each input feature's domain (its quantisation grid, its
/// vocabulary indices, 0/1).
pub fn random_rows(schema: &Schema, input_slots: &[u16], n: usize) -> Vec<Vec<f32>> {
    let mut state = 0x5eed_0f7a_1e00_u64;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    (0..n)
        .map(|_| {
            input_slots
                .iter()
                .map(|&slot| {
                    let (lo, step, count) = match schema.features.get(slot as usize).map(|f| &f.kind) {
                        Some(FeatureKind::Numeric { quant: Quant::U8 { scale, offset } }) => (*offset, *scale, 256),
                        Some(FeatureKind::Numeric { quant: Quant::U16 { scale, offset } }) => (*offset, *scale, 65_536),
                        Some(FeatureKind::Categorical { vocab }) => (0.0, 1.0, vocab.len().max(1) as u64),
                        Some(FeatureKind::Boolean) => (0.0, 1.0, 2),
                        Some(FeatureKind::Numeric { quant: Quant::F32 }) | None => (0.0, 0.25, 1_001),
                    };
                    lo + step * (next() % count) as f32
                })
                .collect()
        })
        .collect()
}
