//! `LinearClassifier` and `LinearRegressor`: several in one graph (one per offer, say)
//! stack into one multi-output linear model when they share the row and post transform.
use tract_onnx::pb::NodeProto;

use crate::onnx::graph::floats;
use crate::onnx::lower::{Col, Lowering, Part, Value};
use crate::onnx::OnnxError;

/// Appends the node's rows to the linear body and records its score (and label) outputs.
pub(super) fn lower(st: &mut Lowering<'_>, node: &NodeProto, cols: &[Col]) -> Result<(), OnnxError> {
    let n = cols.len();
    st.same_row(node, cols)?;
    let coef = floats(node, "coefficients");
    let bias = floats(node, "intercepts");
    let n_out = coef.len() / n.max(1);
    if coef.len() != n_out * n || bias.len() != n_out {
        return Err(st.malformed(node, format!("{} coefficients and {} intercepts for {n} inputs", coef.len(), bias.len())));
    }
    let p = super::post(st.path, node)?;
    let score = match st.parts.last_mut() {
        Some(Part::Linear { rows, bias: b, post }) if *post == p => {
            let base = rows.len();
            rows.extend(coef.chunks(n).map(<[f32]>::to_vec));
            b.extend(bias);
            base
        }
        None => {
            st.parts.push(Part::Linear { rows: coef.chunks(n).map(<[f32]>::to_vec).collect(), bias, post: p });
            0
        }
        Some(_) => return Err(st.malformed(node, "only linear models with the same post_transform can share a graph")),
    };
    let classifier = node.op_type == "LinearClassifier";
    let out = node.output.get(usize::from(classifier)).cloned().unwrap_or_default();
    if let Some(label) = node.output.first().filter(|_| classifier) {
        st.values.insert(label.clone(), Value::Label);
    }
    st.values.insert(out, Value::Score { base: score, width: n_out, col: 0 });
    Ok(())
}
