//! `vitrine-compile`: the bundle compiler. A bundle source folder (`bundle.toml`, CEL
//! rule files, ONNX models) becomes the engine's [`Bundle`](vitrine_engine::bundle::Bundle):
//!
//! - [`rules`]: CEL rule text → the engine's typed rule bytecode, with errors that point
//!   into the source.
//! - [`onnx`]: ONNX models → the engine's compact models, with a parity gate.
//! - [`bundle`]: the folder → a checked bundle, ready to sign.
//!
//! This is the only crate that links `cel` and `tract-onnx`; the server and the runtime
//! do not depend on it.
pub mod bundle;
mod bundle_error;
pub mod onnx;
pub mod rules;

pub use bundle::{check, load, load_with_report, BuildError};
