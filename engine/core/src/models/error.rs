/// Errors in a compiled model, found when the bundle is loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("model `{model}`: {reason}")]
    Shape { model: String, reason: String },
    #[error("model `{model}`: input {input} refers to {what} {index}, which does not exist")]
    BadIndex { model: String, input: usize, what: &'static str, index: usize },
    #[error("model `{model}`: tree node {node}: {reason}")]
    TreeStructure { model: String, node: usize, reason: String },
    #[error("model `{model}` has {count} parameters, more than the limit of {limit}")]
    TooLarge { model: String, count: usize, limit: usize },
    #[error("model `{model}`: parameter is not finite")]
    NotFinite { model: String },
}

impl ModelError {
    pub fn code(&self) -> &'static str {
        match self {
            ModelError::Shape { .. } => "model_shape",
            ModelError::BadIndex { .. } => "model_bad_index",
            ModelError::TreeStructure { .. } => "model_tree_structure",
            ModelError::TooLarge { .. } => "model_too_large",
            ModelError::NotFinite { .. } => "model_not_finite",
        }
    }
}
