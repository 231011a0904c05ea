//! Reading ONNX protobuf (tract-onnx's types): attributes and constant tensors.
use std::collections::HashMap;

use tract_onnx::pb::{AttributeProto, NodeProto, TensorProto};

/// Float attribute list (empty if absent).
pub fn floats(node: &NodeProto, name: &str) -> Vec<f32> {
    attr(node, name).map(|a| a.floats.clone()).unwrap_or_default()
}

/// Int attribute list (empty if absent).
pub fn ints(node: &NodeProto, name: &str) -> Vec<i64> {
    attr(node, name).map(|a| a.ints.clone()).unwrap_or_default()
}

/// String attribute list (empty if absent).
pub fn strings(node: &NodeProto, name: &str) -> Vec<String> {
    attr(node, name).map(|a| a.strings.iter().map(|s| String::from_utf8_lossy(s).into_owned()).collect()).unwrap_or_default()
}

/// A string attribute, or `default`.
pub fn string(node: &NodeProto, name: &str, default: &str) -> String {
    attr(node, name).map(|a| String::from_utf8_lossy(&a.s).into_owned()).filter(|s| !s.is_empty()).unwrap_or_else(|| default.to_string())
}

fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

/// The float values of a constant tensor (float_data or little-endian raw_data).
pub fn tensor_floats(t: &TensorProto) -> Vec<f32> {
    if !t.float_data.is_empty() {
        return t.float_data.clone();
    }
    t.raw_data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// The values of an integer constant tensor (int64_data, int32_data or raw_data).
pub fn tensor_ints(t: &TensorProto) -> Vec<i64> {
    const INT32: i32 = 6;
    if !t.int64_data.is_empty() {
        return t.int64_data.clone();
    }
    if !t.int32_data.is_empty() {
        return t.int32_data.iter().map(|&v| i64::from(v)).collect();
    }
    if t.data_type == INT32 {
        return t.raw_data.chunks_exact(4).map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect();
    }
    t.raw_data.chunks_exact(8).map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])).collect()
}

/// A constant tensor: its values (as floats, or as integers for integer tensors) and dims.
#[derive(Debug, Clone, Default)]
pub struct Const {
    pub floats: Vec<f32>,
    pub ints: Vec<i64>,
    pub dims: Vec<i64>,
}

fn konst(t: &TensorProto) -> Const {
    const FLOAT: i32 = 1;
    if t.data_type == FLOAT {
        Const { floats: tensor_floats(t), ints: Vec::new(), dims: t.dims.clone() }
    } else {
        let ints = tensor_ints(t);
        Const { floats: ints.iter().map(|&v| v as f32).collect(), ints, dims: t.dims.clone() }
    }
}

/// Constants by name: graph initializers and `Constant` nodes.
pub fn constants(graph: &tract_onnx::pb::GraphProto) -> HashMap<String, Const> {
    let mut out: HashMap<String, Const> = graph.initializer.iter().map(|t| (t.name.clone(), konst(t))).collect();
    for n in graph.node.iter().filter(|n| n.op_type == "Constant") {
        if let (Some(name), Some(t)) = (n.output.first(), attr(n, "value").and_then(|a| a.t.as_ref())) {
            out.insert(name.clone(), konst(t));
        }
    }
    out
}

/// An int attribute, or `default`.
pub fn int(node: &NodeProto, name: &str, default: i64) -> i64 {
    attr(node, name).map_or(default, |a| a.i)
}

/// A float attribute, or `default`.
pub fn float(node: &NodeProto, name: &str, default: f32) -> f32 {
    attr(node, name).map_or(default, |a| a.f)
}
