//! Tree ensembles (GBDT, random forest), laid out flat, with ONNX-ML semantics.
use serde::{Deserialize, Serialize};

/// A flat tree ensemble. Children always have larger indices than their parent
/// (checked at load), so every walk ends within `nodes.len()` steps.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TreeEnsemble {
    pub nodes: Vec<Node>,
    /// Root node index of each tree.
    pub roots: Vec<u32>,
    pub leaves: Vec<LeafWeight>,
    /// Added to each output after aggregation (ONNX-ML `base_values`).
    pub base: Vec<f32>,
    /// Divide sums by the number of trees (random forest) instead of summing (GBDT).
    pub average: bool,
}

/// One node. For a leaf, `leaf_start..leaf_start + leaf_len` indexes `leaves`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct Node {
    pub mode: NodeMode,
    pub feature: u16,
    pub threshold: f32,
    /// ONNX-ML `nodes_missing_value_tracks_true`: a `NaN` input takes the true branch.
    pub missing_true: bool,
    pub true_child: u32,
    pub false_child: u32,
    pub leaf_start: u32,
    pub leaf_len: u32,
}

/// Node comparison (`x MODE threshold` takes the true branch).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NodeMode {
    Leaf,
    Leq,
    Lt,
    Gte,
    Gt,
    Eq,
    Neq,
}

/// Contribution of a leaf to one output.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct LeafWeight {
    pub target: u16,
    pub weight: f32,
}

impl TreeEnsemble {
    /// Adds every tree's leaf weights into `out` (in tree order), then aggregates.
    pub fn score(&self, row: &[f32], out: &mut [f32]) {
        out.iter_mut().for_each(|y| *y = 0.0);
        for &root in &self.roots {
            let leaf = self.walk(root as usize, row);
            let Some(node) = self.nodes.get(leaf) else { continue };
            let start = node.leaf_start as usize;
            let end = start.saturating_add(node.leaf_len as usize).min(self.leaves.len());
            for lw in self.leaves.get(start..end).unwrap_or(&[]) {
                if let Some(y) = out.get_mut(lw.target as usize) {
                    *y += lw.weight;
                }
            }
        }
        let n_trees = self.roots.len().max(1) as f32;
        for (o, y) in out.iter_mut().enumerate() {
            if self.average {
                *y /= n_trees;
            }
            *y += self.base.get(o).copied().unwrap_or(0.0);
        }
    }

    fn walk(&self, mut i: usize, row: &[f32]) -> usize {
        for _ in 0..self.nodes.len() {
            let Some(n) = self.nodes.get(i) else { return i };
            let x = row.get(n.feature as usize).copied().unwrap_or(f32::NAN);
            let go_true = if x.is_nan() && n.missing_true {
                true
            } else {
                match n.mode {
                    NodeMode::Leaf => return i,
                    NodeMode::Leq => x <= n.threshold,
                    NodeMode::Lt => x < n.threshold,
                    NodeMode::Gte => x >= n.threshold,
                    NodeMode::Gt => x > n.threshold,
                    NodeMode::Eq => x == n.threshold,
                    NodeMode::Neq => x != n.threshold,
                }
            };
            if n.mode == NodeMode::Leaf {
                return i;
            }
            i = if go_true { n.true_child } else { n.false_child } as usize;
        }
        i
    }
}
