//! Load-time specialisation of the most common rule shape: a conjunction of terms,
//! each a single-op clause or a disjunction of them (`c1 c2 Or c3 And …`). The engine
//! only needs pass/fail. Under CEL's absorbing logic a conjunction is `true` only when
//! every term is `true`, and a disjunction is `true` when any clause is `true`, so the
//! fast path stops at the first term that is not `true` and gives exactly the
//! interpreter's verdict. The step budget is still charged the full program length,
//! so costs do not depend on the data.
use super::eval::{eval_in, slot, Inputs, Value};
use super::{Op, Program, RuleError};

/// A rule prepared for evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Compiled {
    /// The empty program.
    Always,
    /// All of these terms hold; a term holds when any of its single-op clauses does.
    Conjunction(Vec<Vec<Op>>),
    /// Anything else: the stack interpreter.
    General,
}

fn is_clause(op: &Op) -> bool {
    matches!(
        op,
        Op::CmpFeature { .. }
            | Op::CmpContext { .. }
            | Op::FeatureIs { .. }
            | Op::FeatureIn { .. }
            | Op::FeatureBool(_)
            | Op::ContextBool(_)
            | Op::Bool(_)
    )
}

impl Compiled {
    /// Recognises the shape of `p` (already verified).
    pub fn new(p: &Program) -> Compiled {
        if p.ops.is_empty() {
            return Compiled::Always;
        }
        conjunction(&p.ops).map_or(Compiled::General, Compiled::Conjunction)
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
                Ok(clauses.iter().all(|term| term.iter().any(|c| clause(p, c, inputs))))
            }
        }
    }
}

/// Parses `term (term And)*` where `term = clause (clause Or)*`, in postfix.
fn conjunction(ops: &[Op]) -> Option<Vec<Vec<Op>>> {
    let term = |at: &mut usize| -> Option<Vec<Op>> {
        let first = ops.get(*at).filter(|op| is_clause(op))?;
        let mut t = vec![*first];
        *at += 1;
        while let (Some(c), Some(Op::Or)) = (ops.get(*at), ops.get(*at + 1)) {
            if !is_clause(c) {
                break;
            }
            t.push(*c);
            *at += 2;
        }
        Some(t)
    };
    let mut at = 0;
    let mut terms = vec![term(&mut at)?];
    while at < ops.len() {
        terms.push(term(&mut at)?);
        if ops.get(at) != Some(&Op::And) {
            return None;
        }
        at += 1;
    }
    Some(terms)
}

#[inline]
fn clause(p: &Program, op: &Op, inputs: &Inputs<'_>) -> bool {
    match *op {
        Op::CmpFeature { slot: i, cmp, value } => slot(inputs.features, i).is_some_and(|x| cmp.test(x as f64, value)),
        Op::CmpContext { slot: i, cmp, value } => slot(inputs.context, i).is_some_and(|x| cmp.test(x as f64, value)),
        Op::FeatureIs { slot: i, cat } => slot(inputs.features, i).is_some_and(|x| x as u16 == cat),
        Op::FeatureIn { slot: i, set } => {
            slot(inputs.features, i).is_some_and(|x| p.cat_sets.get(set as usize).is_some_and(|s| s.binary_search(&(x as u16)).is_ok()))
        }
        Op::FeatureBool(i) => slot(inputs.features, i).is_some_and(|x| x != 0.0),
        Op::ContextBool(i) => slot(inputs.context, i).is_some_and(|x| x != 0.0),
        Op::Bool(b) => b,
        _ => false,
    }
}
