//! Load-time checks on a model's shape and structure.
use super::{Body, Input, Model, ModelError, NodeMode};
use crate::limits::MAX_MODEL_PARAMS;
use crate::schema::{FeatureKind, Schema};

impl Model {
    /// Checks every index, shape and tree link against `schema`.
    pub fn validate(&self, schema: &Schema) -> Result<(), ModelError> {
        let name = || self.name.clone();
        let shape = |reason: String| ModelError::Shape { model: name(), reason };
        for (i, input) in self.inputs.iter().enumerate() {
            let (what, slot, ok) = match *input {
                Input::Feature { slot, .. } => ("feature", slot, (slot as usize) < schema.features.len()),
                Input::Context { slot, .. } => ("context field", slot, (slot as usize) < schema.context.len()),
                Input::OneHot { slot, category } => (
                    "categorical feature",
                    slot,
                    matches!(schema.features.get(slot as usize).map(|f| &f.kind), Some(FeatureKind::Categorical { vocab }) if (category as usize) < vocab.len()),
                ),
                Input::Treatment { offset, scale } => ("treatment", 0, offset.is_finite() && scale.is_finite()),
                Input::Missing { slot } => ("feature", slot, (slot as usize) < schema.features.len()),
            };
            if !ok {
                return Err(ModelError::BadIndex { model: name(), input: i, what, index: slot as usize });
            }
            if let Input::Feature { impute, offset, scale, .. } | Input::Context { impute, offset, scale, .. } = *input {
                if !offset.is_finite() || !scale.is_finite() || impute.is_some_and(|v| !v.is_finite()) {
                    return Err(ModelError::NotFinite { model: name() });
                }
            }
        }
        let n_in = self.inputs.len();
        let n_out = self.n_outputs as usize;
        if n_out == 0 {
            return Err(shape("a model needs at least one output".into()));
        }
        let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
        let params = match &self.body {
            Body::Linear { weights, bias } => {
                if weights.len() != n_in * n_out || bias.len() != n_out {
                    return Err(shape(format!(
                        "linear needs {n_out}×{n_in} weights and {n_out} biases, has {} and {}",
                        weights.len(),
                        bias.len()
                    )));
                }
                if !finite(weights) || !finite(bias) {
                    return Err(ModelError::NotFinite { model: name() });
                }
                weights.len()
            }
            Body::Mlp { layers } => {
                let mut width = n_in;
                let mut params = 0usize;
                for (l, layer) in layers.iter().enumerate() {
                    let (i, o) = (layer.n_in as usize, layer.n_out as usize);
                    if i != width || layer.weights.len() != i.saturating_mul(o) || layer.bias.len() != o {
                        return Err(shape(format!(
                            "layer {l} does not chain: expects {i} inputs (have {width}), {} weights, {} biases",
                            layer.weights.len(),
                            layer.bias.len()
                        )));
                    }
                    if !finite(&layer.weights) || !finite(&layer.bias) {
                        return Err(ModelError::NotFinite { model: name() });
                    }
                    width = o;
                    params = params.saturating_add(layer.weights.len());
                }
                if width != n_out {
                    return Err(shape(format!("last layer has {width} outputs, model declares {n_out}")));
                }
                params
            }
            Body::Trees(t) => {
                let n = t.nodes.len();
                let bad = |node: usize, reason: &str| ModelError::TreeStructure { model: name(), node, reason: reason.to_string() };
                for (i, node) in t.nodes.iter().enumerate() {
                    if !node.threshold.is_finite() {
                        return Err(ModelError::NotFinite { model: name() });
                    }
                    if node.mode == NodeMode::Leaf {
                        let end = node.leaf_start as usize + node.leaf_len as usize;
                        if end > t.leaves.len() {
                            return Err(bad(i, "leaf weights out of range"));
                        }
                    } else {
                        if node.feature as usize >= n_in {
                            return Err(bad(i, "splits on a column the model does not have"));
                        }
                        let (tc, fc) = (node.true_child as usize, node.false_child as usize);
                        if tc <= i || fc <= i || tc >= n || fc >= n {
                            return Err(bad(i, "children must come after their parent and exist"));
                        }
                    }
                }
                if t.roots.iter().any(|&r| r as usize >= n) {
                    return Err(bad(n, "a root is out of range"));
                }
                if t.leaves.iter().any(|l| l.target as usize >= n_out || !l.weight.is_finite()) || t.base.len() > n_out || !finite(&t.base)
                {
                    return Err(shape("leaf targets and base values must fit the outputs".into()));
                }
                n + t.leaves.len()
            }
        };
        if params > MAX_MODEL_PARAMS {
            return Err(ModelError::TooLarge { model: name(), count: params, limit: MAX_MODEL_PARAMS });
        }
        Ok(())
    }
}
