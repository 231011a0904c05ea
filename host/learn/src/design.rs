//! How a learned model reads the client: its design matrix, and the same columns as the
//! engine's model inputs (so what the host fits is what every runtime scores).
//!
//! - a numeric or boolean feature is standardised, `(x − mean) / sd` (sd 1 when the
//!   feature is constant), a missing value imputed to the mean (0 after standardising);
//! - it gets a missing-value indicator column ([`Input::Missing`]) when the training data
//!   has a missing value for it (a column that is always 0 would only cost weight);
//! - a categorical feature is one-hot over its vocabulary (missing: all zeros).
//!
//! Columns are computed in `f32` with the engine's own formula, so a training row and
//! the row the engine assembles for the same snapshot hold the same numbers.
use vitrine_engine::models::Input;
use vitrine_engine::schema::{FeatureKind, Schema};

/// The columns of a learned model, fitted on the feature rows it is trained on.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    pub inputs: Vec<Input>,
    /// Column names for reports (`feature`, `feature=category`, `feature?missing`).
    pub names: Vec<String>,
}

impl Design {
    /// Fits the standardisation (and which indicators exist) on `rows`, each a schema-
    /// ordered feature vector with `NaN` for a missing value.
    pub fn fit<'a>(schema: &Schema, rows: impl Iterator<Item = &'a [f32]> + Clone) -> Design {
        let mut inputs = Vec::new();
        let mut names = Vec::new();
        for (slot, f) in schema.features.iter().enumerate() {
            let slot16 = slot as u16;
            match &f.kind {
                FeatureKind::Categorical { vocab } => {
                    for (c, label) in vocab.iter().enumerate() {
                        inputs.push(Input::OneHot { slot: slot16, category: c as u16 });
                        names.push(format!("{}={label}", f.name));
                    }
                }
                FeatureKind::Numeric { .. } | FeatureKind::Boolean => {
                    let (mut n, mut sum, mut sq, mut missing) = (0u64, 0f64, 0f64, false);
                    for r in rows.clone() {
                        match r.get(slot).copied().filter(|x| !x.is_nan()) {
                            Some(x) => {
                                n += 1;
                                sum += f64::from(x);
                                sq += f64::from(x) * f64::from(x);
                            }
                            None => missing = true,
                        }
                    }
                    let mean = if n == 0 { 0.0 } else { sum / n as f64 };
                    let var = if n == 0 { 0.0 } else { (sq / n as f64 - mean * mean).max(0.0) };
                    let sd = var.sqrt();
                    let scale = if sd > 1e-9 { (1.0 / sd) as f32 } else { 1.0 };
                    let mean = mean as f32;
                    inputs.push(Input::Feature { slot: slot16, impute: Some(mean), offset: mean, scale });
                    names.push(f.name.clone());
                    if missing {
                        inputs.push(Input::Missing { slot: slot16 });
                        names.push(format!("{}?missing", f.name));
                    }
                }
            }
        }
        Design { inputs, names }
    }

    /// Number of columns.
    pub fn width(&self) -> usize {
        self.inputs.len()
    }

    /// Appends `features`' row to `out` (the engine's column values, widened to f64).
    pub fn encode(&self, features: &[f32], out: &mut Vec<f64>) {
        let read = |slot: u16| features.get(slot as usize).copied().unwrap_or(f32::NAN);
        for input in &self.inputs {
            let x = match *input {
                Input::Feature { slot, impute, offset, scale } => {
                    let raw = read(slot);
                    let x = match impute {
                        Some(v) if raw.is_nan() => v,
                        _ => raw,
                    };
                    (x - offset) * scale
                }
                Input::OneHot { slot, category } => f32::from(u8::from(read(slot) == f32::from(category))),
                Input::Missing { slot } => f32::from(u8::from(read(slot).is_nan())),
                Input::Context { .. } | Input::Treatment { .. } => 0.0,
            };
            out.push(f64::from(x));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitrine_engine::models::{Body, Model, Post, Scratch};

    #[test]
    fn columns_match_what_the_engine_assembles() {
        let schema = vitrine_engine::testkit::Fixture::telco().bundle.schema;
        let n = schema.features.len();
        let mut rows: Vec<Vec<f32>> = (0..50).map(|i| (0..n).map(|j| ((i * 7 + j * 3) % 5) as f32).collect()).collect();
        rows[3][0] = f32::NAN;
        let design = Design::fit(&schema, rows.iter().map(|r| r.as_slice()));
        assert!(design.names.iter().any(|c| c.ends_with("?missing")), "{:?}", design.names);
        let d = design.width();
        let weights: Vec<f32> = (0..d).map(|j| 0.01 * j as f32 - 0.1).collect();
        let model = Model {
            name: "m".into(),
            inputs: design.inputs.clone(),
            body: Body::Linear { weights: weights.clone(), bias: vec![0.3] },
            post: Post::Identity,
            n_outputs: 1,
        };
        model.validate(&schema).unwrap();
        for r in &rows {
            let mut x = Vec::new();
            design.encode(r, &mut x);
            let mut out = [0f32];
            model.score(r, &[], &mut Scratch::default(), &mut out);
            let ours: f64 = 0.3 + x.iter().zip(&weights).map(|(a, w)| a * f64::from(*w)).sum::<f64>();
            assert!((ours - f64::from(out[0])).abs() < 1e-4, "{ours} vs {}", out[0]);
        }
    }
}
