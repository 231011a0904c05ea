//! CEL AST → engine [`Expr`], resolving names, labels and durations.
use cel::common::ast::{operators as op, CallExpr, Expr as Cel, IdedExpr, LiteralValue, SourceInfo};
use vitrine_engine::rules::{BinOp, Expr};
use vitrine_engine::schema::{ContextKind, FeatureKind, Schema};

use super::{RuleSourceError, Span};
use vitrine_base::suggest::closest;

/// Deepest nesting accepted (the engine also bounds program length).
const MAX_DEPTH: usize = 64;

pub(super) struct Lowerer<'a> {
    pub file: &'a str,
    pub source: &'a str,
    pub info: &'a SourceInfo,
    pub schema: &'a Schema,
}

impl Lowerer<'_> {
    /// The source span of node `id`.
    pub fn span(&self, id: u64) -> Box<Span> {
        // `cel` records the offset of the node's first and last characters.
        let (start, stop) = self.info.offset_for(id).map_or((0, self.source.len()), |(a, b)| (a as usize, b as usize + 1));
        let start = start.min(self.source.len());
        let stop = stop.clamp(start, self.source.len());
        let before = &self.source[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        let source_line = self.source[line_start..].lines().next().unwrap_or_default().to_string();
        let text = if stop > start {
            self.source[start..stop].to_string()
        } else {
            source_line.chars().skip(column - 1).take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.').collect()
        };
        Box::new(Span { file: self.file.to_string(), line, column, text, source_line })
    }

    fn unsupported(&self, id: u64, construct: impl Into<String>) -> RuleSourceError {
        RuleSourceError::Unsupported { span: self.span(id), construct: construct.into() }
    }

    fn type_error(&self, id: u64, message: impl Into<String>) -> RuleSourceError {
        RuleSourceError::Type { span: self.span(id), message: message.into() }
    }

    pub fn lower(&self, e: &IdedExpr, depth: usize) -> Result<Expr, RuleSourceError> {
        if depth > MAX_DEPTH {
            return Err(self.unsupported(e.id, format!("nesting deeper than {MAX_DEPTH}")));
        }
        let d = depth + 1;
        match &e.expr {
            Cel::Literal(lit) => {
                match lit {
                    LiteralValue::Boolean(b) => Ok(Expr::Bool(*b.inner())),
                    LiteralValue::Int(i) => Ok(Expr::Num(*i.inner() as f64)),
                    LiteralValue::UInt(u) => Ok(Expr::Num(*u.inner() as f64)),
                    LiteralValue::Double(x) => Ok(Expr::Num(*x.inner())),
                    LiteralValue::Null => Ok(Expr::Null),
                    LiteralValue::String(_) => Err(self
                        .type_error(e.id, "a string can only be compared with a categorical feature or context field (`==`, `!=`, `in`)")),
                    LiteralValue::Bytes(_) => Err(self.unsupported(e.id, "bytes literal")),
                }
            }
            Cel::Ident(name) => self.name(e.id, name, None),
            Cel::Select(s) => {
                let Cel::Ident(ns) = &s.operand.expr else { return Err(self.unsupported(e.id, "field selection on an expression")) };
                if !matches!(ns.as_str(), "client" | "features" | "ctx" | "context") {
                    return Err(RuleSourceError::UnknownName {
                        span: self.span(s.operand.id),
                        what: "namespace (`client.` for features, `ctx.` for context fields)",
                        name: ns.clone(),
                        suggestion: closest(ns, ["client", "ctx"].into_iter()),
                    });
                }
                let var = self.name(e.id, &s.field, Some(ns.as_str()))?;
                Ok(if s.test { var.is_null().not() } else { var })
            }
            Cel::Call(call) => self.call(e.id, call, d),
            Cel::List(_) => Err(self.unsupported(e.id, "list literal outside `x in [...]`")),
            Cel::Map(_) => Err(self.unsupported(e.id, "map literal")),
            Cel::Struct(_) => Err(self.unsupported(e.id, "message construction")),
            Cel::Comprehension(_) => Err(self.unsupported(e.id, "comprehension (all, exists, exists_one, map, filter)")),
            Cel::Unspecified => Err(self.unsupported(e.id, "empty expression")),
        }
    }

    /// A feature, context field or `now`; `ns` is `client` or `ctx` when qualified.
    fn name(&self, id: u64, name: &str, ns: Option<&str>) -> Result<Expr, RuleSourceError> {
        let feature = self.schema.feature(name).is_some();
        let context = self.schema.context_field(name).is_some();
        let unknown = |what: &'static str, known: Vec<&str>| RuleSourceError::UnknownName {
            span: self.span(id),
            what,
            name: name.to_string(),
            suggestion: closest(name, known.into_iter()),
        };
        let features = || self.schema.features.iter().map(|f| f.name.as_str());
        let contexts = || self.schema.context.iter().map(|f| f.name.as_str());
        match ns {
            Some("client" | "features") if feature => Ok(Expr::feature(name)),
            Some("client" | "features") => Err(unknown("feature", features().collect())),
            Some("ctx" | "context") if context => Ok(Expr::context(name)),
            Some("ctx" | "context") => Err(unknown("context field", contexts().collect())),
            Some(_) => Err(unknown("name", features().chain(contexts()).collect())),
            None if feature => Ok(Expr::feature(name)),
            None if context => Ok(Expr::context(name)),
            None if name == "now" => Ok(Expr::Now),
            None => Err(unknown("feature", features().chain(contexts()).chain(["now"]).collect())),
        }
    }

    /// The vocabulary of a categorical variable, for label checks.
    fn vocab(&self, e: &IdedExpr, lowered: &Expr) -> Result<(String, Vec<String>), RuleSourceError> {
        let found = match lowered {
            Expr::Feature(n) => self.schema.feature(n).and_then(|i| match &self.schema.features[i].kind {
                FeatureKind::Categorical { vocab } => Some((n.clone(), vocab.clone())),
                _ => None,
            }),
            Expr::Context(n) => self.schema.context_field(n).and_then(|i| match &self.schema.context[i].kind {
                ContextKind::Category { vocab } => Some((n.clone(), vocab.clone())),
                _ => None,
            }),
            _ => None,
        };
        found.ok_or_else(|| self.type_error(e.id, "a string can only be compared with a categorical feature or context field"))
    }

    fn label(&self, e: &IdedExpr, field: &str, vocab: &[String]) -> Result<String, RuleSourceError> {
        let Cel::Literal(LiteralValue::String(s)) = &e.expr else { return Err(self.type_error(e.id, "expected a string label")) };
        let label = s.inner().to_string();
        if !vocab.contains(&label) {
            return Err(RuleSourceError::UnknownLabel { span: self.span(e.id), field: field.to_string(), label, known: vocab.join(", ") });
        }
        Ok(label)
    }

    fn call(&self, id: u64, call: &CallExpr, d: usize) -> Result<Expr, RuleSourceError> {
        if call.target.is_some() {
            return Err(self.unsupported(id, format!("method call `.{}()`", call.func_name)));
        }
        let args = &call.args;
        let arg = |i: usize| self.lower(&args[i], d);
        let is_str = |i: usize| matches!(args.get(i).map(|a| &a.expr), Some(Cel::Literal(LiteralValue::String(_))));
        let bin = |b: BinOp| -> Result<Expr, RuleSourceError> { Ok(Expr::Bin(b, Box::new(arg(0)?), Box::new(arg(1)?))) };
        let f = call.func_name.as_str();
        match (f, args.len()) {
            (op::LOGICAL_AND, 2) => bin(BinOp::And),
            (op::LOGICAL_OR, 2) => bin(BinOp::Or),
            (op::LOGICAL_NOT, 1) => Ok(arg(0)?.not()),
            (op::NEGATE, 1) => Ok(Expr::Neg(Box::new(arg(0)?))),
            (op::ADD, 2) => bin(BinOp::Add),
            (op::SUBSTRACT, 2) => bin(BinOp::Sub),
            (op::MULTIPLY, 2) => bin(BinOp::Mul),
            (op::DIVIDE, 2) => bin(BinOp::Div),
            (op::LESS, 2) => bin(BinOp::Lt),
            (op::LESS_EQUALS, 2) => bin(BinOp::Le),
            (op::GREATER, 2) => bin(BinOp::Gt),
            (op::GREATER_EQUALS, 2) => bin(BinOp::Ge),
            (op::EQUALS | op::NOT_EQUALS, 2) if is_str(0) || is_str(1) => {
                let (var, lit) = if is_str(1) { (0, 1) } else { (1, 0) };
                let lowered = arg(var)?;
                let (field, vocab) = self.vocab(&args[var], &lowered)?;
                let label = self.label(&args[lit], &field, &vocab)?;
                let test = lowered.is(&label);
                Ok(if f == op::EQUALS { test } else { test.not() })
            }
            (op::EQUALS, 2) => bin(BinOp::Eq),
            (op::NOT_EQUALS, 2) => bin(BinOp::Ne),
            (op::IN, 2) => {
                let Cel::List(list) = &args[1].expr else {
                    return Err(self.unsupported(args[1].id, "`in` over something other than a list literal"));
                };
                let lhs = arg(0)?;
                if list.elements.iter().any(|e| matches!(e.expr, Cel::Literal(LiteralValue::String(_)))) {
                    let (field, vocab) = self.vocab(&args[0], &lhs)?;
                    let labels = list.elements.iter().map(|e| self.label(e, &field, &vocab)).collect::<Result<Vec<_>, _>>()?;
                    Ok(Expr::InLabels(Box::new(lhs), labels))
                } else {
                    let nums = list
                        .elements
                        .iter()
                        .map(|e| match &e.expr {
                            Cel::Literal(LiteralValue::Int(i)) => Ok(*i.inner() as f64),
                            Cel::Literal(LiteralValue::UInt(u)) => Ok(*u.inner() as f64),
                            Cel::Literal(LiteralValue::Double(x)) => Ok(*x.inner()),
                            _ => Err(self.unsupported(e.id, "`in` list items other than number or string literals")),
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok(Expr::InNums(Box::new(lhs), nums))
                }
            }
            (op::CONDITIONAL, 3) => Ok(Expr::Select(Box::new(arg(0)?), Box::new(arg(1)?), Box::new(arg(2)?))),
            ("duration", 1) => match &args[0].expr {
                Cel::Literal(LiteralValue::String(s)) => vitrine_base::duration::secs_f64(s.inner())
                    .map(Expr::Num)
                    .ok_or_else(|| self.type_error(args[0].id, "a duration is a number with a unit: s, m, h or d (e.g. \"36h\", \"7d\")")),
                _ => Err(self.unsupported(id, "duration() of a non-literal")),
            },
            (op::MODULO, _) => Err(self.unsupported(id, "`%` (modulo)")),
            (op::INDEX | op::OPT_INDEX, _) => Err(self.unsupported(id, "indexing `[...]`")),
            _ => Err(self.unsupported(id, format!("function `{f}`"))),
        }
    }
}
