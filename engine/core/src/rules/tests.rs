use super::{eval, Expr, Inputs, RuleError, Value};
use crate::testkit::Fixture;

/// Compiles `e` over the telco schema and evaluates it on `features` / `context`.
fn check(e: Expr, features: &[f32], context: &[f32], expect: Value) {
    let schema = Fixture::telco().bundle.schema;
    let p = e.compile(&schema).unwrap_or_else(|err| panic!("{err}"));
    let mut f = vec![f32::NAN; schema.features.len()];
    f[..features.len()].copy_from_slice(features);
    let mut c = vec![f32::NAN; schema.context.len()];
    c[..context.len()].copy_from_slice(context);
    let mut budget = 10_000;
    let got = eval(&p, &Inputs { features: &f, context: &c, now: 1_000 }, &mut budget).unwrap();
    assert_eq!(got, expect, "{e:?}");
    assert_eq!(budget, 10_000 - p.ops.len() as u32);
}

fn f(n: &str) -> Expr {
    Expr::feature(n)
}

#[test]
fn comparisons_arithmetic_and_null() {
    check(f("tenure_months").ge(12.0), &[24.0], &[], Value::Bool(true));
    check(f("tenure_months").add(6.0).mul(2.0).eq(60.0), &[24.0], &[], Value::Bool(true));
    check(f("tenure_months").div(0.0).is_null(), &[24.0], &[], Value::Bool(true));
    check(f("tenure_months").ge(12.0), &[], &[], Value::Null);
    check(f("tenure_months").is_null(), &[], &[], Value::Bool(true));
    check(Expr::Neg(Box::new(f("tenure_months"))).lt(0.0), &[3.0], &[], Value::Bool(true));
    check(Expr::Now.gt(999.0), &[], &[], Value::Bool(true));
}

#[test]
fn logic_absorbs_null_like_cel() {
    let null = || f("tenure_months").ge(1.0);
    check(Expr::Bool(false).and(null()), &[], &[], Value::Bool(false));
    check(null().and(Expr::Bool(false)), &[], &[], Value::Bool(false));
    check(Expr::Bool(true).and(null()), &[], &[], Value::Null);
    check(Expr::Bool(true).or(null()), &[], &[], Value::Bool(true));
    check(null().or(Expr::Bool(false)), &[], &[], Value::Null);
    check(null().not(), &[], &[], Value::Null);
    check(Expr::Bool(true).select(1.0, 2.0).eq(1.0), &[], &[], Value::Bool(true));
    check(null().select(1.0, 2.0).is_null(), &[], &[], Value::Bool(true));
}

#[test]
fn categoricals_sets_and_context() {
    // plan is feature 12: basic, plus, premium
    let mut row = vec![0.0; 13];
    row[12] = 2.0;
    check(f("plan").is("premium"), &row, &[], Value::Bool(true));
    check(f("plan").in_labels(&["basic", "plus"]), &row, &[], Value::Bool(false));
    check(f("tenure_months").in_nums(&[3.0, 0.0]), &row, &[], Value::Bool(true));
    check(Expr::context("device").is("mobile").and(Expr::context("logged_in")), &[], &[0.0, 0.0, 0.0, 1.0], Value::Bool(true));
    check(Expr::context("hour").ge(18.0), &[], &[0.0, 0.0, 20.0], Value::Bool(true));
}

#[test]
fn compile_errors_name_what_is_wrong() {
    let schema = Fixture::telco().bundle.schema;
    let err = |e: Expr| e.compile(&schema).unwrap_err();
    assert_eq!(err(f("fibre_elig").eq(true)), RuleError::UnknownName { what: "feature", name: "fibre_elig".into() });
    assert_eq!(err(f("plan").is("gold")).code(), "rule_unknown_name");
    assert_eq!(err(f("tenure_months").is("x")).code(), "rule_type");
    assert_eq!(err(f("plan").add(1.0)).code(), "rule_type");
    assert_eq!(err(f("tenure_months")).code(), "rule_type");
    assert_eq!(err(f("fiber_eligible").eq(3.0)).code(), "rule_type");
}

#[test]
fn the_step_budget_is_enforced() {
    let schema = Fixture::telco().bundle.schema;
    let p = f("tenure_months").ge(1.0).and(f("lines").lt(3.0)).compile(&schema).unwrap();
    let mut budget = p.ops.len() as u32 - 1;
    let err = eval(&p, &Inputs { features: &[], context: &[], now: 0 }, &mut budget).unwrap_err();
    assert_eq!(err.code(), "rule_step_limit");
}
