//! Dense layers: `MatMul`/`Gemm` on the input row or the previous layer, followed by a
//! bias `Add` and an activation (`Relu`, `Sigmoid`, `Tanh`, `Softmax`), become the
//! engine's MLP layers.
use tract_onnx::pb::NodeProto;
use vitrine_engine::models::{Activation, Dense};

use crate::onnx::graph::{float, int, Const};
use crate::onnx::lower::{Col, Lowering, Part, Value};
use crate::onnx::OnnxError;

/// A `MatMul`/`Gemm`: the first layer (on the input row `row`) or the next one.
pub(super) fn layer(st: &mut Lowering<'_>, node: &NodeProto, row: Option<&[Col]>) -> Result<(), OnnxError> {
    let (n, continues) = match (row, st.parts.last()) {
        (Some(cols), None) => {
            st.same_row(node, cols)?;
            (cols.len(), false)
        }
        (None, Some(Part::Mlp { layers, head })) if node.input.first() == Some(head) => {
            (layers.last().map_or(0, |l| l.n_out as usize), true)
        }
        _ => return Err(st.malformed(node, format!("{} must read the input row or the previous layer", node.op_type))),
    };
    let w = st.konst(node, 1).ok_or_else(|| st.malformed(node, "the weights must be a constant"))?;
    let layer = dense(node, w, st.konst(node, 2), n).map_err(|m| st.malformed(node, m))?;
    let width = layer.n_out as usize;
    let out = node.output.first().cloned().unwrap_or_default();
    match (continues, st.parts.last_mut()) {
        (true, Some(Part::Mlp { layers, head })) => {
            layers.push(layer);
            *head = out.clone();
        }
        _ => st.parts.push(Part::Mlp { layers: vec![layer], head: out.clone() }),
    }
    st.values.insert(out, Value::Score { base: 0, width, col: 0 });
    Ok(())
}

/// A bias `Add` or an activation on the last layer's output.
pub(super) fn activation(st: &mut Lowering<'_>, node: &NodeProto) -> Result<(), OnnxError> {
    let bias = st.konst(node, 1).map(|c| c.floats.clone());
    let path = st.path;
    let malformed = |m: String| OnnxError::Malformed { path: path.into(), node: node.name.clone(), message: m };
    let Some(Part::Mlp { layers, head }) = st.parts.last_mut() else { return Err(malformed("no layer to continue".into())) };
    let layer = layers.last_mut().ok_or_else(|| malformed("no layer".into()))?;
    match node.op_type.as_str() {
        "Add" if layer.activation == Activation::Identity => {
            let b = bias.ok_or_else(|| malformed("the bias must be a constant".into()))?;
            let n = layer.n_out as usize;
            for (o, x) in layer.bias.iter_mut().enumerate() {
                *x += if b.len() == 1 {
                    b[0]
                } else {
                    b.get(o).copied().ok_or_else(|| malformed(format!("bias of {} for {n} units", b.len())))?
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
    Ok(())
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
