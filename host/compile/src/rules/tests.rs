use proptest::prelude::*;
use vitrine_engine::rules::{eval, Inputs, Value};
use vitrine_engine::schema::{ContextKind, FeatureKind, Schema};
use vitrine_engine::testkit::Fixture;

use super::{compile, RuleSourceError};

fn schema() -> Schema {
    Fixture::telco().bundle.schema
}

/// Compiles `src` and evaluates it on `features` / `context` given by name.
fn check(src: &str, features: &[(&str, f32)], context: &[(&str, f32)], expect: Value) {
    let s = schema();
    let p = compile("rule.cel", src, &s).unwrap_or_else(|e| panic!("{src}: {e}"));
    let mut f = vec![f32::NAN; s.features.len()];
    for (n, v) in features {
        f[s.feature(n).unwrap()] = *v;
    }
    let mut c = vec![f32::NAN; s.context.len()];
    for (n, v) in context {
        c[s.context_field(n).unwrap()] = *v;
    }
    let got = eval(&p, &Inputs { features: &f, context: &c, now: 1_800_000_000 }, &mut 10_000).unwrap();
    assert_eq!(got, expect, "{src}");
}

fn err(src: &str) -> RuleSourceError {
    compile("offers/fibre.cel", src, &schema()).expect_err(src)
}

#[test]
fn the_dialect_compiles_and_evaluates() {
    check("tenure_months >= 12 && !open_complaint", &[("tenure_months", 24.0), ("open_complaint", 0.0)], &[], Value::Bool(true));
    check("client.tenure_months + 6.0 * 2.0 == 36.0", &[("tenure_months", 24.0)], &[], Value::Bool(true));
    check("plan == 'premium' || plan in ['plus']", &[("plan", 1.0)], &[], Value::Bool(true));
    check("'basic' != plan", &[("plan", 0.0)], &[], Value::Bool(false));
    check("lines in [1, 2.0, 3]", &[("lines", 2.0)], &[], Value::Bool(true));
    check("ctx.page == 'offers' ? hour >= 18 : logged_in", &[], &[("page", 1.0), ("hour", 20.0)], Value::Bool(true));
    check("has(client.tenure_months)", &[], &[], Value::Bool(false));
    check("has(client.tenure_months) && tenure_months > 1.5", &[("tenure_months", 2.0)], &[], Value::Bool(true));
    check("now - duration(\"7d\") > 1799000000", &[], &[], Value::Bool(true));
    check("-monthly_spend < -10.0", &[("monthly_spend", 20.0)], &[], Value::Bool(true));
    check("tenure_months >= 12", &[], &[], Value::Null);
}

#[test]
fn errors_point_into_the_source() {
    let e = err("fibre_elig && !open_complaint");
    assert_eq!(e.code(), "rule_unknown_name");
    assert_eq!((e.span().line, e.span().column, e.span().text.as_str()), (1, 1, "fibre_elig"));
    assert!(e.to_string().contains("did you mean `fiber_eligible`?"), "{e}");
    assert!(e.to_string().starts_with("offers/fibre.cel:1:1"), "{e}");

    let e = err("tenure_months > 3 &&\n  plan == 'gold'");
    assert_eq!(e.code(), "rule_unknown_label");
    assert_eq!((e.span().line, e.span().column), (2, 11));
    assert!(e.to_string().contains("basic, plus, premium"), "{e}");

    let e = err("tenure_months > 3 && [1, 2].exists(x, x > 1)");
    assert_eq!(e.code(), "rule_unsupported");
    let e = err("{'a': 1}['a'] == 1");
    assert_eq!(e.code(), "rule_unsupported");
    let e = err("size(plan) > 2");
    assert!(matches!(&e, RuleSourceError::Unsupported { construct, .. } if construct.contains("size")), "{e}");
    let e = err("tenure_months % 2 == 0");
    assert!(e.to_string().contains("modulo"), "{e}");
    let e = err("tenure_months == 'x'");
    assert_eq!(e.code(), "rule_type");
    let e = err("plan + 1 > 2");
    assert_eq!(e.code(), "rule_type");
    let e = err("tenure_months >");
    assert_eq!(e.code(), "rule_syntax");
    let e = err("ctx.tenure_months > 3");
    assert!(e.to_string().contains("unknown context field"), "{e}");
    let e = err("clint.tenure_months > 3");
    assert!(e.to_string().contains("did you mean `client`"), "{e}");
    assert_eq!((e.span().column, e.span().text.as_str()), (1, "clint"));
    let e = err("now > duration(\"7w\")");
    assert_eq!(e.code(), "rule_type");
}

// ---- Differential test against the `cel` interpreter (the oracle). ----

fn num_atom() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["tenure_months", "monthly_spend", "lines", "overage_gb", "client.children", "hour", "ctx.hour"])
            .prop_map(String::from),
        (0u32..80).prop_map(|n| format!("{}.0", n)),
        (0u32..40).prop_map(|n| format!("{}.5", n)),
    ]
}

fn num_expr() -> impl Strategy<Value = String> {
    num_atom().prop_recursive(2, 8, 2, |inner| {
        prop_oneof![
            (inner.clone(), prop::sample::select(vec!["+", "-", "*"]), inner.clone()).prop_map(|(a, o, b)| format!("({a} {o} {b})")),
            (inner.clone(), 1u32..9).prop_map(|(a, d)| format!("({a} / {d}.0)")),
            inner.prop_map(|a| format!("-{a}")),
        ]
    })
}

fn bool_atom() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["fiber_eligible", "open_complaint", "client.fiber_owned", "logged_in", "true", "false"])
            .prop_map(String::from),
        (num_expr(), prop::sample::select(vec!["<", "<=", ">", ">=", "==", "!="]), num_expr()).prop_map(|(a, o, b)| format!("{a} {o} {b}")),
        (prop::sample::select(vec!["plan", "client.plan"]), prop::sample::select(vec!["basic", "plus", "premium"]), any::<bool>())
            .prop_map(|(v, l, eq)| format!("{v} {} '{l}'", if eq { "==" } else { "!=" })),
        Just("segment in ['youth', 'senior']".to_string()),
        Just("ctx.page in ['home', 'offers']".to_string()),
        Just("lines in [1.0, 2.0, 4.0]".to_string()),
        Just("has(client.tenure_months)".to_string()),
    ]
}

fn bool_expr() -> impl Strategy<Value = String> {
    bool_atom().prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            (inner.clone(), prop::sample::select(vec!["&&", "||"]), inner.clone()).prop_map(|(a, o, b)| format!("({a} {o} {b})")),
            inner.clone().prop_map(|a| format!("!({a})")),
            (inner.clone(), inner.clone(), inner).prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
        ]
    })
}

/// Values as the engine holds them (NaN = missing) and as CEL variables.
fn oracle(src: &str, s: &Schema, f: &[f32], c: &[f32]) -> bool {
    let program = cel::Program::compile(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    let mut ctx = cel::Context::default();
    let mut client = std::collections::HashMap::new();
    let value = |x: f32, kind: Option<&[String]>, boolean: bool| -> cel::Value {
        match (kind, boolean) {
            (Some(vocab), _) => cel::Value::String(std::sync::Arc::new(vocab[x as usize].clone())),
            (None, true) => cel::Value::Bool(x != 0.0),
            (None, false) => cel::Value::Float(x as f64),
        }
    };
    for (i, def) in s.features.iter().enumerate() {
        if f[i].is_nan() {
            continue;
        }
        let v = match &def.kind {
            FeatureKind::Categorical { vocab } => value(f[i], Some(vocab), false),
            FeatureKind::Boolean => value(f[i], None, true),
            FeatureKind::Numeric { .. } => value(f[i], None, false),
        };
        ctx.add_variable_from_value(def.name.clone(), v.clone());
        client.insert(def.name.clone(), v);
    }
    let mut context = std::collections::HashMap::new();
    for (i, def) in s.context.iter().enumerate() {
        if c[i].is_nan() {
            continue;
        }
        let v = match &def.kind {
            ContextKind::Category { vocab } => value(c[i], Some(vocab), false),
            ContextKind::Boolean => value(c[i], None, true),
            ContextKind::Number => value(c[i], None, false),
        };
        ctx.add_variable_from_value(def.name.clone(), v.clone());
        context.insert(def.name.clone(), v);
    }
    ctx.add_variable_from_value("client", client);
    ctx.add_variable_from_value("ctx", context);
    matches!(program.execute(&ctx), Ok(cel::Value::Bool(true)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn engine_agrees_with_the_cel_interpreter(
        src in bool_expr(),
        values in proptest::collection::vec(proptest::option::of(0u8..100), 14),
        ctx in proptest::collection::vec(proptest::option::of(0u8..24), 4),
    ) {
        let s = schema();
        let f: Vec<f32> = values.iter().enumerate().map(|(i, v)| match (&s.features[i].kind, v) {
            (_, None) => f32::NAN,
            (FeatureKind::Boolean, Some(x)) => (x % 2) as f32,
            (FeatureKind::Categorical { vocab }, Some(x)) => (*x as usize % vocab.len()) as f32,
            (FeatureKind::Numeric { .. }, Some(x)) => *x as f32 / 2.0,
        }).collect();
        let c: Vec<f32> = ctx.iter().enumerate().map(|(i, v)| match (&s.context[i].kind, v) {
            (_, None) => f32::NAN,
            (ContextKind::Boolean, Some(x)) => (x % 2) as f32,
            (ContextKind::Category { vocab }, Some(x)) => (*x as usize % vocab.len()) as f32,
            (ContextKind::Number, Some(x)) => *x as f32,
        }).collect();
        let p = compile("gen.cel", &src, &s).unwrap_or_else(|e| panic!("{src}: {e}"));
        let engine = eval(&p, &Inputs { features: &f, context: &c, now: 0 }, &mut 100_000).unwrap() == Value::Bool(true);
        prop_assert_eq!(engine, oracle(&src, &s, &f, &c), "{}", src);
    }
}

#[test]
fn the_oracle_is_not_vacuous() {
    let s = schema();
    let mut f = vec![f32::NAN; s.features.len()];
    f[0] = 24.0; // tenure_months
    f[12] = 2.0; // plan = premium
    let c = vec![f32::NAN, f32::NAN, 20.0, 1.0]; // hour, logged_in
    for (src, want) in [
        ("tenure_months >= 12.0 && plan == 'premium'", true),
        ("client.tenure_months > 30.0 || ctx.hour >= 18.0", true),
        ("has(client.lines) || !logged_in", false),
        ("lines > 1.0 || true", true),
        ("lines > 1.0 && false", false),
    ] {
        assert_eq!(oracle(src, &s, &f, &c), want, "oracle: {src}");
        let p = compile("t.cel", src, &s).unwrap();
        assert_eq!(eval(&p, &Inputs { features: &f, context: &c, now: 0 }, &mut 1000).unwrap() == Value::Bool(true), want, "engine: {src}");
    }
}
