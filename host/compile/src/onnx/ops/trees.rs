//! `TreeEnsembleClassifier` and `TreeEnsembleRegressor` → the engine's flat ensemble,
//! re-indexed breadth-first so that children follow their parents, with ONNX-ML missing
//! routing, SUM or AVERAGE aggregation, and the binary one-score case.
use std::collections::HashMap;
use std::path::Path;

use tract_onnx::pb::NodeProto;
use vitrine_engine::models::{LeafWeight, Node, NodeMode, TreeEnsemble};

use crate::onnx::graph::{floats, ints, string, strings};
use crate::onnx::lower::{Col, Lowering, Part, Value};
use crate::onnx::OnnxError;

/// The ensemble body and its score (and label) outputs.
pub(super) fn lower(st: &mut Lowering<'_>, node: &NodeProto, cols: &[Col]) -> Result<(), OnnxError> {
    st.same_row(node, cols)?;
    let (ensemble, n_out, binary) = trees(st.path, node, cols.len())?;
    let classifier = node.op_type == "TreeEnsembleClassifier";
    if classifier {
        st.values.insert(node.output.first().cloned().unwrap_or_default(), Value::Label);
    }
    // A binary classifier scoring one class: the engine output is P(class 1).
    let out = node.output.get(usize::from(classifier)).cloned().unwrap_or_default();
    st.values.insert(out, Value::Score { base: 0, width: n_out, col: usize::from(binary) });
    st.parts.push(Part::Trees { ensemble, post: super::post(st.path, node)?, n_out });
    Ok(())
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
