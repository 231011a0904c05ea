//! `vitrine-host`: where people author and ship what the engine runs.
//!
//! Stages, one module each:
//! - [`keys`]: Ed25519 key pairs with a role (bundle or snapshot).
//! - [`onnx`]: ONNX models → the engine's compact models, with a parity gate.
//! - [`source`]: a bundle source folder (`bundle.toml` + rule files) → a signed bundle.
//! - [`store`]: a typed feature store (SQLite) fed from CSV, and the snapshot
//!   contents it issues.
//! - [`rules`]: CEL rule text → the engine's typed rule bytecode, with errors that
//!   point into the source.
//!
//! The bundle builder, model lowering (ONNX), feature store, snapshot issuer and
//! server arrive with the host issues.
pub mod demo;
pub mod feedback;
pub mod keys;
pub mod learn;
pub mod measure;
pub mod onnx;
pub mod plan;
pub mod rules;
pub mod runtime;
pub mod serve;
pub mod source;
pub mod store;
pub mod table;
