//! ONNX graph → engine [`Model`]: preprocessing on the input row folds into per-column
//! offset/scale, linear classifiers stack into one multi-output linear model, a tree
//! ensemble becomes the engine's flat ensemble (re-indexed breadth-first so children
//! follow parents). Any other op is refused by name.
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use tract_onnx::pb::NodeProto;
use tract_onnx::prelude::*;
use vitrine_engine::models::{Body, Input, LeafWeight, Model, Node, NodeMode, Post, TreeEnsemble};

use super::graph::{constants, floats, ints, string, strings};
use super::OnnxError;

/// A lowered model and where each of its outputs comes from in the ONNX graph.
#[derive(Debug, Clone)]
pub struct Lowered {
    pub model: Model,
    /// For engine output `i`: (ONNX graph output name, column).
    pub outputs: Vec<(String, usize)>,
}

enum Part {
    Linear { rows: Vec<Vec<f32>>, bias: Vec<f32>, post: Post },
    Trees { ensemble: TreeEnsemble, post: Post, n_out: usize },
}

fn post(path: &Path, node: &NodeProto) -> Result<Post, OnnxError> {
    match string(node, "post_transform", "NONE").as_str() {
        "NONE" => Ok(Post::Identity),
        "LOGISTIC" => Ok(Post::Logistic),
        "SOFTMAX" => Ok(Post::Softmax),
        "SOFTMAX_ZERO" => Ok(Post::SoftmaxZero),
        other => Err(OnnxError::Malformed { path: path.into(), node: node.name.clone(), message: format!("post_transform `{other}` is not supported") }),
    }
}

/// Lowers the model at `path`; ONNX input column `j` reads feature slot `input_slots[j]`.
pub fn lower(path: &Path, name: &str, input_slots: &[u16]) -> Result<Lowered, OnnxError> {
    let read = |message: String| OnnxError::Read { path: path.into(), message };
    let proto = tract_onnx::onnx().proto_model_for_path(path).map_err(|e| read(e.to_string()))?;
    let graph = proto.graph.as_ref().ok_or_else(|| read("no graph".into()))?;
    let consts = constants(graph);
    let input = graph.input.iter().map(|i| i.name.clone()).find(|n| !consts.contains_key(n)).ok_or_else(|| read("no input".into()))?;
    let n_in = input_slots.len();
    let (mut offset, mut scale) = (vec![0.0f32; n_in], vec![1.0f32; n_in]);
    let mut row_tensors = vec![input];
    // Tensor name → (first engine output, width) for model score outputs.
    let mut scores: HashMap<String, (usize, usize)> = HashMap::new();
    let mut parts: Vec<Part> = Vec::new();
    let mut first_out = 0usize;
    let malformed = |node: &NodeProto, message: String| OnnxError::Malformed { path: path.into(), node: node.name.clone(), message };
    for node in &graph.node {
        let on_row = node.input.first().is_some_and(|i| row_tensors.contains(i));
        let konst = |i: usize| node.input.get(i).and_then(|n| consts.get(n));
        match node.op_type.as_str() {
            "Constant" => {}
            "Cast" | "Identity" if on_row => row_tensors.extend(node.output.iter().cloned()),
            // Pass-throughs after the model (LightGBM multiplies its output by a constant 1).
            "Cast" | "Identity" | "Mul" if node.op_type != "Mul" || (!on_row && konst(1).is_some_and(|c| c.iter().all(|x| *x == 1.0))) => {
                if let (Some(i), Some(o)) = (node.input.first(), node.output.first()) {
                    if let Some(s) = scores.get(i).copied() {
                        scores.insert(o.clone(), s);
                    }
                }
            }
            "Sub" | "Div" | "Add" | "Mul" | "Scaler" if on_row => {
                let (a, b) = match node.op_type.as_str() {
                    "Scaler" => (floats(node, "offset"), floats(node, "scale")),
                    _ => (konst(1).cloned().ok_or_else(|| malformed(node, "the second operand must be a constant".into()))?, Vec::new()),
                };
                let at = |v: &[f32], j: usize| if v.len() == 1 { v[0] } else { v.get(j).copied().unwrap_or(f32::NAN) };
                for j in 0..n_in {
                    // The row is (x - offset) * scale; fold the op in.
                    match node.op_type.as_str() {
                        "Sub" => offset[j] += at(&a, j) / scale[j],
                        "Add" => offset[j] -= at(&a, j) / scale[j],
                        "Div" => scale[j] /= at(&a, j),
                        "Mul" => scale[j] *= at(&a, j),
                        _ => {
                            offset[j] += at(&a, j) / scale[j];
                            scale[j] *= at(&b, j);
                        }
                    }
                }
                if offset.iter().chain(&scale).any(|x| !x.is_finite()) {
                    return Err(malformed(node, "constant shape does not match the input width".into()));
                }
                row_tensors.extend(node.output.iter().cloned());
            }
            "LinearClassifier" | "LinearRegressor" if on_row => {
                let coef = floats(node, "coefficients");
                let bias = floats(node, "intercepts");
                let n_out = coef.len() / n_in.max(1);
                if coef.len() != n_out * n_in || bias.len() != n_out {
                    return Err(malformed(node, format!("{} coefficients and {} intercepts for {n_in} inputs", coef.len(), bias.len())));
                }
                let p = post(path, node)?;
                let out = node.output.get(if node.op_type == "LinearClassifier" { 1 } else { 0 }).cloned().unwrap_or_default();
                match parts.last_mut() {
                    Some(Part::Linear { rows, bias: b, post }) if *post == p => {
                        scores.insert(out, (rows.len(), n_out));
                        rows.extend(coef.chunks(n_in).map(<[f32]>::to_vec));
                        b.extend(bias);
                    }
                    None => {
                        scores.insert(out, (0, n_out));
                        parts.push(Part::Linear { rows: coef.chunks(n_in).map(<[f32]>::to_vec).collect(), bias, post: p });
                    }
                    Some(_) => return Err(malformed(node, "only linear models with the same post_transform can share a graph".into())),
                }
            }
            "TreeEnsembleClassifier" | "TreeEnsembleRegressor" if on_row && parts.is_empty() => {
                let (ensemble, n_out, binary) = trees(path, node, n_in)?;
                let out = node.output.get(if node.op_type == "TreeEnsembleClassifier" { 1 } else { 0 }).cloned().unwrap_or_default();
                // A binary classifier scoring one class: the engine output is P(class 1).
                first_out = usize::from(binary);
                scores.insert(out, (0, n_out));
                parts.push(Part::Trees { ensemble, post: post(path, node)?, n_out });
            }
            op => return Err(OnnxError::UnsupportedOp { path: path.into(), node: node.name.clone(), op: op.to_string() }),
        }
    }
    let Some(part) = parts.pop() else { return Err(read("no model node (LinearClassifier, LinearRegressor or TreeEnsemble*)".into())) };
    let mut outputs: BTreeMap<usize, (String, usize)> = BTreeMap::new();
    for o in &graph.output {
        if let Some(&(base, width)) = scores.get(&o.name) {
            for c in 0..width {
                outputs.insert(base + c, (o.name.clone(), c + first_out));
            }
        }
    }
    let inputs = input_slots.iter().enumerate().map(|(j, &slot)| Input::Feature { slot, impute: None, offset: offset[j], scale: scale[j] }).collect();
    let (body, post, n_outputs) = match part {
        Part::Linear { rows, bias, post } => (Body::Linear { weights: rows.concat(), bias: bias.clone() }, post, bias.len()),
        Part::Trees { ensemble, post, n_out } => (Body::Trees(ensemble), post, n_out),
    };
    let model = Model { name: name.to_string(), inputs, body, post, n_outputs: n_outputs as u16 };
    Ok(Lowered { model, outputs: outputs.into_values().collect() })
}

/// A TreeEnsemble{Classifier,Regressor} node → flat ensemble, its output count, and
/// whether it is the binary one-score case.
fn trees(path: &Path, node: &NodeProto, n_in: usize) -> Result<(TreeEnsemble, usize, bool), OnnxError> {
    let bad = |message: String| OnnxError::Malformed { path: path.into(), node: node.name.clone(), message };
    let (tree, id, feature) = (ints(node, "nodes_treeids"), ints(node, "nodes_nodeids"), ints(node, "nodes_featureids"));
    let (modes, values) = (strings(node, "nodes_modes"), floats(node, "nodes_values"));
    let (t_ids, f_ids, missing) = (ints(node, "nodes_truenodeids"), ints(node, "nodes_falsenodeids"), ints(node, "nodes_missing_value_tracks_true"));
    let n = tree.len();
    if [id.len(), feature.len(), modes.len(), values.len(), t_ids.len(), f_ids.len()].iter().any(|&l| l != n) {
        return Err(bad("node attribute lists differ in length".into()));
    }
    let classifier = node.op_type == "TreeEnsembleClassifier";
    let p = if classifier { "class" } else { "target" };
    let (l_tree, l_node, l_target, l_weight) = (ints(node, &format!("{p}_treeids")), ints(node, &format!("{p}_nodeids")), ints(node, &format!("{p}_ids")), floats(node, &format!("{p}_weights")));
    let n_classes = if classifier { ints(node, "classlabels_int64s").len().max(strings(node, "classlabels_strings").len()) } else { ints(node, "n_targets").first().copied().unwrap_or(1) as usize };
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
        leaves_of.entry((t, l_node.get(k).copied().unwrap_or(-1))).or_default().push(LeafWeight { target, weight: l_weight.get(k).copied().unwrap_or(0.0) });
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
