//! Stage 4: propensity models in compact compiled forms.
//!
//! A model reads a row assembled by its [`Input`] columns (the scikit-learn
//! preprocessing: imputer, scaler, one-hot, concatenation) and writes `n_outputs`
//! scores, so one model can score many offers. All transcendental maths goes
//! through `libm`, and every reduction has a fixed order, so native and Wasm agree
//! to the bit.
mod error;
mod linear;
mod mlp;
mod trees;
mod validate;

pub use error::ModelError;
pub use linear::{dot, dot_reference};
use serde::{Deserialize, Serialize};
pub use trees::{LeafWeight, Node, NodeMode, TreeEnsemble};

/// A compiled model.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Model {
    pub name: String,
    pub inputs: Vec<Input>,
    pub body: Body,
    pub post: Post,
    pub n_outputs: u16,
}

/// Where one input column comes from, and its preprocessing.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    /// `(x - offset) * scale`, with missing `x` replaced by `impute` first (if set;
    /// otherwise it stays `NaN`, which tree ensembles route as ONNX-ML defines).
    Feature { slot: u16, impute: Option<f32>, offset: f32, scale: f32 },
    /// As `Feature`, over a request-context field.
    Context { slot: u16, impute: Option<f32>, offset: f32, scale: f32 },
    /// 1.0 if the categorical feature equals `category`, else 0.0 (missing gives 0.0).
    OneHot { slot: u16, category: u16 },
    /// An S-learner's treatment flag, `(t - offset) * scale`: `t` is 1 (contacted)
    /// unless the engine evaluates the control (`t` = 0).
    Treatment { offset: f32, scale: f32 },
    /// 1.0 if the feature is missing from the snapshot, else 0.0: the missing-value
    /// indicator of the host's learned models.
    Missing { slot: u16 },
}

/// The model proper.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    /// `out[o] = bias[o] + Σ weights[o × n_inputs + j] · x[j]`.
    Linear {
        weights: Vec<f32>,
        bias: Vec<f32>,
    },
    Trees(TreeEnsemble),
    Mlp {
        layers: Vec<Dense>,
    },
}

/// One dense layer of an MLP.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Dense {
    pub n_in: u32,
    pub n_out: u32,
    /// Row-major `n_out × n_in`.
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
    pub activation: Activation,
}

/// Activation after a dense layer.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Identity,
    Relu,
    Sigmoid,
    Tanh,
    Softmax,
}

/// Transform applied to the model's raw outputs (ONNX-ML `post_transform`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Post {
    Identity,
    Logistic,
    Softmax,
    SoftmaxZero,
}

/// Reusable buffers so scoring does not allocate once warm.
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    row: Vec<f32>,
    a: Vec<f32>,
    b: Vec<f32>,
}

pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + libm::expf(-x))
}

/// In-place softmax with a fixed summation order; `zero` keeps exact zeros at zero.
pub(crate) fn softmax(v: &mut [f32], zero: bool) {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for x in v.iter_mut() {
        *x = if zero && *x == 0.0 { 0.0 } else { libm::expf(*x - max) };
        sum += *x;
    }
    if sum > 0.0 {
        for x in v.iter_mut() {
            *x /= sum;
        }
    }
}

/// One model's outputs for the current request, computed on demand: a linear model
/// with an element-wise post transform scores only the outputs that eligible offers
/// ask for (each output's bits are the same as in [`Model::score`]).
#[derive(Debug, Default, Clone)]
pub struct Lazy {
    row: Vec<f32>,
    out: Vec<f32>,
    have: Vec<bool>,
    row_ready: bool,
    all_done: bool,
    /// Whether the inputs are exactly the feature slots in order, untransformed (then
    /// the features are the row). Fixed per model, found on first use.
    identity: Option<bool>,
    /// The inputs as flat arrays when all of them read features (built on first use).
    plan: Option<Option<FeaturePlan>>,
}

/// Feature-only inputs laid out flat, so assembling a row is a tight loop.
/// `impute` is NaN where the input has none (a missing value then stays NaN).
#[derive(Debug, Default, Clone)]
struct FeaturePlan {
    slot: Vec<usize>,
    impute: Vec<f32>,
    offset: Vec<f32>,
    scale: Vec<f32>,
}

impl FeaturePlan {
    fn new(inputs: &[Input]) -> Option<FeaturePlan> {
        let mut p = FeaturePlan::default();
        for input in inputs {
            let Input::Feature { slot, impute, offset, scale } = *input else { return None };
            p.slot.push(slot as usize);
            p.impute.push(impute.unwrap_or(f32::NAN));
            p.offset.push(offset);
            p.scale.push(scale);
        }
        Some(p)
    }

    /// Same values as [`column`] for every input.
    fn assemble(&self, features: &[f32], row: &mut Vec<f32>) {
        row.clear();
        for j in 0..self.slot.len() {
            let raw = features.get(self.slot[j]).copied().unwrap_or(f32::NAN);
            let x = if raw.is_nan() { self.impute[j] } else { raw };
            row.push((x - self.offset[j]) * self.scale[j]);
        }
    }
}

impl Lazy {
    /// Forgets the previous request.
    pub fn reset(&mut self) {
        self.row_ready = false;
        self.all_done = false;
    }
}

impl Model {
    /// Output `o` for this request, computing only what it needs; `treatment` feeds a
    /// [`Input::Treatment`] column (1 = contacted, 0 = not; one `lazy` per value).
    pub fn output(&self, o: usize, features: &[f32], context: &[f32], treatment: f32, lazy: &mut Lazy, scratch: &mut Scratch) -> f32 {
        let n_out = self.n_outputs as usize;
        if let (Body::Linear { weights, bias }, Post::Identity | Post::Logistic) = (&self.body, self.post) {
            if !lazy.row_ready {
                match lazy.plan.get_or_insert_with(|| FeaturePlan::new(&self.inputs)) {
                    Some(plan) => plan.assemble(features, &mut lazy.row),
                    None => {
                        lazy.row.clear();
                        lazy.row.extend(self.inputs.iter().map(|input| column(input, features, context, treatment)));
                    }
                }
                lazy.out.clear();
                lazy.out.resize(n_out, 0.0);
                lazy.have.clear();
                lazy.have.resize(n_out, false);
                lazy.row_ready = true;
            }
            if o < n_out && !lazy.have[o] {
                let n = lazy.row.len();
                let w = weights.get(o * n..(o + 1) * n).unwrap_or(&[]);
                let y = bias.get(o).copied().unwrap_or(0.0) + dot(w, &lazy.row);
                lazy.out[o] = if self.post == Post::Logistic { sigmoid(y) } else { y };
                lazy.have[o] = true;
            }
        } else if !lazy.all_done {
            lazy.out.clear();
            lazy.out.resize(n_out, 0.0);
            let identity = *lazy.identity.get_or_insert_with(|| self.reads_features_as_is(features.len()));
            if identity {
                self.score_row(features, scratch, &mut lazy.out);
            } else {
                self.score_at(features, context, treatment, scratch, &mut lazy.out);
            }
            lazy.all_done = true;
        }
        lazy.out.get(o).copied().unwrap_or(0.0)
    }

    /// Number of input columns.
    pub fn n_inputs(&self) -> usize {
        self.inputs.len()
    }

    fn reads_features_as_is(&self, n_features: usize) -> bool {
        self.inputs.len() == n_features
            && self.inputs.iter().enumerate().all(|(i, input)| matches!(*input, Input::Feature { slot, impute: None, offset, scale } if slot as usize == i && offset == 0.0 && scale == 1.0))
    }

    /// Whether one input column is an S-learner's treatment flag.
    pub fn has_treatment_input(&self) -> bool {
        self.inputs.iter().any(|i| matches!(i, Input::Treatment { .. }))
    }

    /// Scores one client into `out` (`n_outputs` long), a treatment input at 1.
    pub fn score(&self, features: &[f32], context: &[f32], scratch: &mut Scratch, out: &mut [f32]) {
        self.score_at(features, context, 1.0, scratch, out);
    }

    /// As [`Model::score`], with the treatment input at `treatment`.
    pub fn score_at(&self, features: &[f32], context: &[f32], treatment: f32, scratch: &mut Scratch, out: &mut [f32]) {
        let mut row = std::mem::take(&mut scratch.row);
        row.clear();
        row.extend(self.inputs.iter().map(|input| column(input, features, context, treatment)));
        self.score_row(&row, scratch, out);
        scratch.row = row;
    }

    /// Scores an assembled input row into `out`.
    fn score_row(&self, row: &[f32], scratch: &mut Scratch, out: &mut [f32]) {
        let Scratch { a, b, .. } = scratch;
        let n_out = (self.n_outputs as usize).min(out.len());
        let out = &mut out[..n_out];
        match &self.body {
            Body::Linear { weights, bias } => linear::score(weights, bias, row, out),
            Body::Trees(t) => t.score(row, out),
            Body::Mlp { layers } => mlp::score(layers, row, a, b, out),
        }
        match self.post {
            Post::Identity => {}
            Post::Logistic => out.iter_mut().for_each(|x| *x = sigmoid(*x)),
            Post::Softmax => softmax(out, false),
            Post::SoftmaxZero => softmax(out, true),
        }
    }
}

fn column(input: &Input, features: &[f32], context: &[f32], treatment: f32) -> f32 {
    let read = |values: &[f32], slot: u16| values.get(slot as usize).copied().unwrap_or(f32::NAN);
    match *input {
        Input::Feature { slot, impute, offset, scale } | Input::Context { slot, impute, offset, scale } => {
            let raw = if matches!(input, Input::Feature { .. }) { read(features, slot) } else { read(context, slot) };
            let x = match impute {
                Some(v) if raw.is_nan() => v,
                _ => raw,
            };
            (x - offset) * scale
        }
        Input::OneHot { slot, category } => {
            if read(features, slot) == category as f32 {
                1.0
            } else {
                0.0
            }
        }
        Input::Treatment { offset, scale } => (treatment - offset) * scale,
        Input::Missing { slot } => {
            if read(features, slot).is_nan() {
                1.0
            } else {
                0.0
            }
        }
    }
}

#[cfg(test)]
mod tests;
