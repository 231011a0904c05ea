//! Tree ensembles (GBDT, random forest), laid out flat, with ONNX-ML semantics.
use serde::{Deserialize, Serialize};

/// Trees walked side by side.
const WALK: usize = 4;

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
    /// Trees are walked four at a time, interleaved, to overlap their memory latency;
    /// the leaves are still added in tree order, so the sum is the same.
    pub fn score(&self, row: &[f32], out: &mut [f32]) {
        out.iter_mut().for_each(|y| *y = 0.0);
        for group in self.roots.chunks(WALK) {
            let mut at = [usize::MAX; WALK];
            for (a, &r) in at.iter_mut().zip(group) {
                *a = r as usize;
            }
            let mut moving = group.len();
            for _ in 0..self.nodes.len() {
                if moving == 0 {
                    break;
                }
                moving = 0;
                for a in at.iter_mut().take(group.len()) {
                    if let Some(next) = self.step(*a, row) {
                        *a = next;
                        moving += 1;
                    }
                }
            }
            for &leaf in at.iter().take(group.len()) {
                self.add_leaf(leaf, out);
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

    fn add_leaf(&self, leaf: usize, out: &mut [f32]) {
        let Some(node) = self.nodes.get(leaf) else { return };
        let start = node.leaf_start as usize;
        let end = start.saturating_add(node.leaf_len as usize).min(self.leaves.len());
        for lw in self.leaves.get(start..end).unwrap_or(&[]) {
            if let Some(y) = out.get_mut(lw.target as usize) {
                *y += lw.weight;
            }
        }
    }

    /// The child node `i` sends `row` to, or `None` at a leaf (or out of range).
    #[inline]
    fn step(&self, i: usize, row: &[f32]) -> Option<usize> {
        let n = self.nodes.get(i)?;
        let x = row.get(n.feature as usize).copied().unwrap_or(f32::NAN);
        let go_true = match n.mode {
            NodeMode::Leaf => return None,
            _ if x.is_nan() && n.missing_true => true,
            NodeMode::Leq => x <= n.threshold,
            NodeMode::Lt => x < n.threshold,
            NodeMode::Gte => x >= n.threshold,
            NodeMode::Gt => x > n.threshold,
            NodeMode::Eq => x == n.threshold,
            NodeMode::Neq => x != n.threshold,
        };
        Some(if go_true { n.true_child } else { n.false_child } as usize)
    }
}
