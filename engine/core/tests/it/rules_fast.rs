//! Differential: the conjunction fast path gives the interpreter's verdict.
use proptest::prelude::*;
use vitrine_engine::rules::{eval, BinOp, Compiled, Expr, Inputs, Value};
use vitrine_engine::testkit::Fixture;

fn clause() -> impl Strategy<Value = Expr> {
    prop_oneof![
        (0usize..4, 0.0f64..60.0).prop_map(|(c, v)| {
            let f = Expr::feature(["tenure_months", "lines", "overage_gb", "monthly_spend"][c]);
            [f.clone().ge(v), f.clone().lt(v), f.clone().eq(v.floor()), f.ne(v.floor())][(v as usize) % 4].clone()
        }),
        (0usize..3).prop_map(|i| Expr::feature("plan").is(["basic", "plus", "premium"][i])),
        Just(Expr::feature("segment").in_labels(&["youth", "senior"])),
        Just(Expr::feature("fiber_eligible")),
        (0.0f64..24.0).prop_map(|h| Expr::context("hour").ge(h)),
        Just(Expr::context("logged_in")),
        any::<bool>().prop_map(Expr::Bool),
    ]
}

fn features(values: &[Option<u8>]) -> Vec<f32> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| match (i, v) {
            (_, None) => f32::NAN,
            (4 | 5 | 13, Some(x)) => (x % 2) as f32,
            (9 | 12, Some(x)) => (x % 3) as f32,
            (11, Some(x)) => (x % 4) as f32,
            (_, Some(x)) => *x as f32,
        })
        .collect()
}

fn context(values: &[Option<u8>]) -> Vec<f32> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| match (i, v) {
            (_, None) => f32::NAN,
            (0, Some(x)) => (x % 4) as f32,
            (1, Some(x)) => (x % 3) as f32,
            (3, Some(x)) => (x % 2) as f32,
            (_, Some(x)) => *x as f32,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn the_fast_path_agrees_with_the_interpreter(
        clauses in proptest::collection::vec(clause(), 1..7),
        ors in proptest::collection::vec(any::<bool>(), 6),
        values in proptest::collection::vec(proptest::option::of(0u8..80), 14),
        ctx in proptest::collection::vec(proptest::option::of(0u8..24), 4),
    ) {
        let schema = Fixture::telco().bundle.schema;
        // Left-deep chains mixing && and ||, plus an explicit CNF shape.
        let mut chain = clauses[0].clone();
        for (c, or) in clauses[1..].iter().zip(&ors) {
            chain = if *or { chain.or(c.clone()) } else { chain.and(c.clone()) };
        }
        let last = clauses[clauses.len() - 1].clone();
        let cnf = Expr::Bin(BinOp::Or, Box::new(clauses[0].clone()), Box::new(last.clone())).and(last.or(clauses[0].clone()));
        let (f, c) = (features(&values), context(&ctx));
        let inputs = Inputs { features: &f, context: &c, now: 0 };
        for (e, must_be_fast) in [(chain, ors.iter().take(clauses.len() - 1).all(|o| !o)), (cnf, true)] {
            let p = e.compile(&schema).unwrap();
            let (mut b1, mut b2) = (10_000u32, 10_000u32);
            let slow = eval(&p, &inputs, &mut b1).unwrap() == Value::Bool(true);
            let compiled = Compiled::new(&p);
            let fast = compiled.passes(&p, &inputs, &mut b2, &mut Vec::new()).unwrap();
            prop_assert_eq!(slow, fast);
            prop_assert_eq!(b1, b2);
            if must_be_fast {
                prop_assert!(matches!(compiled, Compiled::Conjunction(_)), "{:?}", p.ops);
            }
        }
    }
}
