//! Load-time specialisation of the most common rule shape: a conjunction of single-op
//! clauses (`c1 c2 And c3 And …`). The engine only needs pass/fail, and a rule passes
//! only when every clause is `true`, so the conjunction can stop at the first clause
//! that is not `true` and give exactly the interpreter's verdict. The step budget is
//! still charged the full program length, so costs do not depend on the data.
use super::eval::{eval_in, slot, Inputs, Value};
use super::{Op, Program, RuleError};

/// A rule prepared for evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Compiled {
    /// The empty program.
    Always,
    /// All of these single-op clauses.
    Conjunction(Vec<Op>),
    /// Anything else: the stack interpreter.
    General,
}

fn is_clause(op: &Op) -> bool {
    matches!(op, Op::CmpFeature { .. } | Op::CmpContext { .. } | Op::FeatureIs { .. } | Op::FeatureIn { .. } | Op::FeatureBool(_) | Op::ContextBool(_) | Op::Bool(_))
}

impl Compiled {
    /// Recognises the shape of `p` (already verified).
    pub fn new(p: &Program) -> Compiled {
        match p.ops.as_slice() {
            [] => Compiled::Always,
            [first, rest @ ..] if is_clause(first) && rest.len() % 2 == 0 && rest.chunks(2).all(|w| is_clause(&w[0]) && w[1] == Op::And) => {
                Compiled::Conjunction(std::iter::once(*first).chain(rest.chunks(2).map(|w| w[0])).collect())
            }
            _ => Compiled::General,
        }
    }

    /// Whether `p` (from which `self` was made) yields `true`.
    #[inline]
    pub fn passes(&self, p: &Program, inputs: &Inputs<'_>, budget: &mut u32, stack: &mut Vec<Value>) -> Result<bool, RuleError> {
        match self {
            Compiled::Always => Ok(true),
            Compiled::General => Ok(eval_in(p, inputs, budget, stack)? == Value::Bool(true)),
            Compiled::Conjunction(clauses) => {
                let cost = p.ops.len() as u32;
                if cost > *budget {
                    return Err(RuleError::StepLimit { limit: *budget });
                }
                *budget -= cost;
                Ok(clauses.iter().all(|c| clause(p, c, inputs)))
            }
        }
    }
}

#[inline]
fn clause(p: &Program, op: &Op, inputs: &Inputs<'_>) -> bool {
    match *op {
        Op::CmpFeature { slot: i, cmp, value } => slot(inputs.features, i).is_some_and(|x| cmp.test(x as f64, value)),
        Op::CmpContext { slot: i, cmp, value } => slot(inputs.context, i).is_some_and(|x| cmp.test(x as f64, value)),
        Op::FeatureIs { slot: i, cat } => slot(inputs.features, i).is_some_and(|x| x as u16 == cat),
        Op::FeatureIn { slot: i, set } => slot(inputs.features, i).is_some_and(|x| p.cat_sets.get(set as usize).is_some_and(|s| s.binary_search(&(x as u16)).is_ok())),
        Op::FeatureBool(i) => slot(inputs.features, i).is_some_and(|x| x != 0.0),
        Op::ContextBool(i) => slot(inputs.context, i).is_some_and(|x| x != 0.0),
        Op::Bool(b) => b,
        _ => false,
    }
}
