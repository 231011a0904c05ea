//! A Rust builder for rule programs, resolving names against a schema. The host's CEL
//! compiler lowers to [`Expr`] too, so both share name resolution and the type check.
//!
//! ```
//! use vitrine_engine::{rules::Expr, testkit::Fixture};
//! let schema = Fixture::telco().bundle.schema;
//! let rule = Expr::feature("tenure_months").ge(12.0).and(Expr::feature("plan").is("premium").not());
//! let program = rule.compile(&schema).unwrap();
//! assert!(program.reads_features());
//! ```
use super::{Arith, Cmp, Op, Program, RuleError};
use crate::schema::{ContextKind, FeatureKind, Schema};

/// A rule expression before compilation.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    Bool(bool),
    Null,
    /// The request's `now`, unix seconds.
    Now,
    /// A feature by name.
    Feature(String),
    /// A context field by name.
    Context(String),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    IsNull(Box<Expr>),
    /// A categorical feature or context field equals this vocabulary label.
    Is(Box<Expr>, String),
    InNums(Box<Expr>, Vec<f64>),
    /// A categorical is one of these labels.
    InLabels(Box<Expr>, Vec<String>),
    /// `cond ? then : otherwise`.
    Select(Box<Expr>, Box<Expr>, Box<Expr>),
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

impl From<f64> for Expr {
    fn from(x: f64) -> Self {
        Expr::Num(x)
    }
}
impl From<bool> for Expr {
    fn from(b: bool) -> Self {
        Expr::Bool(b)
    }
}

macro_rules! binop {
    ($($name:ident => $op:ident),*) => {
        $(
            #[doc = concat!("`self ", stringify!($name), " rhs`.")]
            pub fn $name(self, rhs: impl Into<Expr>) -> Expr {
                Expr::Bin(BinOp::$op, Box::new(self), Box::new(rhs.into()))
            }
        )*
    };
}

#[allow(clippy::should_implement_trait)]
impl Expr {
    pub fn feature(name: &str) -> Expr {
        Expr::Feature(name.to_string())
    }
    pub fn context(name: &str) -> Expr {
        Expr::Context(name.to_string())
    }
    binop!(add => Add, sub => Sub, mul => Mul, div => Div, lt => Lt, le => Le, gt => Gt, ge => Ge, eq => Eq, ne => Ne, and => And, or => Or);
    pub fn not(self) -> Expr {
        Expr::Not(Box::new(self))
    }
    pub fn is_null(self) -> Expr {
        Expr::IsNull(Box::new(self))
    }
    pub fn is(self, label: &str) -> Expr {
        Expr::Is(Box::new(self), label.to_string())
    }
    pub fn in_nums(self, set: &[f64]) -> Expr {
        Expr::InNums(Box::new(self), set.to_vec())
    }
    pub fn in_labels(self, labels: &[&str]) -> Expr {
        Expr::InLabels(Box::new(self), labels.iter().map(|s| s.to_string()).collect())
    }
    pub fn select(self, then: impl Into<Expr>, otherwise: impl Into<Expr>) -> Expr {
        Expr::Select(Box::new(self), Box::new(then.into()), Box::new(otherwise.into()))
    }

    /// Compiles to a verified [`Program`] over `schema`.
    pub fn compile(&self, schema: &Schema) -> Result<Program, RuleError> {
        let mut p = Program::default();
        emit(self, schema, &mut p, 0)?;
        p.verify(schema)?;
        Ok(p)
    }
}

fn vocab<'a>(e: &Expr, schema: &'a Schema) -> Result<&'a [String], RuleError> {
    let not_cat = |name: &str| RuleError::Type { at: 0, reason: format!("`{name}` is not categorical") };
    match e {
        Expr::Feature(n) => match schema.feature(n).map(|i| &schema.features[i].kind) {
            Some(FeatureKind::Categorical { vocab }) => Ok(vocab),
            Some(_) => Err(not_cat(n)),
            None => Err(RuleError::UnknownName { what: "feature", name: n.clone() }),
        },
        Expr::Context(n) => match schema.context_field(n).map(|i| &schema.context[i].kind) {
            Some(ContextKind::Category { vocab }) => Ok(vocab),
            Some(_) => Err(not_cat(n)),
            None => Err(RuleError::UnknownName { what: "context field", name: n.clone() }),
        },
        _ => Err(RuleError::Type { at: 0, reason: "a label test needs a categorical feature or context field".into() }),
    }
}

fn label(vocab: &[String], label: &str) -> Result<u16, RuleError> {
    vocab
        .iter()
        .position(|v| v == label)
        .map(|i| i as u16)
        .ok_or_else(|| RuleError::UnknownName { what: "category label", name: label.to_string() })
}

fn emit(e: &Expr, schema: &Schema, p: &mut Program, depth: usize) -> Result<(), RuleError> {
    if depth > 64 || p.ops.len() > crate::limits::MAX_RULE_OPS {
        return Err(RuleError::TooLong { count: p.ops.len(), limit: crate::limits::MAX_RULE_OPS });
    }
    let d = depth + 1;
    match e {
        Expr::Num(x) => p.ops.push(Op::Num(*x)),
        Expr::Bool(b) => p.ops.push(Op::Bool(*b)),
        Expr::Null => p.ops.push(Op::Null),
        Expr::Now => p.ops.push(Op::Now),
        Expr::Feature(n) => {
            let i = schema.feature(n).ok_or_else(|| RuleError::UnknownName { what: "feature", name: n.clone() })?;
            p.ops.push(match &schema.features[i].kind {
                FeatureKind::Numeric { .. } => Op::FeatureNum(i as u16),
                FeatureKind::Boolean => Op::FeatureBool(i as u16),
                FeatureKind::Categorical { .. } => Op::FeatureCat(i as u16),
            });
        }
        Expr::Context(n) => {
            let i = schema.context_field(n).ok_or_else(|| RuleError::UnknownName { what: "context field", name: n.clone() })?;
            p.ops.push(match &schema.context[i].kind {
                ContextKind::Number => Op::ContextNum(i as u16),
                ContextKind::Boolean => Op::ContextBool(i as u16),
                ContextKind::Category { .. } => Op::ContextCat(i as u16),
            });
        }
        Expr::Bin(op, a, b) if fused_cmp(*op, a, b, schema).is_some() => {
            if let (Some((slot, cmp, feature)), Expr::Num(value)) = (fused_cmp(*op, a, b, schema), &**b) {
                p.ops.push(if feature { Op::CmpFeature { slot, cmp, value: *value } } else { Op::CmpContext { slot, cmp, value: *value } });
            }
        }
        Expr::Bin(op, a, b) if fused_arith(*op, a, b, schema).is_some() => {
            if let (Some((slot, arith)), Expr::Num(value)) = (fused_arith(*op, a, b, schema), &**b) {
                p.ops.push(Op::ArithFeature { slot, arith, value: *value });
            }
        }
        Expr::Bin(op, a, b) => {
            emit(a, schema, p, d)?;
            emit(b, schema, p, d)?;
            p.ops.push(match op {
                BinOp::Add => Op::Add,
                BinOp::Sub => Op::Sub,
                BinOp::Mul => Op::Mul,
                BinOp::Div => Op::Div,
                BinOp::Lt => Op::Lt,
                BinOp::Le => Op::Le,
                BinOp::Gt => Op::Gt,
                BinOp::Ge => Op::Ge,
                BinOp::Eq => Op::Eq,
                BinOp::Ne => Op::Ne,
                BinOp::And => Op::And,
                BinOp::Or => Op::Or,
            });
        }
        Expr::Neg(a) | Expr::Not(a) | Expr::IsNull(a) => {
            emit(a, schema, p, d)?;
            p.ops.push(match e {
                Expr::Neg(_) => Op::Neg,
                Expr::Not(_) => Op::Not,
                _ => Op::IsNull,
            });
        }
        Expr::Is(a, l) => {
            let idx = label(vocab(a, schema)?, l)?;
            match categorical_feature(a, schema) {
                Some(slot) => p.ops.push(Op::FeatureIs { slot, cat: idx }),
                None => {
                    emit(a, schema, p, d)?;
                    p.ops.push(Op::CatIs(idx));
                }
            }
        }
        Expr::InNums(a, set) => {
            let mut s = set.clone();
            s.sort_by(f64::total_cmp);
            s.dedup();
            emit(a, schema, p, d)?;
            p.num_sets.push(s);
            p.ops.push(Op::InNums((p.num_sets.len() - 1) as u16));
        }
        Expr::InLabels(a, labels) => {
            let v = vocab(a, schema)?;
            let mut s = labels.iter().map(|l| label(v, l)).collect::<Result<Vec<_>, _>>()?;
            s.sort_unstable();
            s.dedup();
            p.cat_sets.push(s);
            let set = (p.cat_sets.len() - 1) as u16;
            match categorical_feature(a, schema) {
                Some(slot) => p.ops.push(Op::FeatureIn { slot, set }),
                None => {
                    emit(a, schema, p, d)?;
                    p.ops.push(Op::InCats(set));
                }
            }
        }
        Expr::Select(c, t, f) => {
            emit(c, schema, p, d)?;
            emit(t, schema, p, d)?;
            emit(f, schema, p, d)?;
            p.ops.push(Op::Select);
        }
    }
    Ok(())
}

/// `feature CMP constant` (or context field) over a number: the clause the engine
/// fuses. Returns the slot, the comparison and whether it is a feature.
fn fused_cmp(op: BinOp, a: &Expr, b: &Expr, schema: &Schema) -> Option<(u16, Cmp, bool)> {
    let cmp = match op {
        BinOp::Lt => Cmp::Lt,
        BinOp::Le => Cmp::Le,
        BinOp::Gt => Cmp::Gt,
        BinOp::Ge => Cmp::Ge,
        BinOp::Eq => Cmp::Eq,
        BinOp::Ne => Cmp::Ne,
        _ => return None,
    };
    match (a, b) {
        (Expr::Feature(name), Expr::Num(_)) => {
            let i = schema.feature(name)?;
            matches!(schema.features[i].kind, FeatureKind::Numeric { .. }).then_some((i as u16, cmp, true))
        }
        (Expr::Context(name), Expr::Num(_)) => {
            let i = schema.context_field(name)?;
            matches!(schema.context[i].kind, ContextKind::Number).then_some((i as u16, cmp, false))
        }
        _ => None,
    }
}

/// `feature ARITH constant` over a numeric feature, fused into one op.
fn fused_arith(op: BinOp, a: &Expr, b: &Expr, schema: &Schema) -> Option<(u16, Arith)> {
    let arith = match op {
        BinOp::Add => Arith::Add,
        BinOp::Sub => Arith::Sub,
        BinOp::Mul => Arith::Mul,
        BinOp::Div => Arith::Div,
        _ => return None,
    };
    let (Expr::Feature(name), Expr::Num(_)) = (a, b) else { return None };
    let i = schema.feature(name)?;
    matches!(schema.features[i].kind, FeatureKind::Numeric { .. }).then_some((i as u16, arith))
}

/// The slot of `e` if it is a categorical feature.
fn categorical_feature(e: &Expr, schema: &Schema) -> Option<u16> {
    let Expr::Feature(name) = e else { return None };
    let i = schema.feature(name)?;
    matches!(schema.features[i].kind, FeatureKind::Categorical { .. }).then_some(i as u16)
}
