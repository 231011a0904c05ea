//! Model lowering errors.
use std::path::PathBuf;

/// Why an ONNX model could not become an engine model.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    #[error("{path}: cannot read the ONNX model: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}: node `{node}`: op `{op}` is not supported (supported: LinearClassifier, LinearRegressor, TreeEnsembleClassifier, TreeEnsembleRegressor, MatMul/Gemm + Add + Relu/Sigmoid/Tanh/Softmax layers, and on the input row Scaler, Imputer, OneHotEncoder, ArrayFeatureExtractor/Gather, Concat, Sub/Div/Add/Mul by a constant, Cast, Identity, Reshape)")]
    UnsupportedOp { path: PathBuf, node: String, op: String },
    #[error("{path}: node `{node}`: {message}")]
    Malformed { path: PathBuf, node: String, message: String },
    #[error("{path}: no reference outputs at {reference}, and tract-onnx cannot run the model to check parity ({tract}). Provide reference outputs: score sample rows with onnxruntime and write them as `<model>.reference.json` ({{\"rows\": [[..]], \"outputs\": {{\"<output name>\": [[..]]}}}}; see host/compile/models/generate.py)")]
    NoReference { path: PathBuf, reference: PathBuf, tract: String },
    /// The reference file (`<model>.reference.json`) is too small or does not match the model.
    #[error("{path}: {message}")]
    Reference { path: PathBuf, message: String },
    #[error("{path}: parity check failed: max |engine - reference| = {max_diff:e} on output `{output}` (limit 1e-5)")]
    Parity { path: PathBuf, output: String, max_diff: f64 },
    #[error("{path}: the compiled model is invalid: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl OnnxError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            OnnxError::Read { .. } => "model_read",
            OnnxError::UnsupportedOp { .. } => "model_unsupported_op",
            OnnxError::Malformed { .. } => "model_malformed",
            OnnxError::NoReference { .. } => "model_no_reference",
            OnnxError::Reference { .. } => "model_reference",
            OnnxError::Parity { .. } => "model_parity",
            OnnxError::Invalid { .. } => "model_invalid",
        }
    }
}
