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

/// Constants by name: graph initializers and `Constant` nodes.
pub fn constants(graph: &tract_onnx::pb::GraphProto) -> HashMap<String, Vec<f32>> {
    let mut out: HashMap<String, Vec<f32>> = graph.initializer.iter().map(|t| (t.name.clone(), tensor_floats(t))).collect();
    for n in graph.node.iter().filter(|n| n.op_type == "Constant") {
        if let (Some(name), Some(t)) = (n.output.first(), attr(n, "value").and_then(|a| a.t.as_ref())) {
            out.insert(name.clone(), tensor_floats(t));
        }
    }
    out
}
