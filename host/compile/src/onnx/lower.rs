//! ONNX graph → engine [`Model`]. Every tensor is followed symbolically: the input row
//! and its preprocessing (column selection, Imputer, Scaler, Sub/Div/Add/Mul by a
//! constant, Cast, OneHotEncoder, Concat) become per-column [`Input`]s; linear
//! classifiers stack into one multi-output linear model, a tree ensemble becomes the
//! engine's flat ensemble (re-indexed breadth-first so children follow parents), and
//! MatMul/Gemm + Add + activation chains become dense MLP layers. The label path
//! (ArgMax, ArrayFeatureExtractor of the class list, …) is recognised and dropped. Any
//! other op is refused by name.
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use tract_onnx::pb::NodeProto;
use tract_onnx::prelude::*;
use vitrine_engine::models::{Activation, Body, Dense, Input, LeafWeight, Model, Node, NodeMode, Post, TreeEnsemble};

use super::graph::{constants, float, floats, int, ints, string, strings, Const};
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
enum Col {
    /// `(x_j - offset) * scale`, missing `x_j` imputed with the raw value `impute`.
    Feature { j: usize, impute: Option<f32>, offset: f32, scale: f32 },
    /// 1.0 if `x_j == category`.
    OneHot { j: usize, category: i64 },
}

/// What a tensor holds, as far as lowering is concerned.
#[derive(Debug, Clone, PartialEq)]
enum Value {
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

enum Part {
    Linear { rows: Vec<Vec<f32>>, bias: Vec<f32>, post: Post },
    Trees { ensemble: TreeEnsemble, post: Post, n_out: usize },
    Mlp { layers: Vec<Dense>, head: String },
}

fn post(path: &Path, node: &NodeProto) -> Result<Post, OnnxError> {
    match string(node, "post_transform", "NONE").as_str() {
        "NONE" => Ok(Post::Identity),
        "LOGISTIC" => Ok(Post::Logistic),
        "SOFTMAX" => Ok(Post::Softmax),
        "SOFTMAX_ZERO" => Ok(Post::SoftmaxZero),
        other => Err(OnnxError::Malformed {
            path: path.into(),
            node: node.name.clone(),
            message: format!("post_transform `{other}` is not supported"),
        }),
    }
}

/// Lowers the model at `path`; ONNX input column `j` reads feature slot `input_slots[j]`.
pub fn lower(path: &Path, name: &str, input_slots: &[u16]) -> Result<Lowered, OnnxError> {
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
    let mut values: HashMap<String, Value> = HashMap::new();
    values.insert(input.clone(), Value::Row((0..n_in).map(|j| Col::Feature { j, impute: None, offset: 0.0, scale: 1.0 }).collect()));
    let mut parts: Vec<Part> = Vec::new();
    let mut model_row: Option<Vec<Col>> = None;
    for node in &graph.node {
        let malformed = |message: String| OnnxError::Malformed { path: path.into(), node: node.name.clone(), message };
        let arg = |i: usize| node.input.get(i).and_then(|n| values.get(n));
        let konst = |i: usize| node.input.get(i).and_then(|n| consts.get(n));
        let row = match arg(0) {
            Some(Value::Row(cols)) => Some(cols.clone()),
            _ => None,
        };
        let result: Value = match (node.op_type.as_str(), arg(0)) {
            ("Constant", _) => continue,
            // The label path and shape-only ops.
            ("ArgMax", Some(Value::Score { .. })) => Value::Label,
            ("ArrayFeatureExtractor", _) if arg(1) == Some(&Value::Label) => Value::Label,
            ("Cast" | "Identity" | "Reshape" | "Flatten", Some(Value::Label)) => Value::Label,
            ("Cast" | "Identity" | "Reshape" | "Flatten", Some(v)) => v.clone(),
            // LightGBM multiplies its output by a constant 1.
            ("Mul", Some(v @ Value::Score { .. })) if konst(1).is_some_and(|c| c.floats.iter().all(|x| *x == 1.0)) => v.clone(),
            // Column selection.
            ("ArrayFeatureExtractor" | "Gather", Some(Value::Row(cols))) => {
                if node.op_type == "Gather" && int(node, "axis", 0) != 1 {
                    return Err(malformed("Gather on the input row must select columns (axis 1)".into()));
                }
                let idx = konst(1).ok_or_else(|| malformed("column indices must be a constant".into()))?;
                let picked =
                    idx.ints.iter().map(|&k| usize::try_from(k).ok().and_then(|k| cols.get(k).copied())).collect::<Option<Vec<_>>>();
                Value::Row(picked.ok_or_else(|| malformed(format!("column indices {:?} outside a row of {}", idx.ints, cols.len())))?)
            }
            ("Concat", _) => concat(node, &values).map_err(malformed)?,
            ("Imputer", Some(Value::Row(cols))) => {
                let with = floats(node, "imputed_value_floats");
                if !float(node, "replaced_value_float", f32::NAN).is_nan() {
                    return Err(malformed("only missing values (NaN) can be imputed".into()));
                }
                Value::Row(
                    per_column(cols, &with, |c, v| match c {
                        // The engine imputes the raw value, before scaling.
                        Col::Feature { j, offset, scale, .. } => Ok(Col::Feature { j, impute: Some(v / scale + offset), offset, scale }),
                        Col::OneHot { .. } => Err("cannot impute a one-hot column".to_string()),
                    })
                    .map_err(malformed)?,
                )
            }
            ("Scaler" | "Sub" | "Div" | "Add" | "Mul", Some(Value::Row(cols))) => {
                let (a, b) = match node.op_type.as_str() {
                    "Scaler" => (floats(node, "offset"), floats(node, "scale")),
                    _ => (
                        konst(1).map(|c| c.floats.clone()).ok_or_else(|| malformed("the second operand must be a constant".into()))?,
                        Vec::new(),
                    ),
                };
                let op = node.op_type.clone();
                let cols = per_column(cols, &a, |c, a| match c {
                    // The row is (x - offset) * scale; fold the op in.
                    Col::Feature { j, impute, offset, scale } => {
                        let (offset, scale) = match op.as_str() {
                            "Sub" => (offset + a / scale, scale),
                            "Add" => (offset - a / scale, scale),
                            "Div" => (offset, scale / a),
                            "Mul" => (offset, scale * a),
                            _ => (offset + a / scale, scale),
                        };
                        Ok(Col::Feature { j, impute, offset, scale })
                    }
                    Col::OneHot { .. } => Err(format!("{op} on a one-hot column is not supported")),
                })
                .map_err(&malformed)?;
                let cols = if op == "Scaler" {
                    per_column(&cols, &b, |c, s| match c {
                        Col::Feature { j, impute, offset, scale } => Ok(Col::Feature { j, impute, offset, scale: scale * s }),
                        Col::OneHot { .. } => Err("Scaler on a one-hot column is not supported".to_string()),
                    })
                    .map_err(&malformed)?
                } else {
                    cols
                };
                if cols.iter().any(|c| matches!(c, Col::Feature { offset, scale, .. } if !offset.is_finite() || !scale.is_finite())) {
                    return Err(malformed("constant makes the row non-finite".into()));
                }
                Value::Row(cols)
            }
            ("OneHotEncoder", Some(Value::Row(cols))) => {
                let cats = ints(node, "cats_int64s");
                if cats.is_empty() {
                    return Err(malformed("only integer categories (cats_int64s) are supported: encode a categorical feature as its vocabulary index before training".into()));
                }
                let mut out = Vec::with_capacity(cols.len() * cats.len());
                for c in cols {
                    match *c {
                        Col::Feature { j, offset, scale, .. } if offset == 0.0 && scale == 1.0 => {
                            out.extend(cats.iter().map(|&category| Col::OneHot { j, category }))
                        }
                        _ => return Err(malformed("OneHotEncoder must read an input column directly".into())),
                    }
                }
                Value::Row(out)
            }
            ("LinearClassifier" | "LinearRegressor", Some(Value::Row(cols))) => {
                let n = cols.len();
                same_row(&mut model_row, cols).map_err(&malformed)?;
                let coef = floats(node, "coefficients");
                let bias = floats(node, "intercepts");
                let n_out = coef.len() / n.max(1);
                if coef.len() != n_out * n || bias.len() != n_out {
                    return Err(malformed(format!("{} coefficients and {} intercepts for {n} inputs", coef.len(), bias.len())));
                }
                let p = post(path, node)?;
                let score = match parts.last_mut() {
                    Some(Part::Linear { rows, bias: b, post }) if *post == p => {
                        let base = rows.len();
                        rows.extend(coef.chunks(n).map(<[f32]>::to_vec));
                        b.extend(bias);
                        base
                    }
                    None => {
                        parts.push(Part::Linear { rows: coef.chunks(n).map(<[f32]>::to_vec).collect(), bias, post: p });
                        0
                    }
                    Some(_) => return Err(malformed("only linear models with the same post_transform can share a graph".into())),
                };
                let out = node.output.get(usize::from(node.op_type == "LinearClassifier")).cloned().unwrap_or_default();
                if let Some(label) = node.output.first().filter(|_| node.op_type == "LinearClassifier") {
                    values.insert(label.clone(), Value::Label);
                }
                values.insert(out, Value::Score { base: score, width: n_out, col: 0 });
                continue;
            }
            ("TreeEnsembleClassifier" | "TreeEnsembleRegressor", Some(Value::Row(cols))) if parts.is_empty() => {
                same_row(&mut model_row, cols).map_err(&malformed)?;
                let (ensemble, n_out, binary) = trees(path, node, cols.len())?;
                let classifier = node.op_type == "TreeEnsembleClassifier";
                if classifier {
                    values.insert(node.output.first().cloned().unwrap_or_default(), Value::Label);
                }
                // A binary classifier scoring one class: the engine output is P(class 1).
                let out = node.output.get(usize::from(classifier)).cloned().unwrap_or_default();
                values.insert(out, Value::Score { base: 0, width: n_out, col: usize::from(binary) });
                parts.push(Part::Trees { ensemble, post: post(path, node)?, n_out });
                continue;
            }
            ("MatMul" | "Gemm", Some(_)) => {
                let (n, head) = match (row.as_ref(), parts.last()) {
                    (Some(cols), None) => {
                        same_row(&mut model_row, cols).map_err(&malformed)?;
                        (cols.len(), None)
                    }
                    (None, Some(Part::Mlp { layers, head })) if node.input.first() == Some(head) => {
                        (layers.last().map_or(0, |l| l.n_out as usize), Some(()))
                    }
                    _ => return Err(malformed(format!("{} must read the input row or the previous layer", node.op_type))),
                };
                let w = konst(1).ok_or_else(|| malformed("the weights must be a constant".into()))?;
                let layer = dense(node, w, konst(2), n).map_err(&malformed)?;
                let width = layer.n_out as usize;
                let out = node.output.first().cloned().unwrap_or_default();
                match (head, parts.last_mut()) {
                    (Some(()), Some(Part::Mlp { layers, head })) => {
                        layers.push(layer);
                        *head = out.clone();
                    }
                    _ => parts.push(Part::Mlp { layers: vec![layer], head: out.clone() }),
                }
                values.insert(out, Value::Score { base: 0, width, col: 0 });
                continue;
            }
            ("Add" | "Relu" | "Sigmoid" | "Tanh" | "Softmax", Some(v @ Value::Score { .. })) if mlp_head(&parts) == node.input.first() => {
                let v = v.clone();
                let Some(Part::Mlp { layers, head }) = parts.last_mut() else { return Err(malformed("no layer to continue".into())) };
                let layer = layers.last_mut().ok_or_else(|| malformed("no layer".into()))?;
                match node.op_type.as_str() {
                    "Add" if layer.activation == Activation::Identity => {
                        let b = konst(1).ok_or_else(|| malformed("the bias must be a constant".into()))?;
                        let n = layer.n_out as usize;
                        for (o, x) in layer.bias.iter_mut().enumerate() {
                            *x += if b.floats.len() == 1 {
                                b.floats[0]
                            } else {
                                b.floats.get(o).copied().ok_or_else(|| malformed(format!("bias of {} for {n} units", b.floats.len())))?
                            };
                        }
                    }
                    _ if layer.activation == Activation::Identity => {
                        if node.op_type == "Softmax" && int(node, "axis", -1) != -1 && int(node, "axis", -1) != 1 {
                            return Err(malformed("Softmax must run over the units (axis 1)".into()));
                        }
                        layer.activation = match node.op_type.as_str() {
                            "Relu" => Activation::Relu,
                            "Sigmoid" => Activation::Sigmoid,
                            "Tanh" => Activation::Tanh,
                            _ => Activation::Softmax,
                        };
                    }
                    _ => return Err(malformed(format!("{} after the layer's activation is not supported", node.op_type))),
                }
                *head = node.output.first().cloned().unwrap_or_default();
                v
            }
            // 1 - p, the negative class of a binary MLP.
            ("Sub", _) if konst(0).is_some_and(|c| c.floats == [1.0]) => match arg(1) {
                Some(Value::Score { base, width: 1, col: 0 }) => Value::Complement(*base),
                _ => return Err(malformed("1 - x is supported on a single score only".into())),
            },
            (op, _) if !SUPPORTED.contains(&op) => {
                return Err(OnnxError::UnsupportedOp { path: path.into(), node: node.name.clone(), op: op.to_string() })
            }
            (op, _) => return Err(malformed(format!("`{op}` is supported on the input row or a model's scores, not here"))),
        };
        for o in &node.output {
            values.insert(o.clone(), result.clone());
        }
    }
    let Some(part) = parts.pop() else {
        return Err(read("no model node (LinearClassifier, LinearRegressor, TreeEnsemble*, MatMul/Gemm)".into()));
    };
    let mut outputs: BTreeMap<usize, (String, usize)> = BTreeMap::new();
    for o in &graph.output {
        if let Some(&Value::Score { base, width, col }) = values.get(&o.name) {
            for c in 0..width {
                outputs.insert(base + c, (o.name.clone(), c + col));
            }
        }
    }
    let cols = model_row.unwrap_or_default();
    let inputs = cols
        .iter()
        .map(|c| match *c {
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

/// Every op the lowering knows (in some position).
const SUPPORTED: &[&str] = &[
    "Constant",
    "Cast",
    "Identity",
    "Reshape",
    "Flatten",
    "ArgMax",
    "ArrayFeatureExtractor",
    "Gather",
    "Concat",
    "Imputer",
    "Scaler",
    "Sub",
    "Div",
    "Add",
    "Mul",
    "OneHotEncoder",
    "LinearClassifier",
    "LinearRegressor",
    "TreeEnsembleClassifier",
    "TreeEnsembleRegressor",
    "MatMul",
    "Gemm",
    "Relu",
    "Sigmoid",
    "Tanh",
    "Softmax",
];

fn mlp_head(parts: &[Part]) -> Option<&String> {
    match parts.last() {
        Some(Part::Mlp { head, .. }) => Some(head),
        _ => None,
    }
}

/// All model bodies in one graph must read the same preprocessed row.
fn same_row(model_row: &mut Option<Vec<Col>>, cols: &[Col]) -> Result<(), String> {
    match model_row {
        Some(r) if r != cols => Err("models in one graph must read the same preprocessed input row".into()),
        Some(_) => Ok(()),
        None => {
            *model_row = Some(cols.to_vec());
            Ok(())
        }
    }
}

/// Applies `f` with a per-column (or broadcast scalar) constant.
fn per_column(cols: &[Col], v: &[f32], f: impl Fn(Col, f32) -> Result<Col, String>) -> Result<Vec<Col>, String> {
    if v.len() != 1 && v.len() != cols.len() {
        return Err(format!("constant of {} values for a row of {}", v.len(), cols.len()));
    }
    cols.iter().enumerate().map(|(k, &c)| f(c, if v.len() == 1 { v[0] } else { v[k] })).collect()
}

/// Concat along the columns: rows join, and `[1 - p, p]` is a binary score.
fn concat(node: &NodeProto, values: &HashMap<String, Value>) -> Result<Value, String> {
    if int(node, "axis", 1) != 1 && int(node, "axis", 1) != -1 {
        return Err("Concat must join columns (axis 1)".into());
    }
    let args: Vec<Option<&Value>> = node.input.iter().map(|n| values.get(n)).collect();
    match args.as_slice() {
        [Some(Value::Complement(k)), Some(Value::Score { base, width: 1, col: 0 })] if k == base => {
            Ok(Value::Score { base: *base, width: 1, col: 1 })
        }
        _ => {
            let mut out = Vec::new();
            for a in args {
                match a {
                    Some(Value::Row(cols)) => out.extend_from_slice(cols),
                    _ => return Err("Concat is supported on input columns, or as [1 - p, p]".into()),
                }
            }
            Ok(Value::Row(out))
        }
    }
}

/// MatMul (weights `[n_in, n_out]`) or Gemm (`alpha = beta = 1`, optional transB, bias) → a
/// dense layer with row-major `[n_out, n_in]` weights.
fn dense(node: &NodeProto, w: &Const, bias: Option<&Const>, n_in: usize) -> Result<Dense, String> {
    let trans = node.op_type == "Gemm" && int(node, "transB", 0) == 1;
    if node.op_type == "Gemm" && (float(node, "alpha", 1.0) != 1.0 || float(node, "beta", 1.0) != 1.0 || int(node, "transA", 0) != 0) {
        return Err("Gemm with alpha, beta or transA is not supported".into());
    }
    let n_out = w.floats.len().checked_div(n_in).unwrap_or(0);
    let dims_ok = w.dims.len() == 2 && (if trans { w.dims == [n_out as i64, n_in as i64] } else { w.dims == [n_in as i64, n_out as i64] });
    if n_out == 0 || w.floats.len() != n_in * n_out || !dims_ok {
        return Err(format!("weights of shape {:?} for {n_in} inputs", w.dims));
    }
    let weights = if trans {
        w.floats.clone()
    } else {
        (0..n_out).flat_map(|o| (0..n_in).map(move |i| (i, o))).map(|(i, o)| w.floats[i * n_out + o]).collect()
    };
    let bias = match bias {
        None => vec![0.0; n_out],
        Some(b) if b.floats.len() == 1 => vec![b.floats[0]; n_out],
        Some(b) if b.floats.len() == n_out => b.floats.clone(),
        Some(b) => return Err(format!("bias of {} for {n_out} units", b.floats.len())),
    };
    Ok(Dense { n_in: n_in as u32, n_out: n_out as u32, weights, bias, activation: Activation::Identity })
}

/// A TreeEnsemble{Classifier,Regressor} node → flat ensemble, its output count, and
/// whether it is the binary one-score case.
fn trees(path: &Path, node: &NodeProto, n_in: usize) -> Result<(TreeEnsemble, usize, bool), OnnxError> {
    let bad = |message: String| OnnxError::Malformed { path: path.into(), node: node.name.clone(), message };
    let (tree, id, feature) = (ints(node, "nodes_treeids"), ints(node, "nodes_nodeids"), ints(node, "nodes_featureids"));
    let (modes, values) = (strings(node, "nodes_modes"), floats(node, "nodes_values"));
    let (t_ids, f_ids, missing) =
        (ints(node, "nodes_truenodeids"), ints(node, "nodes_falsenodeids"), ints(node, "nodes_missing_value_tracks_true"));
    let n = tree.len();
    if [id.len(), feature.len(), modes.len(), values.len(), t_ids.len(), f_ids.len()].iter().any(|&l| l != n) {
        return Err(bad("node attribute lists differ in length".into()));
    }
    let classifier = node.op_type == "TreeEnsembleClassifier";
    let p = if classifier { "class" } else { "target" };
    let (l_tree, l_node, l_target, l_weight) = (
        ints(node, &format!("{p}_treeids")),
        ints(node, &format!("{p}_nodeids")),
        ints(node, &format!("{p}_ids")),
        floats(node, &format!("{p}_weights")),
    );
    let n_classes = if classifier {
        ints(node, "classlabels_int64s").len().max(strings(node, "classlabels_strings").len())
    } else {
        ints(node, "n_targets").first().copied().unwrap_or(1) as usize
    };
    let distinct: std::collections::BTreeSet<i64> = l_target.iter().copied().collect();
    let binary = classifier && n_classes == 2 && distinct.len() == 1;
    let n_out = if binary { 1 } else { n_classes };
    // Index nodes by (tree, node id).
    let at: HashMap<(i64, i64), usize> = (0..n).map(|i| ((tree[i], id[i]), i)).collect();
    let mut children: std::collections::HashSet<(i64, i64)> = std::collections::HashSet::new();
    for i in 0..n {
        if modes[i] != "LEAF" {
            children.insert((tree[i], t_ids[i]));
            children.insert((tree[i], f_ids[i]));
        }
    }
    let mut trees: Vec<i64> = tree.clone();
    trees.sort_unstable();
    trees.dedup();
    let mut leaves_of: HashMap<(i64, i64), Vec<LeafWeight>> = HashMap::new();
    for (k, &t) in l_tree.iter().enumerate() {
        let target = if binary { 0 } else { l_target.get(k).copied().unwrap_or(0) as u16 };
        leaves_of
            .entry((t, l_node.get(k).copied().unwrap_or(-1)))
            .or_default()
            .push(LeafWeight { target, weight: l_weight.get(k).copied().unwrap_or(0.0) });
    }
    let (mut nodes, mut leaves, mut roots) = (Vec::new(), Vec::new(), Vec::new());
    for t in trees {
        let root = (0..n).find(|&i| tree[i] == t && !children.contains(&(t, id[i]))).ok_or_else(|| bad(format!("tree {t} has no root")))?;
        // Breadth-first: every child gets a larger index than its parent.
        let base = nodes.len();
        let mut order = vec![root];
        let mut k = 0;
        while k < order.len() {
            let i = order[k];
            if modes[i] != "LEAF" {
                for c in [t_ids[i], f_ids[i]] {
                    order.push(*at.get(&(t, c)).ok_or_else(|| bad(format!("tree {t}: node {c} does not exist")))?);
                }
            }
            k += 1;
            if order.len() > n {
                return Err(bad(format!("tree {t} is not a tree")));
            }
        }
        let new_index: HashMap<usize, u32> = order.iter().enumerate().map(|(k, &i)| (i, (base + k) as u32)).collect();
        roots.push(base as u32);
        for &i in &order {
            let mode = match modes[i].as_str() {
                "LEAF" => NodeMode::Leaf,
                "BRANCH_LEQ" => NodeMode::Leq,
                "BRANCH_LT" => NodeMode::Lt,
                "BRANCH_GTE" => NodeMode::Gte,
                "BRANCH_GT" => NodeMode::Gt,
                "BRANCH_EQ" => NodeMode::Eq,
                "BRANCH_NEQ" => NodeMode::Neq,
                m => return Err(bad(format!("node mode `{m}` is not supported"))),
            };
            if mode != NodeMode::Leaf && feature[i] as usize >= n_in {
                return Err(bad(format!("splits on feature {} of {n_in}", feature[i])));
            }
            let lw = leaves_of.remove(&(t, id[i])).unwrap_or_default();
            let child = |c: i64| at.get(&(t, c)).and_then(|j| new_index.get(j)).copied().unwrap_or(0);
            nodes.push(Node {
                mode,
                feature: feature[i] as u16,
                threshold: values[i],
                missing_true: missing.get(i).copied().unwrap_or(0) != 0,
                true_child: if mode == NodeMode::Leaf { 0 } else { child(t_ids[i]) },
                false_child: if mode == NodeMode::Leaf { 0 } else { child(f_ids[i]) },
                leaf_start: leaves.len() as u32,
                leaf_len: lw.len() as u32,
            });
            leaves.extend(lw);
        }
    }
    let mut base = floats(node, "base_values");
    if binary && base.len() == 2 {
        base = vec![base[1]];
    }
    let average = string(node, "aggregate_function", "SUM") == "AVERAGE";
    if !matches!(string(node, "aggregate_function", "SUM").as_str(), "SUM" | "AVERAGE") {
        return Err(bad("aggregate_function MIN/MAX is not supported".into()));
    }
    Ok((TreeEnsemble { nodes, roots, leaves, base, average }, n_out, binary))
}
