use super::{dot, dot_reference, Body, Input, LeafWeight, Model, Node, NodeMode, Post, Scratch, TreeEnsemble};
use crate::testkit::Fixture;

fn score(m: &Model, features: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; m.n_outputs as usize];
    m.score(features, &[], &mut Scratch::default(), &mut out);
    out
}

fn raw(slot: u16) -> Input {
    Input::Feature { slot, impute: None, offset: 0.0, scale: 1.0 }
}

#[test]
fn dot_uses_a_fixed_order_and_handles_tails() {
    let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
    let b: Vec<f32> = (0..19).map(|i| 1.0 - i as f32 * 0.1).collect();
    let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
    assert!((dot(&a, &b) - naive).abs() < 1e-4);
    assert_eq!(dot(&a, &b).to_bits(), dot(&a, &b).to_bits());
    assert_eq!(dot(&[], &[]), 0.0);
}

#[test]
fn the_simd_dot_has_the_reference_bits() {
    let mut rng = crate::policy::SplitMix64::new(3);
    for n in 0..70 {
        let a: Vec<f32> = (0..n).map(|_| (rng.next_f64() as f32 - 0.5) * 1e3).collect();
        let b: Vec<f32> = (0..n).map(|_| (rng.next_f64() as f32 - 0.5) * 1e-2).collect();
        assert_eq!(dot(&a, &b).to_bits(), dot_reference(&a, &b).to_bits(), "n = {n}");
        #[cfg(target_arch = "x86_64")]
        assert_eq!(super::linear::dot_sse(&a, &b).to_bits(), dot_reference(&a, &b).to_bits(), "SSE, n = {n}");
    }
}

#[test]
fn linear_with_preprocessing_and_logistic() {
    let m = Model {
        name: "lr".into(),
        inputs: vec![Input::Feature { slot: 0, impute: Some(10.0), offset: 2.0, scale: 0.5 }, Input::OneHot { slot: 1, category: 2 }],
        body: Body::Linear { weights: vec![1.0, 2.0, -1.0, 0.0], bias: vec![0.5, 0.0] },
        post: Post::Identity,
        n_outputs: 2,
    };
    // x0 = (6 - 2) * 0.5 = 2, one-hot(2 == 2) = 1 → [0.5 + 2 + 2, -2]
    assert_eq!(score(&m, &[6.0, 2.0]), vec![4.5, -2.0]);
    // missing x0 → imputed 10 → (10 - 2) * 0.5 = 4; missing category → 0
    assert_eq!(score(&m, &[f32::NAN, f32::NAN]), vec![4.5, -4.0]);
    let lr = Model { post: Post::Logistic, ..m.clone() };
    assert!((score(&lr, &[6.0, 2.0])[0] - 1.0 / (1.0 + (-4.5f32).exp())).abs() < 1e-6);
    let sm = Model { post: Post::Softmax, ..m };
    let s = score(&sm, &[6.0, 2.0]);
    assert!((s[0] + s[1] - 1.0).abs() < 1e-6 && s[0] > s[1]);
}

#[test]
fn missing_indicators_read_whether_a_feature_is_absent() {
    let m = Model {
        name: "learned".into(),
        inputs: vec![Input::Feature { slot: 0, impute: Some(3.0), offset: 3.0, scale: 0.5 }, Input::Missing { slot: 0 }],
        body: Body::Linear { weights: vec![1.0, -2.0], bias: vec![0.25] },
        post: Post::Identity,
        n_outputs: 1,
    };
    // present: (5 - 3) * 0.5 = 1, indicator 0 → 1.25
    assert_eq!(score(&m, &[5.0]), vec![1.25]);
    // missing: imputed to the mean (0 after standardising), indicator 1 → 0.25 - 2
    assert_eq!(score(&m, &[f32::NAN]), vec![-1.75]);
    // the lazy path gives the same bits
    let mut lazy = super::Lazy::default();
    assert_eq!(m.output(0, &[f32::NAN], &[], 1.0, &mut lazy, &mut Scratch::default()), -1.75);
    // a slot past the schema is refused at load
    let schema = Fixture::telco().bundle.schema;
    let bad = Model { inputs: vec![Input::Missing { slot: 999 }, Input::Missing { slot: 0 }], ..m };
    assert!(bad.validate(&schema).is_err());
}

fn stump(mode: NodeMode, missing_true: bool) -> Model {
    let leaf = |start| Node {
        mode: NodeMode::Leaf,
        feature: 0,
        threshold: 0.0,
        missing_true: false,
        true_child: 0,
        false_child: 0,
        leaf_start: start,
        leaf_len: 1,
    };
    Model {
        name: "stump".into(),
        inputs: vec![raw(0)],
        body: Body::Trees(TreeEnsemble {
            nodes: vec![
                Node { mode, feature: 0, threshold: 5.0, missing_true, true_child: 1, false_child: 2, leaf_start: 0, leaf_len: 0 },
                leaf(0),
                leaf(1),
            ],
            roots: vec![0, 0],
            leaves: vec![LeafWeight { target: 0, weight: 1.0 }, LeafWeight { target: 0, weight: -1.0 }],
            base: vec![0.25],
            average: true,
        }),
        post: Post::Identity,
        n_outputs: 1,
    }
}

#[test]
fn trees_follow_onnx_ml_modes_and_missing_routing() {
    let cases = [
        (NodeMode::Leq, 5.0, 1.25),
        (NodeMode::Lt, 5.0, -0.75),
        (NodeMode::Gte, 5.0, 1.25),
        (NodeMode::Gt, 5.0, -0.75),
        (NodeMode::Eq, 5.0, 1.25),
        (NodeMode::Neq, 5.0, -0.75),
    ];
    for (mode, x, want) in cases {
        assert_eq!(score(&stump(mode, false), &[x]), vec![want], "{mode:?}");
    }
    assert_eq!(score(&stump(NodeMode::Leq, true), &[f32::NAN]), vec![1.25]);
    assert_eq!(score(&stump(NodeMode::Leq, false), &[f32::NAN]), vec![-0.75]);
}

#[test]
fn validation_rejects_cycles_bad_shapes_and_huge_models() {
    let schema = Fixture::telco().bundle.schema;
    let mut m = stump(NodeMode::Leq, false);
    assert!(m.validate(&schema).is_ok());
    if let Body::Trees(t) = &mut m.body {
        t.nodes[0].false_child = 0;
    }
    assert_eq!(m.validate(&schema).unwrap_err().code(), "model_tree_structure");
    let big = Model {
        name: "big".into(),
        inputs: vec![raw(0); 4096],
        body: Body::Linear { weights: vec![0.0; 4096 * 1025], bias: vec![0.0; 1025] },
        post: Post::Identity,
        n_outputs: 1025,
    };
    assert_eq!(big.validate(&schema).unwrap_err().code(), "model_too_large");
    let zero = Model { n_outputs: 0, ..stump(NodeMode::Leq, false) };
    assert_eq!(zero.validate(&schema).unwrap_err().code(), "model_shape");
}

#[test]
fn lazy_outputs_have_the_bits_of_a_full_score() {
    let fx = Fixture::bench();
    let features: Vec<f32> = fx.clients[3].values.iter().map(|v| v.unwrap_or(f32::NAN)).collect();
    for m in &fx.bundle.models {
        let full = score(m, &features);
        let mut lazy = super::Lazy::default();
        let mut scratch = Scratch::default();
        for o in (0..m.n_outputs as usize).rev() {
            assert_eq!(m.output(o, &features, &[], 1.0, &mut lazy, &mut scratch).to_bits(), full[o].to_bits(), "{} output {o}", m.name);
        }
    }
}
