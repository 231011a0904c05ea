/// Errors in a schema (at bundle load) or in values checked against it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SchemaError {
    #[error("schema has {count} {what}, more than the limit of {limit}")]
    TooLarge { what: &'static str, count: usize, limit: usize },
    #[error("duplicate {what} name `{name}`")]
    Duplicate { what: &'static str, name: String },
    #[error("feature `{name}`: {reason}")]
    BadFeature { name: String, reason: String },
}

impl SchemaError {
    pub fn code(&self) -> &'static str {
        match self {
            SchemaError::TooLarge { .. } => "schema_too_large",
            SchemaError::Duplicate { .. } => "schema_duplicate_name",
            SchemaError::BadFeature { .. } => "schema_bad_feature",
        }
    }
}
