//! Rule compilation errors: each points into the source.
use std::fmt;

/// Where in a rule file, and what text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// The offending source text.
    pub text: String,
    /// The whole source line, for the caret display.
    pub source_line: String,
}

/// What went wrong. (The span is boxed to keep `Result`s small.)
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleSourceError {
    #[error("{span}: syntax error: {message}")]
    Syntax { span: Box<Span>, message: String },
    #[error("{span}: unknown {what} `{name}`{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownName { span: Box<Span>, what: &'static str, name: String, suggestion: Option<String> },
    #[error("{span}: unsupported CEL construct: {construct}")]
    Unsupported { span: Box<Span>, construct: String },
    #[error("{span}: {message}")]
    Type { span: Box<Span>, message: String },
    #[error("{span}: `{label}` is not a value of `{field}` (one of: {known})")]
    UnknownLabel { span: Box<Span>, field: String, label: String, known: String },
}

impl RuleSourceError {
    /// Stable code, as the engine's errors have.
    pub fn code(&self) -> &'static str {
        match self {
            RuleSourceError::Syntax { .. } => "rule_syntax",
            RuleSourceError::UnknownName { .. } => "rule_unknown_name",
            RuleSourceError::Unsupported { .. } => "rule_unsupported",
            RuleSourceError::Type { .. } => "rule_type",
            RuleSourceError::UnknownLabel { .. } => "rule_unknown_label",
        }
    }

    /// The position of the error.
    pub fn span(&self) -> &Span {
        match self {
            RuleSourceError::Syntax { span, .. }
            | RuleSourceError::UnknownName { span, .. }
            | RuleSourceError::Unsupported { span, .. }
            | RuleSourceError::Type { span, .. }
            | RuleSourceError::UnknownLabel { span, .. } => span,
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: `{}`\n  | {}\n  | {:>width$}",
            self.file,
            self.line,
            self.column,
            self.text,
            self.source_line,
            "^",
            width = self.column
        )
    }
}
