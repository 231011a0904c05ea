/// Errors building, checking or running rule programs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleError {
    #[error("rule program has {count} ops, more than the limit of {limit}")]
    TooLong { count: usize, limit: usize },
    #[error("rule op {at}: {reason}")]
    Type { at: usize, reason: String },
    #[error("rule op {at}: stack {reason}")]
    Stack { at: usize, reason: &'static str },
    #[error("rule refers to unknown {what} `{name}`")]
    UnknownName { what: &'static str, name: String },
    #[error("rule refers to {what} index {index}, the schema has {len}")]
    BadIndex { what: &'static str, index: usize, len: usize },
    #[error("rule evaluation exceeded the request's budget of {limit} steps")]
    StepLimit { limit: u32 },
}

impl RuleError {
    pub fn code(&self) -> &'static str {
        match self {
            RuleError::TooLong { .. } => "rule_too_long",
            RuleError::Type { .. } => "rule_type",
            RuleError::Stack { .. } => "rule_stack",
            RuleError::UnknownName { .. } => "rule_unknown_name",
            RuleError::BadIndex { .. } => "rule_bad_index",
            RuleError::StepLimit { .. } => "rule_step_limit",
        }
    }
}
