//! ONNX graph → engine [`Model`]. Every tensor is followed symbolically: the input row
//! and its preprocessing (column selection, Imputer, Scaler, Sub/Div/Add/Mul by a
//! constant, Cast, OneHotEncoder, Concat) become per-column [`Input`]s; linear
//! classifiers stack into one multi-output linear model, a tree ensemble becomes the
//! engine's flat ensemble (re-indexed breadth-first so children follow parents), and
//! MatMul/Gemm + Add + activation chains become dense MLP layers. The label path
//! (ArgMax, ArrayFeatureExtractor of the class list, …) is recognised and dropped. Any
//! other op is refused by name.
//!
//! One file per op family under `ops/` (tract registers one function per ONNX op the
//! same way); this file walks the graph, keeps the symbolic state and assembles the model.
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use tract_onnx::pb::NodeProto;
use tract_onnx::prelude::*;
use vitrine_engine::models::{Body, Dense, Input, Model, Post, TreeEnsemble};

use super::graph::{constants, Const};
use super::ops;
use super::OnnxError;

/// A lowered model and where each of its outputs comes from in the ONNX graph.
#[derive(Debug, Clone)]
pub struct Lowered {
    pub model: Model,
    /// For engine output `i`: (ONNX graph output name, column).
    pub outputs: Vec<(String, usize)>,
}

/// One column of the (preprocessed) input row; `j` is the ONNX input column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Col {
    /// `(x_j - offset) * scale`, missing `x_j` imputed with the raw value `impute`.
    Feature { j: usize, impute: Option<f32>, offset: f32, scale: f32 },
    /// 1.0 if `x_j == category`.
    OneHot { j: usize, category: i64 },
}

/// What a tensor holds, as far as lowering is concerned.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Row(Vec<Col>),
    /// Engine outputs `base..base + width`, at ONNX columns `col..`.
    Score {
        base: usize,
        width: usize,
        col: usize,
    },
    /// `1 - engine output k` (the negative class of a binary sigmoid MLP).
    Complement(usize),
    /// Predicted labels: not scored by the engine.
    Label,
}

/// A model body being built.
pub(super) enum Part {
    Linear { rows: Vec<Vec<f32>>, bias: Vec<f32>, post: Post },
    Trees { ensemble: TreeEnsemble, post: Post, n_out: usize },
    Mlp { layers: Vec<Dense>, head: String },
}

/// The symbolic state of a graph being lowered: what every tensor holds so far, the
/// model bodies found, and the preprocessed row they read.
pub(super) struct Lowering<'g> {
    pub path: &'g Path,
    pub consts: HashMap<String, Const>,
    pub values: HashMap<String, Value>,
    pub parts: Vec<Part>,
    pub model_row: Option<Vec<Col>>,
}

impl Lowering<'_> {
    /// What input `i` of `node` holds, if known.
    pub fn arg(&self, node: &NodeProto, i: usize) -> Option<&Value> {
        node.input.get(i).and_then(|n| self.values.get(n))
    }

    /// Input `i` of `node` as a constant, if it is one.
    pub fn konst(&self, node: &NodeProto, i: usize) -> Option<&Const> {
        node.input.get(i).and_then(|n| self.consts.get(n))
    }

    /// A malformed-node error naming `node`.
    pub fn malformed(&self, node: &NodeProto, message: impl Into<String>) -> OnnxError {
        OnnxError::Malformed { path: self.path.into(), node: node.name.clone(), message: message.into() }
    }

    /// The output of the last MLP layer, if the last body is an MLP.
    pub fn mlp_head(&self) -> Option<&String> {
        match self.parts.last() {
            Some(Part::Mlp { head, .. }) => Some(head),
            _ => None,
        }
    }

    /// Records that a model body reads `cols`: all bodies in one graph must read the same row.
    pub fn same_row(&mut self, node: &NodeProto, cols: &[Col]) -> Result<(), OnnxError> {
        match &self.model_row {
            Some(r) if r != cols => Err(self.malformed(node, "models in one graph must read the same preprocessed input row")),
            Some(_) => Ok(()),
            None => {
                self.model_row = Some(cols.to_vec());
                Ok(())
            }
        }
    }
}

/// Lowers the ONNX model at `path` whose input columns read the engine's feature slots
/// `input_slots`, in order; column `treatment` (an S-learner's flag) reads the
/// engine's treatment value instead (its entry in `input_slots` is not read).
pub fn lower(path: &Path, name: &str, input_slots: &[u16], treatment: Option<usize>) -> Result<Lowered, OnnxError> {
    let read = |message: String| OnnxError::Read { path: path.into(), message };
    let proto = tract_onnx::onnx().proto_model_for_path(path).map_err(|e| read(e.to_string()))?;
    let graph = proto.graph.as_ref().ok_or_else(|| read("no graph".into()))?;
    let consts = constants(graph);
    let inputs: Vec<&String> = graph.input.iter().map(|i| &i.name).filter(|n| !consts.contains_key(*n)).collect();
    let [input] = inputs[..] else {
        return Err(read(format!(
            "{} input tensors; the engine reads one float row (export with a single [N, {}] input)",
            inputs.len(),
            input_slots.len()
        )));
    };
    let n_in = input_slots.len();
    let mut st = Lowering { path, consts, values: HashMap::new(), parts: Vec::new(), model_row: None };
    st.values.insert(input.clone(), Value::Row((0..n_in).map(|j| Col::Feature { j, impute: None, offset: 0.0, scale: 1.0 }).collect()));
    for node in &graph.node {
        if let Some(result) = ops::apply(&mut st, node)? {
            for o in &node.output {
                st.values.insert(o.clone(), result.clone());
            }
        }
    }
    let Some(part) = st.parts.pop() else {
        return Err(read("no model node (LinearClassifier, LinearRegressor, TreeEnsemble*, MatMul/Gemm)".into()));
    };
    let mut outputs: BTreeMap<usize, (String, usize)> = BTreeMap::new();
    for o in &graph.output {
        if let Some(&Value::Score { base, width, col }) = st.values.get(&o.name) {
            for c in 0..width {
                outputs.insert(base + c, (o.name.clone(), c + col));
            }
        }
    }
    let cols = st.model_row.unwrap_or_default();
    let inputs = cols
        .iter()
        .map(|c| match *c {
            Col::Feature { j, offset, scale, .. } if Some(j) == treatment => Ok(Input::Treatment { offset, scale }),
            Col::OneHot { j, .. } if Some(j) == treatment => {
                Err(read("the treatment column is one-hot encoded; it must be a number".into()))
            }
            Col::Feature { j, impute, offset, scale } => Ok(Input::Feature { slot: input_slots[j], impute, offset, scale }),
            Col::OneHot { j, category } => u16::try_from(category)
                .map(|category| Input::OneHot { slot: input_slots[j], category })
                .map_err(|_| read(format!("one-hot category {category} is not a vocabulary index"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (body, post, n_outputs) = match part {
        Part::Linear { rows, bias, post } => (Body::Linear { weights: rows.concat(), bias: bias.clone() }, post, bias.len()),
        Part::Trees { ensemble, post, n_out } => (Body::Trees(ensemble), post, n_out),
        Part::Mlp { layers, .. } => {
            let n = layers.last().map_or(0, |l| l.n_out as usize);
            (Body::Mlp { layers }, Post::Identity, n)
        }
    };
    let model = Model { name: name.to_string(), inputs, body, post, n_outputs: n_outputs as u16 };
    Ok(Lowered { model, outputs: outputs.into_values().collect() })
}

/// Applies `f` with a per-column (or broadcast scalar) constant.
pub(super) fn per_column(cols: &[Col], v: &[f32], f: impl Fn(Col, f32) -> Result<Col, String>) -> Result<Vec<Col>, String> {
    if v.len() != 1 && v.len() != cols.len() {
        return Err(format!("constant of {} values for a row of {}", v.len(), cols.len()));
    }
    cols.iter().enumerate().map(|(k, &c)| f(c, if v.len() == 1 { v[0] } else { v[k] })).collect()
}
