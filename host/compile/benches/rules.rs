//! Compiled rules (engine bytecode) vs the `cel` interpreter, per evaluation, on the
//! same expressions and the same client. `cargo bench -p vitrine-compile --bench rules`
//! (unset RUST_BACKTRACE).
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use vitrine_engine::rules::{eval, Compiled, Inputs};
use vitrine_engine::testkit::Fixture;

const RULES: [(&str, &str); 4] = [
    ("conjunction", "fiber_eligible && !fiber_owned && tenure_months >= 3.0 && !open_complaint"),
    ("categorical", "plan in ['plus', 'premium'] && segment != 'youth'"),
    ("arithmetic", "monthly_spend * 12.0 - overage_gb * 2.5 > 400.0 || lines >= 3.0"),
    ("ternary", "ctx.page == 'offers' ? hour >= 18.0 : (tenure_months > 24.0 && has(client.children))"),
];

fn rules(c: &mut Criterion) {
    let fx = Fixture::telco();
    let schema = &fx.bundle.schema;
    let features: Vec<f32> = fx.clients[0].values.iter().map(|v| v.unwrap_or(f32::NAN)).collect();
    let context = [1.0f32, 1.0, 20.0, 1.0];
    let inputs = Inputs { features: &features, context: &context, now: 0 };

    let mut cel_ctx = cel::Context::default();
    let mut client = std::collections::HashMap::new();
    for (f, &x) in schema.features.iter().zip(&features) {
        let v = match &f.kind {
            vitrine_engine::schema::FeatureKind::Categorical { vocab } => {
                cel::Value::String(std::sync::Arc::new(vocab[x as usize].clone()))
            }
            vitrine_engine::schema::FeatureKind::Boolean => cel::Value::Bool(x != 0.0),
            _ => cel::Value::Float(x as f64),
        };
        cel_ctx.add_variable_from_value(f.name.clone(), v.clone());
        client.insert(f.name.clone(), v);
    }
    let mut ctx_map = std::collections::HashMap::new();
    ctx_map.insert("page".to_string(), cel::Value::String(std::sync::Arc::new("offers".to_string())));
    ctx_map.insert("hour".to_string(), cel::Value::Float(20.0));
    cel_ctx.add_variable_from_value("hour", cel::Value::Float(20.0));
    cel_ctx.add_variable_from_value("client", client);
    cel_ctx.add_variable_from_value("ctx", ctx_map);

    let mut g = c.benchmark_group("rule_eval");
    for (name, src) in RULES {
        let program = vitrine_compile::rules::compile("bench.cel", src, schema).expect("compiles");
        let compiled = Compiled::new(&program);
        let interp = cel::Program::compile(src).expect("cel parses");
        let engine_says = eval(&program, &inputs, &mut u32::MAX.clone()).expect("evaluates");
        assert_eq!(
            engine_says == vitrine_engine::rules::Value::Bool(true),
            matches!(interp.execute(&cel_ctx), Ok(cel::Value::Bool(true))),
            "{name}"
        );
        let mut stack = Vec::with_capacity(32);
        g.bench_function(format!("{name}/engine"), |b| {
            b.iter(|| compiled.passes(&program, black_box(&inputs), &mut u32::MAX.clone(), &mut stack).expect("evaluates"))
        });
        g.bench_function(format!("{name}/cel_interpreter"), |b| b.iter(|| interp.execute(black_box(&cel_ctx))));
    }
    g.finish();
}

criterion_group!(benches, rules);
criterion_main!(benches);
