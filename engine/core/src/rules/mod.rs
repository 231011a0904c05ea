//! Stage 3: rules as a typed, branch-free stack bytecode.
//!
//! Programs have no jumps: `&&`, `||` and `?:` evaluate both sides and combine them
//! with CEL's absorbing semantics (`false && x == false`, `true || x == true`, where
//! `x` may be null), so a program's cost is its length and its result never depends
//! on evaluation order. Missing values are `Null`; any arithmetic or comparison on
//! `Null` gives `Null`; a rule passes only when it yields `true`.
mod builder;
mod error;
mod eval;
mod fast;
mod verify;

pub use builder::{BinOp, Expr};
pub use error::RuleError;
pub use eval::{eval, eval_in, Inputs, Value};
pub use fast::Compiled;
use serde::{Deserialize, Serialize};

/// One bytecode instruction. Slot indices refer to the bundle schema.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Push a number.
    Num(f64),
    /// Push a boolean.
    Bool(bool),
    /// Push null.
    Null,
    /// Push the request's `now` (unix seconds).
    Now,
    FeatureNum(u16),
    FeatureBool(u16),
    FeatureCat(u16),
    ContextNum(u16),
    ContextBool(u16),
    ContextCat(u16),
    Add,
    Sub,
    Mul,
    /// Division; by zero gives null.
    Div,
    Neg,
    Lt,
    Le,
    Gt,
    Ge,
    /// Equality of two values of the same type.
    Eq,
    Ne,
    /// Pop a categorical, push whether it is vocabulary entry `n`.
    CatIs(u16),
    And,
    Or,
    Not,
    /// Pop a number, push whether it is in numeric set `n` of the program.
    InNums(u16),
    /// Pop a categorical, push whether it is in category set `n` of the program.
    InCats(u16),
    /// Pop anything, push whether it is null.
    IsNull,
    /// Pop `else`, `then`, `cond`; push `then` if cond is true, `else` if false, null if null.
    Select,
    /// Fused `FeatureNum(slot), Num(value), <cmp>`: the common rule clause in one dispatch.
    CmpFeature {
        slot: u16,
        cmp: Cmp,
        value: f64,
    },
    /// Fused `ContextNum(slot), Num(value), <cmp>`.
    CmpContext {
        slot: u16,
        cmp: Cmp,
        value: f64,
    },
    /// Fused `FeatureCat(slot), CatIs(cat)`.
    FeatureIs {
        slot: u16,
        cat: u16,
    },
    /// Fused `FeatureCat(slot), InCats(set)`.
    FeatureIn {
        slot: u16,
        set: u16,
    },
    /// Fused `FeatureNum(slot), Num(value), <arith>`: pushes the number (null if missing).
    /// (New ops go last: the bundle encoding numbers variants by position.)
    ArithFeature {
        slot: u16,
        arith: Arith,
        value: f64,
    },
}

/// Comparison of a fused clause.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// Arithmetic of a fused operand.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

impl Arith {
    /// `x ARITH y`; division by zero gives `None` (null), as `Op::Div` does.
    #[inline]
    pub fn apply(self, x: f64, y: f64) -> Option<f64> {
        match self {
            Arith::Add => Some(x + y),
            Arith::Sub => Some(x - y),
            Arith::Mul => Some(x * y),
            Arith::Div if y == 0.0 => None,
            Arith::Div => Some(x / y),
        }
    }
}

impl Cmp {
    /// `x CMP y`.
    #[inline]
    pub fn test(self, x: f64, y: f64) -> bool {
        match self {
            Cmp::Lt => x < y,
            Cmp::Le => x <= y,
            Cmp::Gt => x > y,
            Cmp::Ge => x >= y,
            Cmp::Eq => x == y,
            Cmp::Ne => x != y,
        }
    }
}

/// A compiled rule. The empty program means "always true".
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Program {
    pub ops: Vec<Op>,
    /// Constant numeric sets, each sorted ascending.
    pub num_sets: Vec<Vec<f64>>,
    /// Constant category sets, each sorted ascending.
    pub cat_sets: Vec<Vec<u16>>,
}

impl Program {
    /// The program that always passes.
    pub fn always() -> Self {
        Program::default()
    }

    /// True if the program reads any feature slot.
    pub fn reads_features(&self) -> bool {
        self.ops.iter().any(|op| {
            matches!(
                op,
                Op::FeatureNum(_)
                    | Op::FeatureBool(_)
                    | Op::FeatureCat(_)
                    | Op::CmpFeature { .. }
                    | Op::ArithFeature { .. }
                    | Op::FeatureIs { .. }
                    | Op::FeatureIn { .. }
            )
        })
    }
}

#[cfg(test)]
mod tests;
