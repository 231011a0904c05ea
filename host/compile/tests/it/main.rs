//! The bundle compiler on real ONNX exports: lowering per op family and the parity gate.
mod onnx_models;
