//! One function per ONNX op family, dispatched by op type and by what the node's first
//! input holds. The order of the arms matters: the label path and shape-only ops are
//! recognised before an op is read as preprocessing or as a model body.
mod linear;
mod mlp;
mod preprocess;
mod shape;
mod trees;

use std::path::Path;

use tract_onnx::pb::NodeProto;
use vitrine_engine::models::Post;

use super::graph::string;
use super::lower::{Lowering, Value};
use super::OnnxError;

/// Applies `node`: `Some(value)` is what every output of the node holds; `None` when the
/// op recorded its outputs itself (model bodies) or has none that matter (`Constant`).
pub(super) fn apply(st: &mut Lowering<'_>, node: &NodeProto) -> Result<Option<Value>, OnnxError> {
    let first = st.arg(node, 0).cloned();
    let row = match &first {
        Some(Value::Row(cols)) => Some(cols.clone()),
        _ => None,
    };
    match (node.op_type.as_str(), first) {
        ("Constant", _) => Ok(None),
        ("ArgMax", Some(Value::Score { .. })) => Ok(Some(Value::Label)),
        ("ArrayFeatureExtractor", _) if st.arg(node, 1) == Some(&Value::Label) => Ok(Some(Value::Label)),
        ("Cast" | "Identity" | "Reshape" | "Flatten", Some(v)) => Ok(Some(v)),
        ("Mul", Some(v @ Value::Score { .. })) if shape::times_one(st, node) => Ok(Some(v)),
        ("ArrayFeatureExtractor" | "Gather", Some(Value::Row(cols))) => preprocess::select(st, node, &cols).map(Some),
        ("Concat", _) => shape::concat(st, node).map(Some),
        ("Imputer", Some(Value::Row(cols))) => preprocess::imputer(st, node, &cols).map(Some),
        ("Scaler" | "Sub" | "Div" | "Add" | "Mul", Some(Value::Row(cols))) => preprocess::affine(st, node, &cols).map(Some),
        ("OneHotEncoder", Some(Value::Row(cols))) => preprocess::one_hot(st, node, &cols).map(Some),
        ("LinearClassifier" | "LinearRegressor", Some(Value::Row(cols))) => linear::lower(st, node, &cols).map(|()| None),
        ("TreeEnsembleClassifier" | "TreeEnsembleRegressor", Some(Value::Row(cols))) if st.parts.is_empty() => {
            trees::lower(st, node, &cols).map(|()| None)
        }
        ("MatMul" | "Gemm", Some(_)) => mlp::layer(st, node, row.as_deref()).map(|()| None),
        ("Add" | "Relu" | "Sigmoid" | "Tanh" | "Softmax", Some(v @ Value::Score { .. })) if st.mlp_head() == node.input.first() => {
            mlp::activation(st, node).map(|()| Some(v))
        }
        ("Sub", _) if shape::one_minus(st, node) => shape::complement(st, node).map(Some),
        (op, _) if !SUPPORTED.contains(&op) => {
            Err(OnnxError::UnsupportedOp { path: st.path.into(), node: node.name.clone(), op: op.to_string() })
        }
        (op, _) => Err(st.malformed(node, format!("`{op}` is supported on the input row or a model's scores, not here"))),
    }
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

/// A linear or tree model's `post_transform`.
pub(super) fn post(path: &Path, node: &NodeProto) -> Result<Post, OnnxError> {
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
