//! The small telco fixture: readable, and exercising every stage.
use super::{subject, Fixture, NOW};
use crate::bundle::{Bundle, Creative, ModelOutput, Offer, OfferKind, Propensity, Score, SlotDef, Treatment, Uplift};
use crate::decision::ContextValue;
use crate::limits::Limits;
use crate::models::{Activation, Body, Dense, Input, LeafWeight, Model, Node, NodeMode, Post, TreeEnsemble};
use crate::policy::{
    Arms, Cap, CapScope, CategoryLever, ChannelCap, ChannelCost, ContextWeight, Exploration, Policy, Suppression, Thompson,
};
use crate::rules::Expr;
use crate::schema::{ContextField, ContextKind, FeatureDef, FeatureKind, Quant, Schema};
use crate::snapshot::{channel_consent_bit, SnapshotContent, TrustedKey, CONSENT_PROFILING};

fn num(name: &str, quant: Quant) -> FeatureDef {
    FeatureDef { name: name.into(), kind: FeatureKind::Numeric { quant }, personal: true }
}
fn boolean(name: &str, personal: bool) -> FeatureDef {
    FeatureDef { name: name.into(), kind: FeatureKind::Boolean, personal }
}
fn cat(name: &str, vocab: &[&str], personal: bool) -> FeatureDef {
    FeatureDef { name: name.into(), kind: FeatureKind::Categorical { vocab: vocab.iter().map(|s| s.to_string()).collect() }, personal }
}
fn u8q(scale: f32) -> Quant {
    Quant::U8 { scale, offset: 0.0 }
}

/// The telco schema.
pub fn schema() -> Schema {
    Schema {
        features: vec![
            num("tenure_months", Quant::U16 { scale: 1.0, offset: 0.0 }),
            num("monthly_spend", Quant::U16 { scale: 0.01, offset: 0.0 }),
            num("data_usage_gb", u8q(0.5)),
            num("overage_gb", u8q(0.1)),
            boolean("fiber_eligible", false),
            boolean("fiber_owned", false),
            num("lines", u8q(1.0)),
            num("children", u8q(1.0)),
            num("device_age_months", u8q(1.0)),
            cat("indoor_coverage", &["poor", "fair", "good"], true),
            num("tickets_90d", u8q(1.0)),
            cat("segment", &["youth", "family", "business", "senior"], true),
            cat("plan", &["basic", "plus", "premium"], false),
            boolean("open_complaint", true),
        ],
        context: vec![
            ContextField {
                name: "page".into(),
                kind: ContextKind::Category { vocab: vec!["home".into(), "offers".into(), "account".into(), "checkout".into()] },
            },
            ContextField {
                name: "device".into(),
                kind: ContextKind::Category { vocab: vec!["mobile".into(), "desktop".into(), "tablet".into()] },
            },
            ContextField { name: "hour".into(), kind: ContextKind::Number },
            ContextField { name: "logged_in".into(), kind: ContextKind::Boolean },
        ],
        channels: vec!["web".into(), "email".into(), "sms".into(), "push".into()],
    }
}

fn f(name: &str) -> Expr {
    Expr::feature(name)
}

struct O {
    id: &'static str,
    category: &'static str,
    kind: OfferKind,
    slots: &'static [u16],
    value: f32,
    eligibility: Expr,
    applicability: Expr,
    suitability: Expr,
    propensity: Propensity,
}

fn offers(s: &Schema) -> Vec<Offer> {
    let always = || Expr::Bool(true);
    let not_complaining = || f("open_complaint").not();
    let m = |model: u16, output: u16| Propensity::Model { model, output };
    let list = vec![
        O {
            id: "fibre_upgrade",
            category: "broadband",
            kind: OfferKind::Offer,
            slots: &[0, 1, 3],
            value: 30.0,
            eligibility: f("fiber_eligible").and(f("fiber_owned").not()),
            applicability: always(),
            suitability: not_complaining(),
            propensity: m(0, 0),
        },
        O {
            id: "data_20gb",
            category: "mobile",
            kind: OfferKind::Offer,
            slots: &[0, 1, 2, 4],
            value: 10.0,
            eligibility: f("overage_gb").gt(1.0).or(f("data_usage_gb").ge(15.0)),
            applicability: always(),
            suitability: always(),
            propensity: m(0, 1),
        },
        O {
            id: "new_line",
            category: "mobile",
            kind: OfferKind::Offer,
            slots: &[1, 3],
            value: 15.0,
            eligibility: f("lines").lt(5.0),
            applicability: always(),
            suitability: not_complaining(),
            propensity: m(0, 2),
        },
        O {
            id: "device_renewal",
            category: "device",
            kind: OfferKind::Offer,
            slots: &[0, 1, 3],
            value: 40.0,
            eligibility: f("device_age_months").ge(24.0),
            applicability: always(),
            suitability: not_complaining(),
            propensity: m(1, 0),
        },
        O {
            id: "tv_option",
            category: "tv",
            kind: OfferKind::Offer,
            slots: &[1, 3],
            value: 12.0,
            eligibility: f("plan").in_labels(&["plus", "premium"]),
            applicability: Expr::context("device").is("mobile").not(),
            suitability: always(),
            propensity: m(0, 3),
        },
        O {
            id: "family_plan",
            category: "mobile",
            kind: OfferKind::Offer,
            slots: &[0, 1, 3],
            value: 25.0,
            eligibility: f("children").ge(1.0).and(f("lines").ge(2.0)),
            applicability: always(),
            suitability: not_complaining(),
            propensity: m(0, 4),
        },
        O {
            id: "loyalty_discount",
            category: "retention",
            kind: OfferKind::Offer,
            slots: &[0, 1, 3, 4],
            value: 8.0,
            eligibility: f("tenure_months").ge(36.0),
            applicability: always(),
            suitability: always(),
            propensity: m(2, 0),
        },
        O {
            id: "femtocell",
            category: "service",
            kind: OfferKind::Service,
            slots: &[0, 2],
            value: 20.0,
            eligibility: f("indoor_coverage").is("poor"),
            applicability: always(),
            suitability: always(),
            propensity: Propensity::Constant(0.6),
        },
        O {
            id: "premium_upgrade",
            category: "mobile",
            kind: OfferKind::Offer,
            slots: &[1, 3],
            value: 18.0,
            eligibility: f("plan").is("premium").not().and(f("monthly_spend").ge(40.0)),
            applicability: always(),
            suitability: not_complaining(),
            propensity: m(0, 5),
        },
        O {
            id: "roaming_pass",
            category: "mobile",
            kind: OfferKind::Offer,
            slots: &[1, 2, 4],
            value: 9.0,
            eligibility: f("segment").in_labels(&["business", "youth"]),
            applicability: always(),
            suitability: always(),
            propensity: m(1, 1),
        },
        O {
            id: "streaming_bundle",
            category: "tv",
            kind: OfferKind::Offer,
            slots: &[1, 3],
            value: 14.0,
            eligibility: always(),
            applicability: Expr::context("hour").ge(18.0).or(Expr::context("page").is("offers")),
            suitability: always(),
            propensity: Propensity::Constant(0.05),
        },
        O {
            id: "bill_review",
            category: "service",
            kind: OfferKind::Service,
            slots: &[0, 2],
            value: 15.0,
            eligibility: f("tickets_90d").ge(2.0).or(f("overage_gb").gt(5.0)),
            applicability: always(),
            suitability: always(),
            propensity: Propensity::Constant(0.3),
        },
    ];
    list.into_iter()
        .map(|o| {
            let treatments = if o.id == "loyalty_discount" {
                vec![
                    treatment(o.id, "ten_percent", "10% off for a year", Some(36.0)),
                    treatment(o.id, "twenty_percent", "20% off for a year", Some(32.0)),
                ]
            } else {
                vec![treatment(o.id, "default", &o.id.replace('_', " "), None)]
            };
            Offer {
                id: o.id.into(),
                name: o.id.replace('_', " "),
                kind: o.kind,
                category: o.category.into(),
                slots: o.slots.to_vec(),
                value: o.value,
                lever: 1.0,
                valid_from: 0,
                valid_until: 0,
                eligibility: o.eligibility.compile(s).unwrap_or_else(|e| panic!("{}: {e}", o.id)),
                applicability: o.applicability.compile(s).unwrap_or_else(|e| panic!("{}: {e}", o.id)),
                suitability: o.suitability.compile(s).unwrap_or_else(|e| panic!("{}: {e}", o.id)),
                score: Score::Propensity(o.propensity),
                bau_priority: None,
                attribution_secs: 7 * 86_400,
                treatments,
                caps: vec![Cap { scope: CapScope::Offer, max: 3, window_secs: 7 * 86_400 }],
            }
        })
        .collect()
}

fn treatment(offer: &str, id: &str, title: &str, price: Option<f32>) -> Treatment {
    Treatment {
        id: id.into(),
        weight: 1.0,
        creative: Creative {
            title: title.into(),
            text: format!("{title}: see the details"),
            image: format!("/img/{offer}.svg"),
            url: format!("/offers/{offer}?t={id}"),
            price,
        },
    }
}

fn feature_input(slot: u16, scale: f32) -> Input {
    Input::Feature { slot, impute: Some(0.0), offset: 0.0, scale }
}

fn models() -> Vec<Model> {
    // Multi-output logistic: 6 offers from 8 scaled features + 3 one-hot columns.
    let inputs = vec![
        feature_input(0, 1.0 / 60.0),
        feature_input(1, 1.0 / 50.0),
        feature_input(2, 1.0 / 20.0),
        feature_input(3, 1.0 / 5.0),
        feature_input(6, 0.5),
        feature_input(7, 0.5),
        feature_input(8, 1.0 / 24.0),
        feature_input(10, 0.5),
        Input::OneHot { slot: 11, category: 0 },
        Input::OneHot { slot: 11, category: 1 },
        Input::OneHot { slot: 11, category: 2 },
    ];
    #[rustfmt::skip]
    let weights = vec![
        0.4, 0.2, 0.1, 0.0, 0.1, 0.3, 0.0, -0.5, -0.2, 0.4, 0.1,
        -0.1, 0.1, 0.9, 1.2, 0.0, 0.0, 0.0, 0.1, 0.6, 0.0, 0.2,
        0.0, 0.2, 0.1, 0.0, -0.6, 0.8, 0.0, 0.0, 0.3, 0.5, 0.4,
        0.2, 0.5, 0.3, 0.0, 0.1, 0.6, 0.0, 0.0, -0.3, 0.7, -0.1,
        0.1, 0.1, 0.0, 0.0, 0.7, 1.1, 0.0, 0.0, -0.4, 1.0, -0.2,
        0.3, 0.8, 0.2, 0.1, 0.0, 0.0, 0.0, -0.2, 0.2, -0.1, 0.5,
    ];
    let logistic = Model {
        name: "offers_logit".into(),
        inputs,
        body: Body::Linear { weights, bias: vec![-1.0, -1.5, -1.8, -1.2, -1.6, -1.4] },
        post: Post::Logistic,
        n_outputs: 6,
    };

    // A small GBDT, two outputs (device renewal, roaming), NaN-aware.
    let leaf = |start: u32| Node {
        mode: NodeMode::Leaf,
        feature: 0,
        threshold: 0.0,
        missing_true: false,
        true_child: 0,
        false_child: 0,
        leaf_start: start,
        leaf_len: 1,
    };
    let split = |feature: u16, threshold: f32, t: u32, f: u32, missing_true: bool| Node {
        mode: NodeMode::Leq,
        feature,
        threshold,
        missing_true,
        true_child: t,
        false_child: f,
        leaf_start: 0,
        leaf_len: 0,
    };
    let nodes = vec![
        // tree 0 on device age (col 0): root 0
        split(0, 24.0, 1, 2, true),
        leaf(0),
        split(1, 1.0, 3, 4, false),
        leaf(1),
        leaf(2),
        // tree 1 on segment one-hot business (col 2): root 5
        split(2, 0.5, 6, 7, true),
        leaf(3),
        leaf(4),
    ];
    let leaves = vec![
        LeafWeight { target: 0, weight: -1.2 },
        LeafWeight { target: 0, weight: 0.4 },
        LeafWeight { target: 0, weight: 1.1 },
        LeafWeight { target: 1, weight: -1.0 },
        LeafWeight { target: 1, weight: 0.9 },
    ];
    let trees = Model {
        name: "device_roaming_gbdt".into(),
        inputs: vec![
            Input::Feature { slot: 8, impute: None, offset: 0.0, scale: 1.0 },
            Input::Feature { slot: 10, impute: None, offset: 0.0, scale: 1.0 },
            Input::OneHot { slot: 11, category: 2 },
        ],
        body: Body::Trees(TreeEnsemble { nodes, roots: vec![0, 5], leaves, base: vec![-0.3, -0.2], average: false }),
        post: Post::Logistic,
        n_outputs: 2,
    };

    // A tiny MLP for loyalty: tenure and spend → 3 hidden (tanh) → 1 (sigmoid).
    let mlp = Model {
        name: "loyalty_mlp".into(),
        inputs: vec![feature_input(0, 1.0 / 60.0), feature_input(1, 1.0 / 50.0)],
        body: Body::Mlp {
            layers: vec![
                Dense {
                    n_in: 2,
                    n_out: 3,
                    weights: vec![0.8, -0.2, 0.5, 0.5, -0.7, 0.3],
                    bias: vec![0.1, 0.0, -0.1],
                    activation: Activation::Tanh,
                },
                Dense { n_in: 3, n_out: 1, weights: vec![1.2, 0.7, -0.9], bias: vec![-0.8], activation: Activation::Sigmoid },
            ],
        },
        post: Post::Identity,
        n_outputs: 1,
    };
    vec![logistic, trees, mlp]
}

/// The telco bundle.
pub fn bundle() -> Bundle {
    let s = schema();
    let page_offers = Expr::context("page").is("offers").compile(&s).unwrap_or_else(|e| panic!("{e}"));
    let mobile = Expr::context("device").is("mobile").compile(&s).unwrap_or_else(|e| panic!("{e}"));
    let offers = offers(&s);
    Bundle {
        name: "telco-fixture".into(),
        version: 1,
        created_at: NOW - 86_400,
        slots: vec![
            SlotDef { id: "home_hero".into(), channel: 0, k: 1 },
            SlotDef { id: "offer_cards".into(), channel: 0, k: 3 },
            SlotDef { id: "notification_centre".into(), channel: 3, k: 2 },
            SlotDef { id: "email_weekly".into(), channel: 1, k: 1 },
            SlotDef { id: "sms_alert".into(), channel: 2, k: 1 },
        ],
        offers,
        models: models(),
        policy: Policy {
            exploration: Exploration::EpsilonGreedy { epsilon: 0.1 },
            arms: Arms { salt: "fixture-2027".into(), bau: 0.1, no_contact: 0.05, no_contact_services: true },
            channel_costs: vec![],
            max_per_category: 2,
            context_weights: vec![
                ContextWeight { when: page_offers, offers: vec![], weight: 1.2 },
                ContextWeight { when: mobile, offers: vec![4, 10], weight: 0.8 },
            ],
            category_levers: vec![
                CategoryLever { category: "retention".into(), lever: 1.5 },
                CategoryLever { category: "service".into(), lever: 2.0 },
            ],
            channel_caps: vec![
                ChannelCap { channel: 1, max: 2, window_secs: 7 * 86_400 },
                ChannelCap { channel: 2, max: 1, window_secs: 7 * 86_400 },
            ],
            suppression: Some(Suppression { after_impressions: 3, window_secs: 14 * 86_400 }),
            thompson: Thompson { cold_below: 0, estimate_draws: 32 },
            snapshot_skew_secs: 60,
        },
        posteriors: vec![],
        trusted_keys: vec![TrustedKey { kid: super::SNAPSHOT_KID.into(), public_key: super::snapshot_key().verifying_key().to_bytes() }],
        limits: Limits::default(),
        schema: s,
        timing: None,
    }
}

/// All consent bits: profiling and every channel.
pub fn full_consent() -> u16 {
    CONSENT_PROFILING | (0..4).fold(0, |m, i| m | channel_consent_bit(i))
}

/// Eight clients with distinct profiles.
pub fn clients() -> Vec<SnapshotContent> {
    // tenure, spend, usage, overage, fib_elig, fib_owned, lines, children, device_age, coverage, tickets, segment, plan, complaint
    #[rustfmt::skip]
    let rows: [[f32; 14]; 8] = [
        [48.0, 45.5, 18.0, 2.5, 1.0, 0.0, 2.0, 2.0, 30.0, 0.0, 0.0, 1.0, 1.0, 0.0],
        [6.0, 25.0, 4.0, 0.0, 0.0, 0.0, 1.0, 0.0, 10.0, 2.0, 0.0, 0.0, 0.0, 0.0],
        [120.0, 89.99, 40.0, 7.0, 1.0, 1.0, 4.0, 3.0, 40.0, 1.0, 3.0, 1.0, 2.0, 0.0],
        [24.0, 60.0, 12.0, 0.0, 1.0, 0.0, 1.0, 0.0, 26.0, 0.0, 1.0, 2.0, 1.0, 1.0],
        [3.0, 15.0, 2.0, 0.0, 0.0, 0.0, 1.0, 0.0, 2.0, 2.0, 0.0, 3.0, 0.0, 0.0],
        [60.0, 70.0, 25.0, 1.5, 1.0, 0.0, 3.0, 1.0, 36.0, 0.0, 2.0, 1.0, 1.0, 0.0],
        [15.0, 35.0, 9.0, 0.5, 0.0, 0.0, 2.0, 1.0, 18.0, 1.0, 0.0, 0.0, 0.0, 0.0],
        [200.0, 55.0, 6.0, 0.0, 1.0, 0.0, 1.0, 0.0, 50.0, 2.0, 0.0, 3.0, 2.0, 0.0],
    ];
    rows.iter()
        .enumerate()
        .map(|(i, r)| SnapshotContent {
            subject: subject(i as u64),
            issued_at: NOW - 3_600,
            expires_at: NOW + 86_400,
            consent: full_consent(),
            values: r.iter().map(|&x| Some(x)).collect(),
        })
        .collect()
}

pub(super) fn fixture() -> Fixture {
    let context = vec![
        ("page".to_string(), ContextValue::Label("home".into())),
        ("device".to_string(), ContextValue::Label("desktop".into())),
        ("hour".to_string(), ContextValue::Num(20.0)),
    ];
    Fixture::new(bundle(), clients(), context, vec!["home_hero".into(), "offer_cards".into()])
}

/// The telco bundle with its commercial offers scored by uplift: `fibre_upgrade` by a
/// T-learner (two outputs of one logistic model), `data_20gb` by an S-learner (a
/// logistic model with a treatment input), `loyalty_discount` by a direct uplift
/// output (negative for long-tenure clients: a sleeping dog); SMS and email contacts
/// cost money.
pub fn uplift_bundle() -> Bundle {
    let mut b = bundle();
    b.name = "telco-uplift-fixture".into();
    let base = b.models.len() as u16;
    let scaled = |slot, scale| feature_input(slot, scale);
    // T-learner: output 0 treated, output 1 control.
    b.models.push(Model {
        name: "fibre_t_learner".into(),
        inputs: vec![scaled(0, 1.0 / 60.0), scaled(1, 1.0 / 50.0), scaled(2, 1.0 / 20.0), Input::OneHot { slot: 11, category: 1 }],
        body: Body::Linear { weights: vec![0.3, 0.6, 0.2, 0.8, 0.5, 0.1, 0.1, 0.2], bias: vec![-1.4, -2.2] },
        post: Post::Logistic,
        n_outputs: 2,
    });
    // S-learner: the last column is the treatment flag (with an interaction on usage).
    b.models.push(Model {
        name: "data_s_learner".into(),
        inputs: vec![scaled(2, 1.0 / 20.0), scaled(3, 1.0 / 5.0), Input::Treatment { offset: 0.0, scale: 1.0 }],
        body: Body::Linear { weights: vec![0.7, 0.9, 0.6], bias: vec![-2.0] },
        post: Post::Logistic,
        n_outputs: 1,
    });
    // Direct uplift: decreasing with tenure (negative beyond ~5 years).
    b.models.push(Model {
        name: "loyalty_uplift".into(),
        inputs: vec![scaled(0, 1.0 / 60.0), scaled(10, 0.5)],
        body: Body::Linear { weights: vec![-0.08, 0.03], bias: vec![0.07] },
        post: Post::Identity,
        n_outputs: 1,
    });
    let out = |model: u16, output: u16| ModelOutput { model, output };
    for o in &mut b.offers {
        o.score = match o.id.as_str() {
            "fibre_upgrade" => Score::Uplift(Uplift::TwoModel { treated: out(base, 0), control: out(base, 1) }),
            "data_20gb" => Score::Uplift(Uplift::Treatment(out(base + 1, 0))),
            "loyalty_discount" => Score::Uplift(Uplift::Direct(out(base + 2, 0))),
            _ => o.score,
        };
    }
    b.policy.channel_costs = vec![ChannelCost { channel: 1, cost: 0.05 }, ChannelCost { channel: 2, cost: 0.5 }];
    b
}
