//! The case list. Every stage and every error code reachable through load + decide
//! has at least one case; codes only a host can raise (encoding) or that need
//! megabytes of input are covered by unit tests instead (see ARCHITECTURE.md).
use serde_json::Value;
use vitrine_engine::bundle::{Bundle, ModelOutput, Score, Uplift};
use vitrine_engine::decision::{ContextValue, DecideRequest, HistoryEntry, SlotRequest};
use vitrine_engine::models::{Body, Input, Node};
use vitrine_engine::policy::{Cap, CapScope, Exploration, HistoryKind, Posterior};
use vitrine_engine::rules::{Op, Program};
use vitrine_engine::schema::{FeatureDef, FeatureKind, Quant};
use vitrine_engine::snapshot::{encode_text, SnapshotSigner, CONSENT_PROFILING};
use vitrine_engine::testkit::{snapshot_key, untrusted_snapshot_key, Fixture, NOW};

use super::mutate::{flip, sign_invalid, signed_envelope};
use super::{to_hex, Case, Suite};

const DAY: u64 = 86_400;

struct Gen {
    fx: Fixture,
    suite: Suite,
    key: String,
}

enum Req {
    Json(DecideRequest),
    Text(String),
}

impl Gen {
    fn bundle(&mut self, name: &str, bytes: Vec<u8>) {
        self.suite.bundles.insert(name.to_string(), bytes);
    }

    fn variant(&mut self, name: &str, edit: impl FnOnce(&mut Bundle)) {
        let mut fx = self.fx.clone();
        edit(&mut fx.bundle);
        fx.resign();
        self.bundle(name, fx.bundle_bytes);
    }

    fn invalid(&mut self, name: &str, edit: impl FnOnce(&mut Bundle)) {
        let mut b = self.fx.bundle.clone();
        edit(&mut b);
        self.bundle(name, sign_invalid(&b));
    }

    fn case(&mut self, name: &str, stage: &str, description: &str, bundle: &str, req: Req) {
        let (request, request_text) = match req {
            Req::Json(r) => (Some(serde_json::to_value(&r).unwrap_or(Value::Null)), None),
            Req::Text(t) => (None, Some(t)),
        };
        self.suite.cases.push(Case {
            name: name.into(),
            stage: stage.into(),
            description: description.into(),
            bundle: bundle.into(),
            bundle_public_key: self.key.clone(),
            request,
            request_text,
            expected: String::new(),
        });
    }

    fn req(&self, client: usize, seed: u64) -> DecideRequest {
        self.fx.request(client, NOW, seed)
    }

    fn with_snapshot(&self, bytes: &[u8]) -> DecideRequest {
        let mut r = self.req(0, 7);
        r.snapshot = Some(encode_text(bytes));
        r
    }

    fn signed(&self, edit: impl FnOnce(&mut vitrine_engine::snapshot::SnapshotContent)) -> Vec<u8> {
        let mut c = self.fx.clients[0].clone();
        edit(&mut c);
        SnapshotSigner::new("snap-test-1", snapshot_key()).and_then(|s| s.sign(&self.fx.bundle.schema, &c)).unwrap_or_default()
    }
}

fn slot(id: &str, k: Option<u8>) -> SlotRequest {
    SlotRequest { slot: id.into(), k }
}

fn hist(offer: &str, channel: Option<&str>, kind: HistoryKind, days_ago: u64) -> HistoryEntry {
    HistoryEntry { offer: offer.into(), channel: channel.map(String::from), kind, at: NOW - days_ago * DAY }
}

pub(super) fn build() -> Suite {
    let fx = Fixture::telco();
    let key = to_hex(&fx.bundle_public_key);
    let mut g = Gen { suite: Suite::default(), key, fx };
    g.bundle("telco", g.fx.bundle_bytes.clone());
    decisions(&mut g);
    policy_variants(&mut g);
    arms_and_uplift(&mut g);
    snapshot_errors(&mut g);
    request_errors(&mut g);
    bundle_errors(&mut g);
    validation_errors(&mut g);
    g.suite
}

fn decisions(g: &mut Gen) {
    for i in 0..g.fx.clients.len() {
        let r = g.req(i, 100 + i as u64);
        g.case(
            &format!("client-{i}"),
            "decision",
            "A decision for a fixture client in its arm, home page on desktop.",
            "telco",
            Req::Json(r),
        );
    }
    let mut r = g.req(0, 1);
    r.explain = true;
    r.slots = ["home_hero", "offer_cards", "notification_centre", "email_weekly", "sms_alert"].iter().map(|s| slot(s, None)).collect();
    g.case("all-slots-explain", "decision", "Every slot, with the explanation of each dropped offer.", "telco", Req::Json(r));
    let mut r = g.req(1, 2);
    r.snapshot = None;
    g.case("anonymous", "policy", "No snapshot: the business-as-usual ranking on every channel (general offers).", "telco", Req::Json(r));
    let snap = g.signed(|c| c.consent &= !CONSENT_PROFILING);
    let mut r = g.with_snapshot(&snap);
    r.explain = true;
    g.case(
        "no-profiling-consent",
        "policy",
        "Profiling consent withheld: business-as-usual ranking, personal features masked.",
        "telco",
        Req::Json(r),
    );
    let snap = g.signed(|c| c.consent &= !(1 << 2));
    let mut r = g.with_snapshot(&snap);
    r.slots = vec![slot("email_weekly", None), slot("home_hero", None)];
    r.explain = true;
    g.case("no-email-consent", "policy", "Email consent withheld: the email slot stays empty, web still served.", "telco", Req::Json(r));
    let mut r = g.req(0, 3);
    r.context.insert("page".into(), ContextValue::Label("offers".into()));
    r.context.insert("device".into(), ContextValue::Label("mobile".into()));
    r.explain = true;
    g.case(
        "context-weights-mobile-offers-page",
        "policy",
        "Context weights: offers page ×1.2, mobile ×0.8 for TV offers; TV option not applicable on mobile.",
        "telco",
        Req::Json(r),
    );
    let mut r = g.req(0, 4);
    r.slots = vec![slot("offer_cards", Some(5))];
    g.case("k-override", "decision", "A request overrides the slot's top-k.", "telco", Req::Json(r));
    let mut r = g.req(2, 5);
    r.slots = vec![];
    g.case("no-slots", "decision", "An empty slot list gives an empty decision with a record.", "telco", Req::Json(r));
    let mut r = g.req(5, 6);
    r.history = vec![
        hist("device_renewal", Some("web"), HistoryKind::Impression, 1),
        hist("device_renewal", Some("web"), HistoryKind::Impression, 2),
        hist("device_renewal", Some("web"), HistoryKind::Impression, 3),
    ];
    r.explain = true;
    g.case("offer-cap", "policy", "Three impressions this week reach the offer's cap of 3.", "telco", Req::Json(r));
    let mut r = g.req(5, 6);
    r.history = vec![
        hist("fibre_upgrade", Some("web"), HistoryKind::Impression, 8),
        hist("fibre_upgrade", Some("web"), HistoryKind::Impression, 9),
        hist("fibre_upgrade", Some("web"), HistoryKind::Impression, 10),
    ];
    r.explain = true;
    g.case(
        "suppression",
        "policy",
        "Three impressions in 14 days without a click suppress the offer (outside the 7-day cap).",
        "telco",
        Req::Json(r),
    );
    let mut r = g.req(5, 6);
    r.history = vec![
        hist("fibre_upgrade", Some("web"), HistoryKind::Impression, 8),
        hist("fibre_upgrade", Some("web"), HistoryKind::Impression, 9),
        hist("fibre_upgrade", Some("web"), HistoryKind::Impression, 10),
        hist("fibre_upgrade", Some("web"), HistoryKind::Click, 9),
        hist("retired_offer", None, HistoryKind::Click, 1),
    ];
    g.case(
        "suppression-lifted-by-click",
        "policy",
        "A click lifts suppression; history naming a retired offer is ignored.",
        "telco",
        Req::Json(r),
    );
    let mut r = g.req(0, 8);
    r.slots = vec![slot("email_weekly", None), slot("sms_alert", None)];
    r.history = vec![
        hist("tv_option", Some("email"), HistoryKind::Contact, 1),
        hist("new_line", Some("email"), HistoryKind::Contact, 2),
        hist("data_20gb", Some("push"), HistoryKind::Contact, 1),
    ];
    r.explain = true;
    g.case("channel-cap", "policy", "Two emails this week reach the email channel cap; SMS is still free.", "telco", Req::Json(r));
    let mut r = g.req(0, 9);
    r.context.insert("hour".into(), ContextValue::Num(9.0));
    r.context.insert("logged_in".into(), ContextValue::Bool(true));
    r.explain = true;
    g.case("applicability-by-hour", "rules", "Streaming bundle applies only after 18:00 or on the offers page.", "telco", Req::Json(r));
    let mut r = g.req(5, 10);
    r.explain = true;
    r.slots = vec![slot("home_hero", None), slot("offer_cards", Some(6)), slot("notification_centre", None)];
    g.case("category-limit", "policy", "At most two offers of one category per page.", "telco", Req::Json(r));
    let mut r = g.req(3, 11);
    r.explain = true;
    g.case(
        "suitability-open-complaint",
        "rules",
        "A client with an open complaint gets no commercial offer the suitability stage blocks.",
        "telco",
        Req::Json(r),
    );
    let snap = g.signed(|c| {
        for v in c.values.iter_mut().step_by(2) {
            *v = None;
        }
    });
    let mut r = g.with_snapshot(&snap);
    r.explain = true;
    g.case(
        "missing-features",
        "models",
        "Half the features missing: rules see null, imputers and NaN-aware trees take over.",
        "telco",
        Req::Json(r),
    );
    for seed in [12u64, 13, 14, 15] {
        let mut r = g.req(0, seed);
        r.slots = vec![slot("email_weekly", None), slot("offer_cards", Some(4))];
        g.case(
            &format!("treatments-seed-{seed}"),
            "policy",
            "Loyalty discount's two price treatments split by the seed, with exact probabilities.",
            "telco",
            Req::Json(r),
        );
    }
}

fn policy_variants(g: &mut Gen) {
    g.variant("telco-softmax", |b| b.policy.exploration = Exploration::Softmax { temperature: 2.0 });
    g.variant("telco-greedy", |b| {
        b.policy.exploration = Exploration::None;
        b.policy.arms.bau = 0.0;
        b.policy.arms.no_contact = 0.0;
    });
    g.variant("telco-thompson", |b| {
        b.policy.exploration = Exploration::None;
        b.policy.arms.bau = 0.0;
        b.policy.arms.no_contact = 0.0;
        b.policy.thompson.cold_below = 100;
        b.posteriors = vec![
            Posterior { offer: 4, alpha: 2.0, beta: 5.0, observations: 5 },
            Posterior { offer: 10, alpha: 1.0, beta: 1.0, observations: 0 },
            Posterior { offer: 0, alpha: 40.0, beta: 60.0, observations: 100 },
        ];
    });
    g.variant("telco-validity", |b| {
        b.offers[0].valid_until = NOW - DAY;
        b.offers[3].valid_from = NOW + DAY;
        b.offers[6].caps.push(Cap { scope: CapScope::Category, max: 1, window_secs: 30 * DAY });
    });
    g.variant("telco-step-limit", |b| b.limits.max_rule_steps = 12);
    for (bundle, what) in [
        ("telco-softmax", "Softmax exploration (T = 2): exact selection probabilities."),
        ("telco-greedy", "No exploration, every client personalised: the greedy top-k, probability 1."),
    ] {
        for client in [0usize, 2] {
            let r = g.req(client, 21 + client as u64);
            g.case(&format!("{bundle}-client-{client}"), "policy", what, bundle, Req::Json(r));
        }
    }
    for seed in [31u64, 32] {
        let mut r = g.req(0, seed);
        r.slots = vec![slot("offer_cards", Some(4))];
        r.context.insert("page".into(), ContextValue::Label("offers".into()));
        g.case(
            &format!("thompson-seed-{seed}"),
            "policy",
            "Cold-start offers draw P from their Beta posterior; selection probabilities are estimated and marked so.",
            "telco-thompson",
            Req::Json(r),
        );
    }
    let mut r = g.req(0, 41);
    r.explain = true;
    r.history = vec![hist("loyalty_discount", Some("email"), HistoryKind::Contact, 3)];
    g.case(
        "validity-and-category-cap",
        "policy",
        "Offers outside their validity window, and a category cap from history.",
        "telco-validity",
        Req::Json(r),
    );
    let r = g.req(0, 42);
    g.case("rule-step-limit", "rules", "The bundle's per-request rule budget is exceeded.", "telco-step-limit", Req::Json(r));
}

/// Each arm forced (shares of 1), and the uplift bundle: T-, S- and direct uplift,
/// negative uplift dropped, contact costs.
fn arms_and_uplift(g: &mut Gen) {
    g.variant("telco-bau", |b| {
        b.policy.arms.bau = 1.0;
        b.policy.arms.no_contact = 0.0;
        b.offers[1].bau_priority = Some(500.0);
    });
    g.variant("telco-no-contact", |b| {
        b.policy.arms.bau = 0.0;
        b.policy.arms.no_contact = 1.0;
    });
    let mut uplift = Fixture::telco_uplift();
    uplift.bundle.policy.arms.bau = 0.0;
    uplift.bundle.policy.arms.no_contact = 0.0;
    uplift.resign();
    g.bundle("telco-uplift", uplift.bundle_bytes.clone());
    uplift.bundle.policy.arms.no_contact = 1.0;
    uplift.resign();
    g.bundle("telco-uplift-no-contact", uplift.bundle_bytes);
    let every_slot = |r: &mut DecideRequest| {
        r.explain = true;
        r.slots = ["home_hero", "offer_cards", "notification_centre", "email_weekly", "sms_alert"].iter().map(|s| slot(s, None)).collect();
    };
    for client in [0usize, 5] {
        let mut r = g.req(client, 51 + client as u64);
        every_slot(&mut r);
        g.case(
            &format!("arm-bau-client-{client}"),
            "policy",
            "The bau arm: non-personal eligibility, fixed priorities (one set by bau_priority), no models, no exploration.",
            "telco-bau",
            Req::Json(r),
        );
        let mut r = g.req(client, 53 + client as u64);
        every_slot(&mut r);
        g.case(
            &format!("arm-no-contact-client-{client}"),
            "policy",
            "The no_contact arm: no commercial offer, service actions stay.",
            "telco-no-contact",
            Req::Json(r),
        );
    }
    for client in 0..g.fx.clients.len() {
        let mut r = g.req(client, 61 + client as u64);
        every_slot(&mut r);
        g.case(
            &format!("uplift-client-{client}"),
            "models",
            "Uplift scoring: fibre by a T-learner, data by an S-learner, loyalty by a direct uplift (negative for long tenure: \
             dropped as no_uplift); SMS and email contacts cost money.",
            "telco-uplift",
            Req::Json(r),
        );
    }
    let mut r = g.req(0, 71);
    every_slot(&mut r);
    g.case(
        "uplift-no-contact-withheld",
        "policy",
        "A no_contact client of the uplift bundle: services only, the withheld offers and their uplift in the record.",
        "telco-uplift-no-contact",
        Req::Json(r),
    );
}

fn snapshot_errors(g: &mut Gen) {
    let good = g.fx.snapshot_bytes(0);
    let mut r = g.req(0, 7);
    r.snapshot = Some("not*base64!".into());
    g.case("snapshot-bad-encoding", "snapshot", "Snapshot text is not base64url.", "telco", Req::Json(r));
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("snapshot-bad-magic", "Wrong magic bytes.", flip(&good, 0, 0)),
        ("snapshot-bad-version", "Unsupported format version.", {
            let mut b = good.clone();
            b[4] = 2;
            b
        }),
        ("snapshot-truncated", "Cut short after 40 bytes.", good[..40].to_vec()),
        ("snapshot-oversized", "Longer than the 4,096-byte limit.", {
            let mut b = good.clone();
            b.resize(4200, 0);
            b
        }),
        ("snapshot-malformed", "Key id length of zero.", {
            let mut b = good.clone();
            b[5] = 0;
            b
        }),
        ("snapshot-bad-signature", "One feature byte flipped after signing.", flip(&good, good.len() - 70, 3)),
        ("snapshot-signature-bit", "One signature bit flipped.", flip(&good, good.len() - 1, 7)),
    ];
    for (name, what, bytes) in cases {
        let r = g.with_snapshot(&bytes);
        g.case(name, "snapshot", what, "telco", Req::Json(r));
    }
    let untrusted = SnapshotSigner::new("snap-rogue", untrusted_snapshot_key())
        .and_then(|s| s.sign(&g.fx.bundle.schema, &g.fx.clients[0]))
        .unwrap_or_default();
    let r = g.with_snapshot(&untrusted);
    g.case("snapshot-unknown-key", "snapshot", "Signed under a key id the bundle does not trust.", "telco", Req::Json(r));
    let wrong_key = SnapshotSigner::new("snap-test-1", untrusted_snapshot_key())
        .and_then(|s| s.sign(&g.fx.bundle.schema, &g.fx.clients[0]))
        .unwrap_or_default();
    let r = g.with_snapshot(&wrong_key);
    g.case("snapshot-wrong-key", "snapshot", "Trusted key id, but signed by another key.", "telco", Req::Json(r));
    let mut other = g.fx.bundle.schema.clone();
    other.channels.push("app".into());
    let mismatched = SnapshotSigner::new("snap-test-1", snapshot_key()).and_then(|s| s.sign(&other, &g.fx.clients[0])).unwrap_or_default();
    let r = g.with_snapshot(&mismatched);
    g.case("snapshot-schema-mismatch", "snapshot", "Signed for another schema.", "telco", Req::Json(r));
    let mut r = g.req(0, 7);
    r.now = NOW + 2 * DAY;
    g.case("snapshot-expired", "snapshot", "Past expires_at plus the bundle's skew.", "telco", Req::Json(r));
    let mut r = g.req(0, 7);
    r.now = NOW - 2 * 3600;
    g.case("snapshot-not-yet-valid", "snapshot", "Before issued_at minus the skew.", "telco", Req::Json(r));
    let mut r = g.req(0, 7);
    r.now = NOW - 3600 - 30;
    g.case("snapshot-within-skew", "snapshot", "30 s before issued_at is within the 60 s skew: accepted.", "telco", Req::Json(r));
}

fn request_errors(g: &mut Gen) {
    g.case("request-malformed-json", "request", "Not JSON.", "telco", Req::Text("{\"now\": 1800000000, \"seed\":".into()));
    g.case("request-missing-field", "request", "`seed` is missing.", "telco", Req::Text("{\"now\":1800000000,\"slots\":[]}".into()));
    g.case("request-wrong-type", "request", "`now` is a string.", "telco", Req::Text("{\"now\":\"today\",\"seed\":1,\"slots\":[]}".into()));
    g.case(
        "request-unknown-field",
        "request",
        "Unknown top-level field.",
        "telco",
        Req::Text("{\"now\":1800000000,\"seed\":1,\"slots\":[],\"colour\":\"red\"}".into()),
    );
    let mut r = g.req(0, 1);
    r.slots = (0..17).map(|_| slot("home_hero", None)).collect();
    g.case("request-too-many-slots", "request", "More slots than the bundle's limit of 16.", "telco", Req::Json(r));
    let mut r = g.req(0, 1);
    r.slots = vec![slot("footer", None)];
    g.case("request-unknown-slot", "request", "A slot the bundle does not define.", "telco", Req::Json(r));
    let mut r = g.req(0, 1);
    r.context.insert("weather".into(), ContextValue::Label("rain".into()));
    g.case("request-unknown-context", "request", "A context field the schema does not define.", "telco", Req::Json(r));
    let mut r = g.req(0, 1);
    r.context.insert("hour".into(), ContextValue::Label("noon".into()));
    g.case("request-context-type", "request", "`hour` must be a number.", "telco", Req::Json(r));
    let mut r = g.req(0, 1);
    r.context.insert("page".into(), ContextValue::Label("basket".into()));
    g.case("request-context-label", "request", "`page` label outside its vocabulary.", "telco", Req::Json(r));
    let mut r = g.req(0, 1);
    r.history = vec![hist("tv_option", Some("fax"), HistoryKind::Contact, 1)];
    g.case("request-unknown-channel", "request", "History names a channel the schema does not define.", "telco", Req::Json(r));
    let mut r = g.req(0, 1 << 53);
    r.slots = vec![slot("home_hero", None)];
    g.case("request-seed-too-large", "request", "Seeds must fit in 53 bits so JavaScript can carry them.", "telco", Req::Json(r));
    let mut r = g.req(0, 1);
    r.slots = vec![slot("home_hero", Some(0))];
    g.case("request-k-zero", "request", "k must be 1 to 16.", "telco", Req::Json(r));
    let mut r = g.req(0, 1);
    r.now *= 1000;
    g.case("request-now-in-milliseconds", "request", "`now` from Date.now(): unix seconds are expected.", "telco", Req::Json(r));
}

fn bundle_errors(g: &mut Gen) {
    let good = g.fx.bundle_bytes.clone();
    g.bundle("bad-magic", flip(&good, 0, 1));
    g.bundle("bad-version", {
        let mut b = good.clone();
        b[4] = 9;
        b
    });
    g.bundle("truncated", good[..good.len() / 2].to_vec());
    g.bundle("bad-signature", flip(&good, good.len() / 2, 0));
    g.bundle("undecodable", signed_envelope(&[0xff; 24]));
    let r = g.req(0, 1);
    for (name, what) in [
        ("bad-magic", "Bundle magic bytes wrong."),
        ("bad-version", "Bundle format version unsupported."),
        ("truncated", "Bundle cut in half."),
        ("bad-signature", "One payload bit flipped after signing."),
        ("undecodable", "Correctly signed, but the payload is not a bundle."),
    ] {
        g.case(&format!("bundle-{name}"), "bundle", what, name, Req::Json(r.clone()));
    }
    g.case("bundle-bad-key", "bundle", "The embedding host passes a 31-byte public key.", "telco", Req::Json(r.clone()));
    if let Some(c) = g.suite.cases.last_mut() {
        c.bundle_public_key.truncate(62);
    }
    g.case("bundle-wrong-key", "bundle", "Verified with a key that did not sign it.", "telco", Req::Json(r));
    if let Some(c) = g.suite.cases.last_mut() {
        c.bundle_public_key = to_hex(&snapshot_key().verifying_key().to_bytes());
    }
}

fn validation_errors(g: &mut Gen) {
    g.invalid("schema-duplicate", |b| b.schema.features[1].name = "tenure_months".into());
    g.invalid("schema-bad-quant", |b| b.schema.features[0].kind = FeatureKind::Numeric { quant: Quant::U8 { scale: 0.0, offset: 0.0 } });
    g.invalid("schema-too-large", |b| {
        b.schema.features.extend((0..1100).map(|i| FeatureDef { name: format!("x{i}"), kind: FeatureKind::Boolean, personal: true }));
    });
    g.invalid("rule-type", |b| {
        b.offers[0].eligibility =
            Program { ops: vec![Op::FeatureNum(0), Op::Bool(true), Op::Add, Op::Num(1.0), Op::Gt], ..Program::default() }
    });
    g.invalid("rule-not-boolean", |b| b.offers[1].suitability = Program { ops: vec![Op::FeatureNum(0)], ..Program::default() });
    g.invalid("rule-stack", |b| b.offers[0].eligibility = Program { ops: vec![Op::Bool(true), Op::Bool(false)], ..Program::default() });
    g.invalid("rule-bad-index", |b| b.offers[0].applicability = Program { ops: vec![Op::ContextBool(40)], ..Program::default() });
    g.invalid("rule-too-long", |b| {
        let mut ops = vec![Op::Bool(true)];
        ops.extend(std::iter::repeat_n(Op::Not, 1024));
        b.offers[0].eligibility = Program { ops, ..Program::default() };
    });
    g.invalid("rule-reads-features-in-context-weight", |b| {
        b.policy.context_weights[0].when = Program { ops: vec![Op::FeatureBool(4)], ..Program::default() }
    });
    g.invalid("model-shape", |b| {
        if let Body::Linear { weights, .. } = &mut b.models[0].body {
            weights.pop();
        }
    });
    g.invalid("model-bad-index", |b| b.models[0].inputs[0] = Input::Feature { slot: 500, impute: None, offset: 0.0, scale: 1.0 });
    g.invalid("model-tree-structure", |b| {
        if let Body::Trees(t) = &mut b.models[1].body {
            let n: &mut Node = &mut t.nodes[2];
            n.true_child = 1;
        }
    });
    g.invalid("model-not-finite", |b| {
        if let Body::Mlp { layers } = &mut b.models[2].body {
            layers[0].weights[0] = f32::NAN;
        }
    });
    g.invalid("offer-bad-slot", |b| b.offers[2].slots.push(9));
    g.invalid("offer-bad-propensity", |b| {
        b.offers[2].score = Score::Propensity(vitrine_engine::bundle::Propensity::Model { model: 0, output: 6 })
    });
    g.invalid("offer-uplift-no-treatment-input", |b| {
        b.offers[0].score = Score::Uplift(Uplift::Treatment(ModelOutput { model: 0, output: 0 }))
    });
    g.invalid("offer-uplift-bad-output", |b| {
        b.offers[0].score =
            Score::Uplift(Uplift::TwoModel { treated: ModelOutput { model: 0, output: 0 }, control: ModelOutput { model: 1, output: 2 } })
    });
    g.invalid("arm-shares-over-one", |b| {
        b.policy.arms.bau = 0.6;
        b.policy.arms.no_contact = 0.5;
    });
    let r = g.req(0, 1);
    for (name, what) in [
        ("schema-duplicate", "Two features share a name."),
        ("schema-bad-quant", "A zero quantisation scale."),
        ("schema-too-large", "More than 1,024 features."),
        ("rule-type", "Adds a boolean to a number."),
        ("rule-not-boolean", "A rule that yields a number."),
        ("rule-stack", "A rule that leaves two values."),
        ("rule-bad-index", "Reads a context field that does not exist."),
        ("rule-too-long", "More than 1,024 ops."),
        ("rule-reads-features-in-context-weight", "A context weight may not read client features."),
        ("model-shape", "Linear weights one short."),
        ("model-bad-index", "A model input reads a feature that does not exist."),
        ("model-tree-structure", "A tree node points back to an earlier node (a cycle)."),
        ("model-not-finite", "A NaN weight."),
        ("offer-bad-slot", "An offer placed in a slot that does not exist."),
        ("offer-bad-propensity", "An offer reads a model output that does not exist."),
        ("offer-uplift-no-treatment-input", "An S-learner uplift on a model without a treatment input."),
        ("offer-uplift-bad-output", "A T-learner's control output does not exist."),
        ("arm-shares-over-one", "Arm shares that sum over 1."),
    ] {
        g.case(&format!("invalid-{name}"), "bundle", what, name, Req::Json(r.clone()));
    }
}
