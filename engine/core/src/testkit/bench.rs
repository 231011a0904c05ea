//! The benchmark fixture the engine issue specifies: 300 features, 100 offers with
//! 3–6 clause eligibility rules, one multi-output logistic model scoring all 100
//! offers, one 100-tree depth-6 GBDT scoring a propensity 10 offers use, 3 slots of
//! top-3.
use super::{subject, Fixture, NOW};
use crate::bundle::{Bundle, Creative, ModelOutput, Offer, OfferKind, Propensity, Score, SlotDef, Treatment, Uplift};
use crate::decision::ContextValue;
use crate::limits::Limits;
use crate::models::{Body, Input, LeafWeight, Model, Node, NodeMode, Post, TreeEnsemble};
use crate::policy::{Cap, CapScope, Exploration, Policy, SplitMix64};
use crate::rules::Expr;
use crate::schema::{ContextField, ContextKind, FeatureDef, FeatureKind, Quant, Schema};
use crate::snapshot::{SnapshotContent, TrustedKey};

const N_FEATURES: usize = 300;
const N_OFFERS: usize = 100;

fn kind_of(i: usize) -> FeatureKind {
    match i % 10 {
        0..=5 => FeatureKind::Numeric { quant: Quant::U8 { scale: 0.5, offset: 0.0 } },
        6 | 7 => FeatureKind::Numeric { quant: Quant::U16 { scale: 0.01, offset: 0.0 } },
        8 => FeatureKind::Boolean,
        _ => FeatureKind::Categorical { vocab: (0..6).map(|v| format!("c{v}")).collect() },
    }
}

/// Typical value range of feature `i`, for thresholds and client values.
fn range(i: usize) -> f32 {
    match i % 10 {
        0..=5 => 100.0,
        6 | 7 => 500.0,
        8 => 1.0,
        _ => 5.0,
    }
}

fn schema() -> Schema {
    Schema {
        features: (0..N_FEATURES).map(|i| FeatureDef { name: format!("f{i:03}"), kind: kind_of(i), personal: true }).collect(),
        context: vec![
            ContextField {
                name: "page".into(),
                kind: ContextKind::Category { vocab: vec!["home".into(), "offers".into(), "account".into()] },
            },
            ContextField { name: "hour".into(), kind: ContextKind::Number },
        ],
        channels: vec!["web".into()],
    }
}

/// A clause that passes for roughly 80% of clients.
fn clause(i: usize, rng: &mut SplitMix64) -> Expr {
    let f = Expr::feature(&format!("f{i:03}"));
    match i % 10 {
        8 => f.or(Expr::Bool(rng.next_f64() < 0.6)),
        9 => f.in_labels(&["c0", "c1", "c2", "c3", "c4"]),
        _ => f.ge((range(i) * 0.2 * rng.next_f64() as f32) as f64),
    }
}

fn eligibility(rng: &mut SplitMix64) -> Expr {
    let n = 3 + (rng.next_u64() % 4) as usize;
    let mut e = clause((rng.next_u64() % N_FEATURES as u64) as usize, rng);
    for _ in 1..n {
        e = e.and(clause((rng.next_u64() % N_FEATURES as u64) as usize, rng));
    }
    e
}

fn gbdt(rng: &mut SplitMix64) -> Model {
    let mut nodes = Vec::new();
    let mut leaves = Vec::new();
    let mut roots = Vec::new();
    for _ in 0..100 {
        let root = nodes.len() as u32;
        roots.push(root);
        // Complete binary tree of depth 6 in breadth-first order: node k has children 2k+1, 2k+2.
        for k in 0..127u32 {
            if k < 63 {
                let col = (rng.next_u64() % N_FEATURES as u64) as u16;
                let threshold = (range(col as usize) * rng.next_f64() as f32 * 0.8).max(0.25);
                nodes.push(Node {
                    mode: NodeMode::Leq,
                    feature: col,
                    threshold,
                    missing_true: rng.next_u64().is_multiple_of(2),
                    true_child: root + 2 * k + 1,
                    false_child: root + 2 * k + 2,
                    leaf_start: 0,
                    leaf_len: 0,
                });
            } else {
                leaves.push(LeafWeight { target: 0, weight: (rng.next_f64() as f32 - 0.5) * 0.2 });
                nodes.push(Node {
                    mode: NodeMode::Leaf,
                    feature: 0,
                    threshold: 0.0,
                    missing_true: false,
                    true_child: 0,
                    false_child: 0,
                    leaf_start: leaves.len() as u32 - 1,
                    leaf_len: 1,
                });
            }
        }
    }
    let inputs = (0..N_FEATURES).map(|i| Input::Feature { slot: i as u16, impute: None, offset: 0.0, scale: 1.0 }).collect();
    Model {
        name: "gbdt_100x6".into(),
        inputs,
        body: Body::Trees(TreeEnsemble { nodes, roots, leaves, base: vec![-1.0], average: false }),
        post: Post::Logistic,
        n_outputs: 1,
    }
}

fn logistic(rng: &mut SplitMix64) -> Model {
    let inputs = (0..N_FEATURES)
        .map(|i| Input::Feature { slot: i as u16, impute: Some(0.0), offset: range(i) / 2.0, scale: 1.0 / range(i) })
        .collect();
    let weights = (0..N_OFFERS * N_FEATURES).map(|_| (rng.next_f64() as f32 - 0.5) * 0.1).collect();
    let bias = (0..N_OFFERS).map(|_| -2.0 + rng.next_f64() as f32).collect();
    Model { name: "logit_100".into(), inputs, body: Body::Linear { weights, bias }, post: Post::Logistic, n_outputs: N_OFFERS as u16 }
}

fn bundle() -> Bundle {
    let s = schema();
    let mut rng = SplitMix64::new(2027);
    let offers = (0..N_OFFERS)
        .map(|i| {
            let e = eligibility(&mut rng);
            Offer {
                id: format!("offer_{i:03}"),
                name: format!("Offer {i}"),
                kind: if i % 12 == 11 { OfferKind::Service } else { OfferKind::Offer },
                category: format!("cat{}", i % 8),
                slots: (0..3u16).filter(|sl| !(i + *sl as usize).is_multiple_of(3) || i.is_multiple_of(2)).collect(),
                value: 5.0 + (i % 17) as f32,
                lever: 1.0,
                valid_from: 0,
                valid_until: 0,
                eligibility: e.compile(&s).unwrap_or_else(|err| panic!("{err}")),
                applicability: Expr::context("hour").ge(0.0).compile(&s).unwrap_or_else(|err| panic!("{err}")),
                suitability: Program::default(),
                score: Score::Propensity(if i % 10 == 0 {
                    Propensity::Model { model: 1, output: 0 }
                } else {
                    Propensity::Model { model: 0, output: i as u16 }
                }),
                bau_priority: None,
                attribution_secs: 7 * 86_400,
                treatments: vec![Treatment {
                    id: "default".into(),
                    weight: 1.0,
                    creative: Creative { title: format!("Offer {i}"), ..Creative::default() },
                }],
                caps: vec![Cap { scope: CapScope::Offer, max: 3, window_secs: 86_400 * 7 }],
            }
        })
        .collect();
    let models = vec![logistic(&mut rng), gbdt(&mut rng)];
    Bundle {
        name: "bench-300x100".into(),
        version: 1,
        created_at: NOW,
        slots: vec![
            SlotDef { id: "hero".into(), channel: 0, k: 3 },
            SlotDef { id: "cards".into(), channel: 0, k: 3 },
            SlotDef { id: "sidebar".into(), channel: 0, k: 3 },
        ],
        offers,
        models,
        policy: Policy { exploration: Exploration::EpsilonGreedy { epsilon: 0.05 }, max_per_category: 3, ..Policy::default() },
        posteriors: vec![],
        trusted_keys: vec![TrustedKey { kid: super::SNAPSHOT_KID.into(), public_key: super::snapshot_key().verifying_key().to_bytes() }],
        limits: Limits::default(),
        schema: s,
        timing: None,
    }
}

use crate::rules::Program;

fn clients() -> Vec<SnapshotContent> {
    let mut rng = SplitMix64::new(99);
    (0..16)
        .map(|c| SnapshotContent {
            subject: subject(1000 + c),
            issued_at: NOW - 60,
            expires_at: NOW + 86_400,
            consent: super::telco::full_consent() & 0b11,
            values: (0..N_FEATURES)
                .map(|i| {
                    let r = rng.next_f64() as f32;
                    Some(match i % 10 {
                        0..=5 => (r * range(i) * 2.0).floor() / 2.0,
                        6 | 7 => (r * range(i) * 100.0).floor() / 100.0,
                        8 => f32::from(r < 0.7),
                        _ => (r * 6.0).floor().min(5.0),
                    })
                })
                .collect(),
        })
        .collect()
}

/// The benchmark bundle with every offer scored by a T-learner: the 100-output
/// logistic model as the treated model, a second one (other weights) as the control.
fn uplift_bundle() -> Bundle {
    let mut b = bundle();
    b.name = "bench-300x100-uplift".into();
    let mut rng = SplitMix64::new(4049);
    let mut control = logistic(&mut rng);
    control.name = "logit_100_control".into();
    b.models.push(control);
    for (i, o) in b.offers.iter_mut().enumerate() {
        o.score = Score::Uplift(Uplift::TwoModel {
            treated: ModelOutput { model: 0, output: i as u16 },
            control: ModelOutput { model: 2, output: i as u16 },
        });
    }
    b
}

pub(super) fn uplift_fixture() -> Fixture {
    let f = fixture();
    Fixture::new(uplift_bundle(), f.clients, f.context, f.slots)
}

pub(super) fn fixture() -> Fixture {
    let context = vec![("page".to_string(), ContextValue::Label("home".into())), ("hour".to_string(), ContextValue::Num(14.0))];
    Fixture::new(bundle(), clients(), context, vec!["hero".into(), "cards".into(), "sidebar".into()])
}
