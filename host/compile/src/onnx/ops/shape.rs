//! Shape-only ops and the score algebra of exported classifiers: `Mul` by 1 (LightGBM),
//! `1 - p` and `Concat` of `[1 - p, p]` (binary MLPs), and `Concat` of input columns.
use tract_onnx::pb::NodeProto;

use crate::onnx::graph::int;
use crate::onnx::lower::{Lowering, Value};
use crate::onnx::OnnxError;

/// LightGBM multiplies its output by a constant 1.
pub(super) fn times_one(st: &Lowering<'_>, node: &NodeProto) -> bool {
    st.konst(node, 1).is_some_and(|c| c.floats.iter().all(|x| *x == 1.0))
}

/// `Sub` with the constant 1 as its first operand.
pub(super) fn one_minus(st: &Lowering<'_>, node: &NodeProto) -> bool {
    st.konst(node, 0).is_some_and(|c| c.floats == [1.0])
}

/// `1 - p`, the negative class of a binary MLP.
pub(super) fn complement(st: &Lowering<'_>, node: &NodeProto) -> Result<Value, OnnxError> {
    match st.arg(node, 1) {
        Some(Value::Score { base, width: 1, col: 0 }) => Ok(Value::Complement(*base)),
        _ => Err(st.malformed(node, "1 - x is supported on a single score only")),
    }
}

/// Concat along the columns: rows join, and `[1 - p, p]` is a binary score.
pub(super) fn concat(st: &Lowering<'_>, node: &NodeProto) -> Result<Value, OnnxError> {
    if int(node, "axis", 1) != 1 && int(node, "axis", 1) != -1 {
        return Err(st.malformed(node, "Concat must join columns (axis 1)"));
    }
    let args: Vec<Option<&Value>> = node.input.iter().map(|n| st.values.get(n)).collect();
    match args.as_slice() {
        [Some(Value::Complement(k)), Some(Value::Score { base, width: 1, col: 0 })] if k == base => {
            Ok(Value::Score { base: *base, width: 1, col: 1 })
        }
        _ => {
            let mut out = Vec::new();
            for a in args {
                match a {
                    Some(Value::Row(cols)) => out.extend_from_slice(cols),
                    _ => return Err(st.malformed(node, "Concat is supported on input columns, or as [1 - p, p]")),
                }
            }
            Ok(Value::Row(out))
        }
    }
}
