//! Preprocessing on the input row: column selection (`ArrayFeatureExtractor`, `Gather`),
//! `Imputer`, `Scaler` and constant `Sub`/`Div`/`Add`/`Mul`, `OneHotEncoder`. Each becomes
//! per-column engine inputs: the row is `(x - offset) * scale` with an optional imputed
//! raw value, or a one-hot test.
use tract_onnx::pb::NodeProto;

use crate::onnx::graph::{float, floats, int, ints};
use crate::onnx::lower::{per_column, Col, Lowering, Value};
use crate::onnx::OnnxError;

/// Column selection by constant indices.
pub(super) fn select(st: &Lowering<'_>, node: &NodeProto, cols: &[Col]) -> Result<Value, OnnxError> {
    if node.op_type == "Gather" && int(node, "axis", 0) != 1 {
        return Err(st.malformed(node, "Gather on the input row must select columns (axis 1)"));
    }
    let idx = st.konst(node, 1).ok_or_else(|| st.malformed(node, "column indices must be a constant"))?;
    let picked = idx.ints.iter().map(|&k| usize::try_from(k).ok().and_then(|k| cols.get(k).copied())).collect::<Option<Vec<_>>>();
    Ok(Value::Row(picked.ok_or_else(|| st.malformed(node, format!("column indices {:?} outside a row of {}", idx.ints, cols.len())))?))
}

/// `Imputer` of missing values (NaN) with per-column constants.
pub(super) fn imputer(st: &Lowering<'_>, node: &NodeProto, cols: &[Col]) -> Result<Value, OnnxError> {
    let with = floats(node, "imputed_value_floats");
    if !float(node, "replaced_value_float", f32::NAN).is_nan() {
        return Err(st.malformed(node, "only missing values (NaN) can be imputed"));
    }
    let cols = per_column(cols, &with, |c, v| match c {
        // The engine imputes the raw value, before scaling.
        Col::Feature { j, offset, scale, .. } => Ok(Col::Feature { j, impute: Some(v / scale + offset), offset, scale }),
        Col::OneHot { .. } => Err("cannot impute a one-hot column".to_string()),
    })
    .map_err(|m| st.malformed(node, m))?;
    Ok(Value::Row(cols))
}

/// `Scaler` (offset, then scale) and constant `Sub`/`Div`/`Add`/`Mul`, folded into each
/// column's `(x - offset) * scale`.
pub(super) fn affine(st: &Lowering<'_>, node: &NodeProto, cols: &[Col]) -> Result<Value, OnnxError> {
    let (a, b) = match node.op_type.as_str() {
        "Scaler" => (floats(node, "offset"), floats(node, "scale")),
        _ => (
            st.konst(node, 1).map(|c| c.floats.clone()).ok_or_else(|| st.malformed(node, "the second operand must be a constant"))?,
            Vec::new(),
        ),
    };
    let op = node.op_type.as_str();
    let cols = per_column(cols, &a, |c, a| match c {
        // The row is (x - offset) * scale; fold the op in.
        Col::Feature { j, impute, offset, scale } => {
            let (offset, scale) = match op {
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
    .map_err(|m| st.malformed(node, m))?;
    let cols = if op == "Scaler" {
        per_column(&cols, &b, |c, s| match c {
            Col::Feature { j, impute, offset, scale } => Ok(Col::Feature { j, impute, offset, scale: scale * s }),
            Col::OneHot { .. } => Err("Scaler on a one-hot column is not supported".to_string()),
        })
        .map_err(|m| st.malformed(node, m))?
    } else {
        cols
    };
    if cols.iter().any(|c| matches!(c, Col::Feature { offset, scale, .. } if !offset.is_finite() || !scale.is_finite())) {
        return Err(st.malformed(node, "constant makes the row non-finite"));
    }
    Ok(Value::Row(cols))
}

/// `OneHotEncoder` with integer categories, on raw input columns.
pub(super) fn one_hot(st: &Lowering<'_>, node: &NodeProto, cols: &[Col]) -> Result<Value, OnnxError> {
    let cats = ints(node, "cats_int64s");
    if cats.is_empty() {
        return Err(st.malformed(
            node,
            "only integer categories (cats_int64s) are supported: encode a categorical feature as its vocabulary index before training",
        ));
    }
    let mut out = Vec::with_capacity(cols.len() * cats.len());
    for c in cols {
        match *c {
            Col::Feature { j, offset, scale, .. } if offset == 0.0 && scale == 1.0 => {
                out.extend(cats.iter().map(|&category| Col::OneHot { j, category }))
            }
            _ => return Err(st.malformed(node, "OneHotEncoder must read an input column directly")),
        }
    }
    Ok(Value::Row(out))
}
