//! Load-time type check: a verified program cannot hit a type or stack error.
use super::{Op, Program, RuleError};
use crate::limits::{MAX_RULE_OPS, MAX_RULE_STACK};
use crate::schema::{Schema, SlotType};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ty {
    Null,
    Num,
    Bool,
    Cat(u16),
}

impl From<SlotType> for Ty {
    fn from(t: SlotType) -> Self {
        match t {
            SlotType::Num => Ty::Num,
            SlotType::Bool => Ty::Bool,
            SlotType::Cat(n) => Ty::Cat(n),
        }
    }
}

fn is(t: Ty, want: Ty) -> bool {
    t == Ty::Null || t == want
}

impl Program {
    /// Checks length, slot indices, constant sets, types and stack discipline.
    pub fn verify(&self, schema: &Schema) -> Result<(), RuleError> {
        if self.ops.len() > MAX_RULE_OPS {
            return Err(RuleError::TooLong { count: self.ops.len(), limit: MAX_RULE_OPS });
        }
        for (i, set) in self.num_sets.iter().enumerate() {
            if set.iter().any(|x| !x.is_finite()) || set.windows(2).any(|w| w[0] >= w[1]) {
                return Err(RuleError::Type { at: 0, reason: format!("numeric set {i} must be finite, sorted and without repeats") });
            }
        }
        for (i, set) in self.cat_sets.iter().enumerate() {
            if set.windows(2).any(|w| w[0] >= w[1]) {
                return Err(RuleError::Type { at: 0, reason: format!("category set {i} must be sorted and without repeats") });
            }
        }
        let mut stack: Vec<Ty> = Vec::with_capacity(MAX_RULE_STACK);
        for (at, op) in self.ops.iter().enumerate() {
            let ty = step(self, schema, &mut stack, at, *op)?;
            if stack.len() >= MAX_RULE_STACK {
                return Err(RuleError::Stack { at, reason: "deeper than 32" });
            }
            stack.push(ty);
        }
        match stack.as_slice() {
            [] => Ok(()),
            [t] if is(*t, Ty::Bool) => Ok(()),
            [t] => Err(RuleError::Type { at: self.ops.len(), reason: format!("a rule must yield a boolean, this one yields {t:?}") }),
            _ => Err(RuleError::Stack { at: self.ops.len(), reason: "does not end with one value" }),
        }
    }
}

fn step(p: &Program, schema: &Schema, stack: &mut Vec<Ty>, at: usize, op: Op) -> Result<Ty, RuleError> {
    let mut pop = || stack.pop().ok_or(RuleError::Stack { at, reason: "underflow" });
    let bad = |reason: String| RuleError::Type { at, reason };
    let feature = |i: u16| -> Result<Ty, RuleError> {
        schema.features.get(i as usize).map(|f| Ty::from(f.slot_type())).ok_or(RuleError::BadIndex {
            what: "feature",
            index: i as usize,
            len: schema.features.len(),
        })
    };
    let context = |i: u16| -> Result<Ty, RuleError> {
        schema.context.get(i as usize).map(|f| Ty::from(f.slot_type())).ok_or(RuleError::BadIndex {
            what: "context field",
            index: i as usize,
            len: schema.context.len(),
        })
    };
    let expect = |got: Ty, want: Ty, what: &str| -> Result<(), RuleError> {
        if is(got, want) {
            Ok(())
        } else {
            Err(RuleError::Type { at, reason: format!("{what} needs {want:?}, got {got:?}") })
        }
    };
    Ok(match op {
        Op::Num(x) if !x.is_finite() => return Err(bad("numeric constant must be finite".into())),
        Op::Num(_) | Op::Now => Ty::Num,
        Op::Bool(_) => Ty::Bool,
        Op::Null => Ty::Null,
        Op::FeatureNum(i) | Op::FeatureBool(i) | Op::FeatureCat(i) => {
            let t = feature(i)?;
            check_slot_op(op, t).map_err(bad)?;
            t
        }
        Op::ContextNum(i) | Op::ContextBool(i) | Op::ContextCat(i) => {
            let t = context(i)?;
            check_slot_op(op, t).map_err(bad)?;
            t
        }
        Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let b = pop()?;
            let a = pop()?;
            expect(a, Ty::Num, "arithmetic/comparison")?;
            expect(b, Ty::Num, "arithmetic/comparison")?;
            if matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge) {
                Ty::Bool
            } else {
                Ty::Num
            }
        }
        Op::Neg => {
            expect(pop()?, Ty::Num, "negation")?;
            Ty::Num
        }
        Op::Eq | Op::Ne => {
            let b = pop()?;
            let a = pop()?;
            if a != b && a != Ty::Null && b != Ty::Null {
                return Err(bad(format!("cannot compare {a:?} with {b:?}")));
            }
            Ty::Bool
        }
        Op::CatIs(n) => match pop()? {
            Ty::Null => Ty::Bool,
            Ty::Cat(len) if n < len => Ty::Bool,
            t => return Err(bad(format!("category test #{n} on {t:?}"))),
        },
        Op::And | Op::Or => {
            expect(pop()?, Ty::Bool, "and/or")?;
            expect(pop()?, Ty::Bool, "and/or")?;
            Ty::Bool
        }
        Op::Not => {
            expect(pop()?, Ty::Bool, "not")?;
            Ty::Bool
        }
        Op::InNums(n) => {
            if p.num_sets.get(n as usize).is_none() {
                return Err(RuleError::BadIndex { what: "numeric set", index: n as usize, len: p.num_sets.len() });
            }
            expect(pop()?, Ty::Num, "numeric `in`")?;
            Ty::Bool
        }
        Op::InCats(n) => {
            let set =
                p.cat_sets.get(n as usize).ok_or(RuleError::BadIndex { what: "category set", index: n as usize, len: p.cat_sets.len() })?;
            match pop()? {
                Ty::Null => {}
                Ty::Cat(len) if set.iter().all(|&c| c < len) => {}
                t => return Err(bad(format!("category `in` on {t:?}"))),
            }
            Ty::Bool
        }
        Op::IsNull => {
            pop()?;
            Ty::Bool
        }
        Op::CmpFeature { slot, value, .. } => {
            if !value.is_finite() {
                return Err(bad("numeric constant must be finite".into()));
            }
            expect(feature(slot)?, Ty::Num, "fused comparison")?;
            Ty::Bool
        }
        Op::ArithFeature { slot, value, .. } => {
            if !value.is_finite() {
                return Err(bad("numeric constant must be finite".into()));
            }
            expect(feature(slot)?, Ty::Num, "fused arithmetic")?;
            Ty::Num
        }
        Op::CmpContext { slot, value, .. } => {
            if !value.is_finite() {
                return Err(bad("numeric constant must be finite".into()));
            }
            expect(context(slot)?, Ty::Num, "fused comparison")?;
            Ty::Bool
        }
        Op::FeatureIs { slot, cat } => match feature(slot)? {
            Ty::Cat(len) if cat < len => Ty::Bool,
            t => return Err(bad(format!("category test #{cat} on {t:?}"))),
        },
        Op::FeatureIn { slot, set } => {
            let s = p.cat_sets.get(set as usize).ok_or(RuleError::BadIndex {
                what: "category set",
                index: set as usize,
                len: p.cat_sets.len(),
            })?;
            match feature(slot)? {
                Ty::Cat(len) if s.iter().all(|&c| c < len) => Ty::Bool,
                t => return Err(bad(format!("category `in` on {t:?}"))),
            }
        }
        Op::Select => {
            let otherwise = pop()?;
            let then = pop()?;
            expect(pop()?, Ty::Bool, "condition")?;
            match (then, otherwise) {
                (Ty::Null, t) | (t, Ty::Null) => t,
                (a, b) if a == b => a,
                (a, b) => return Err(bad(format!("branches differ: {a:?} vs {b:?}"))),
            }
        }
    })
}

fn check_slot_op(op: Op, t: Ty) -> Result<(), String> {
    let ok = matches!(
        (op, t),
        (Op::FeatureNum(_) | Op::ContextNum(_), Ty::Num)
            | (Op::FeatureBool(_) | Op::ContextBool(_), Ty::Bool)
            | (Op::FeatureCat(_) | Op::ContextCat(_), Ty::Cat(_))
    );
    if ok {
        Ok(())
    } else {
        Err(format!("{op:?} reads a slot of type {t:?}"))
    }
}
