//! ONNX models (scikit-learn via skl2onnx, LightGBM via onnxmltools) → the engine's
//! compact model forms, with a parity gate: the compiled model must reproduce the
//! reference outputs shipped beside the model (`<model>.reference.json`, written by
//! onnxruntime) and tract-onnx's outputs where tract runs the graph, within 1e-5, or
//! the model is refused.
mod error;
mod graph;
mod lower;
mod ops;
mod parity;

pub use error::OnnxError;
pub use lower::{lower, Lowered};
pub use parity::{check_parity, random_rows, Parity, RANDOM_ROWS, TOLERANCE};
