//! The allocation-free evaluator.
use super::{Op, Program, RuleError};
use crate::limits::MAX_RULE_STACK;

/// A runtime value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Null,
    Num(f64),
    Bool(bool),
    Cat(u16),
}

/// What a program may read: feature and context slots (`NaN` = missing) and `now`.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub features: &'a [f32],
    pub context: &'a [f32],
    pub now: u64,
}

#[inline]
pub(super) fn slot(values: &[f32], i: u16) -> Option<f32> {
    values.get(i as usize).copied().filter(|x| !x.is_nan())
}

fn num2(a: Value, b: Value, f: impl Fn(f64, f64) -> Value) -> Value {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => f(x, y),
        _ => Value::Null,
    }
}

fn equal(a: Value, b: Value) -> Option<bool> {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => Some(x == y),
        (Value::Bool(x), Value::Bool(y)) => Some(x == y),
        (Value::Cat(x), Value::Cat(y)) => Some(x == y),
        _ => None,
    }
}

fn truth(v: Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(b),
        _ => None,
    }
}

fn opt_bool(b: Option<bool>) -> Value {
    b.map_or(Value::Null, Value::Bool)
}

/// Runs `program` with a fresh stack; see [`eval_in`].
pub fn eval(program: &Program, inputs: &Inputs<'_>, budget: &mut u32) -> Result<Value, RuleError> {
    eval_in(program, inputs, budget, &mut Vec::with_capacity(MAX_RULE_STACK))
}

/// Runs `program`, charging its length to `budget`, on a caller-owned `stack` (reused
/// across calls so evaluation does not allocate). Programs are branch-free, so the
/// cost is known up front; the empty program yields `true`.
pub fn eval_in(program: &Program, inputs: &Inputs<'_>, budget: &mut u32, stack: &mut Vec<Value>) -> Result<Value, RuleError> {
    let cost = program.ops.len() as u32;
    if cost > *budget {
        return Err(RuleError::StepLimit { limit: *budget });
    }
    *budget -= cost;
    if program.ops.is_empty() {
        return Ok(Value::Bool(true));
    }
    stack.clear();
    macro_rules! pop {
        () => {
            match stack.pop() {
                Some(v) => v,
                None => return Err(RuleError::Stack { at: 0, reason: "underflow" }),
            }
        };
    }
    for (at, op) in program.ops.iter().enumerate() {
        let v = match *op {
            Op::Num(x) => Value::Num(x),
            Op::Bool(b) => Value::Bool(b),
            Op::Null => Value::Null,
            Op::Now => Value::Num(inputs.now as f64),
            Op::FeatureNum(i) => slot(inputs.features, i).map_or(Value::Null, |x| Value::Num(x as f64)),
            Op::FeatureBool(i) => slot(inputs.features, i).map_or(Value::Null, |x| Value::Bool(x != 0.0)),
            Op::FeatureCat(i) => slot(inputs.features, i).map_or(Value::Null, |x| Value::Cat(x as u16)),
            Op::ContextNum(i) => slot(inputs.context, i).map_or(Value::Null, |x| Value::Num(x as f64)),
            Op::ContextBool(i) => slot(inputs.context, i).map_or(Value::Null, |x| Value::Bool(x != 0.0)),
            Op::ContextCat(i) => slot(inputs.context, i).map_or(Value::Null, |x| Value::Cat(x as u16)),
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                let b = pop!();
                let a = pop!();
                num2(a, b, |x, y| match *op {
                    Op::Add => Value::Num(x + y),
                    Op::Sub => Value::Num(x - y),
                    Op::Mul => Value::Num(x * y),
                    Op::Div if y == 0.0 => Value::Null,
                    Op::Div => Value::Num(x / y),
                    Op::Lt => Value::Bool(x < y),
                    Op::Le => Value::Bool(x <= y),
                    Op::Gt => Value::Bool(x > y),
                    _ => Value::Bool(x >= y),
                })
            }
            Op::Neg => match pop!() {
                Value::Num(x) => Value::Num(-x),
                _ => Value::Null,
            },
            Op::Eq | Op::Ne => {
                let b = pop!();
                let a = pop!();
                opt_bool(equal(a, b).map(|e| if *op == Op::Eq { e } else { !e }))
            }
            Op::CatIs(n) => match pop!() {
                Value::Cat(c) => Value::Bool(c == n),
                _ => Value::Null,
            },
            Op::And => {
                let b = truth(pop!());
                let a = truth(pop!());
                match (a, b) {
                    (Some(false), _) | (_, Some(false)) => Value::Bool(false),
                    (Some(true), Some(true)) => Value::Bool(true),
                    _ => Value::Null,
                }
            }
            Op::Or => {
                let b = truth(pop!());
                let a = truth(pop!());
                match (a, b) {
                    (Some(true), _) | (_, Some(true)) => Value::Bool(true),
                    (Some(false), Some(false)) => Value::Bool(false),
                    _ => Value::Null,
                }
            }
            Op::Not => opt_bool(truth(pop!()).map(|b| !b)),
            Op::InNums(n) => match pop!() {
                Value::Num(x) => {
                    let set = program.num_sets.get(n as usize).map(Vec::as_slice).unwrap_or(&[]);
                    Value::Bool(set.binary_search_by(|y| y.total_cmp(&x)).is_ok())
                }
                _ => Value::Null,
            },
            Op::InCats(n) => match pop!() {
                Value::Cat(c) => {
                    let set = program.cat_sets.get(n as usize).map(Vec::as_slice).unwrap_or(&[]);
                    Value::Bool(set.binary_search(&c).is_ok())
                }
                _ => Value::Null,
            },
            Op::IsNull => Value::Bool(pop!() == Value::Null),
            Op::CmpFeature { slot: i, cmp, value } => {
                slot(inputs.features, i).map_or(Value::Null, |x| Value::Bool(cmp.test(x as f64, value)))
            }
            Op::CmpContext { slot: i, cmp, value } => {
                slot(inputs.context, i).map_or(Value::Null, |x| Value::Bool(cmp.test(x as f64, value)))
            }
            Op::ArithFeature { slot: i, arith, value } => {
                slot(inputs.features, i).and_then(|x| arith.apply(x as f64, value)).map_or(Value::Null, Value::Num)
            }
            Op::FeatureIs { slot: i, cat } => slot(inputs.features, i).map_or(Value::Null, |x| Value::Bool(x as u16 == cat)),
            Op::FeatureIn { slot: i, set } => slot(inputs.features, i).map_or(Value::Null, |x| {
                let set = program.cat_sets.get(set as usize).map(Vec::as_slice).unwrap_or(&[]);
                Value::Bool(set.binary_search(&(x as u16)).is_ok())
            }),
            Op::Select => {
                let otherwise = pop!();
                let then = pop!();
                match truth(pop!()) {
                    Some(true) => then,
                    Some(false) => otherwise,
                    None => Value::Null,
                }
            }
        };
        if stack.len() >= MAX_RULE_STACK {
            return Err(RuleError::Stack { at, reason: "overflow" });
        }
        stack.push(v);
    }
    match stack.as_slice() {
        [v] => Ok(*v),
        _ => Err(RuleError::Stack { at: program.ops.len(), reason: "does not end with one value" }),
    }
}
