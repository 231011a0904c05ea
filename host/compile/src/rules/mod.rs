//! CEL rule text → the engine's rule bytecode.
//!
//! Parsing is `cel`'s parser (we do not write one); this module resolves names
//! against the bundle schema, checks labels and constructs, lowers to the engine's
//! [`Expr`](vitrine_engine::rules::Expr) builder, and lets the engine's type checker
//! verify the program. Every error points into the source (file, line, column, text),
//! unknown names come with the closest known one.
//!
//! The dialect, for rule authors:
//! - features by name (`tenure_months >= 12.0`) or as `client.tenure_months`; context
//!   fields by name or as `ctx.page`; `now` is the request time in unix seconds;
//! - `&&`, `||`, `!`, `? :`, `+ - * /`, comparisons, `x in [1, 2]`, `plan in ['plus', 'premium']`,
//!   `plan == 'premium'` on categoricals, `has(client.tenure_months)`, and
//!   `duration("7d")` (seconds; units s, m, h, d) for times relative to `now`;
//! - all numbers are doubles (integer literals are read as doubles); a missing feature is
//!   an error value that `&&`/`||` absorb as CEL does, and a rule passes only when `true`.
mod error;
mod lower;

pub use error::{RuleSourceError, Span};
use vitrine_engine::rules::Program;
use vitrine_engine::schema::Schema;

/// Compiles the CEL rule `source` (from `file`, for messages) against `schema`.
pub fn compile(file: &str, source: &str, schema: &Schema) -> Result<Program, RuleSourceError> {
    let (ast, info) = cel::parser::Parser::new().parse_with_source_info(source).map_err(|errors| {
        let first = errors.errors.first();
        let (line, column) = first.map_or((1, 1), |e| (e.pos.0.max(1) as usize, e.pos.1.max(1) as usize));
        let source_line = source.lines().nth(line - 1).unwrap_or_default().to_string();
        let text = source_line.chars().skip(column - 1).take(16).collect();
        RuleSourceError::Syntax {
            span: Box::new(Span { file: file.to_string(), line, column, text, source_line }),
            message: first.map_or_else(|| "cannot parse".to_string(), |e| e.msg.clone()),
        }
    })?;
    let lowerer = lower::Lowerer { file, source, info: &info, schema };
    let expr = lowerer.lower(&ast, 0)?;
    expr.compile(schema).map_err(|e| RuleSourceError::Type { span: lowerer.span(ast.id), message: e.to_string() })
}

#[cfg(test)]
mod tests;
