//! `vitrine-host`: where people author and ship what the engine runs.
//!
//! Stages, one module each:
//! - [`rules`]: CEL rule text → the engine's typed rule bytecode, with errors that
//!   point into the source.
//!
//! The bundle builder, model lowering (ONNX), feature store, snapshot issuer and
//! server arrive with the host issues.
pub mod rules;
