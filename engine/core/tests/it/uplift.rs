//! Uplift scoring: T-learner, S-learner and direct uplift outputs, the expected
//! incremental value (uplift × C × V × L − cost), and `no_uplift` drops.
use vitrine_engine::decision::{DropReason, SlotRequest};
use vitrine_engine::models::Scratch;
use vitrine_engine::testkit::{Fixture, NOW};
use vitrine_engine::Engine;

fn personalised() -> Fixture {
    let mut fx = Fixture::telco_uplift();
    fx.bundle.policy.arms.bau = 0.0;
    fx.bundle.policy.arms.no_contact = 0.0;
    fx.bundle.policy.exploration = vitrine_engine::policy::Exploration::None;
    fx.resign();
    fx
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + libm::expf(-x))
}

#[test]
fn uplift_scores_come_from_treated_and_control() {
    let fx = personalised();
    let mut engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    let (mut t, mut s, mut d, mut dropped) = (0, 0, 0, 0);
    for client in 0..fx.clients.len() {
        let mut req = fx.request(client, NOW, 11);
        req.explain = true;
        req.slots = fx.bundle.slots.iter().map(|s| SlotRequest { slot: s.id.clone(), k: None }).collect();
        let r = engine.decide(&req).unwrap();
        let features: Vec<f32> = fx.clients[client].values.iter().map(|v| v.unwrap_or(f32::NAN)).collect();
        for slot in &r.slots {
            let cost = match slot.channel.as_str() {
                "email" => 0.05,
                "sms" => 0.5,
                _ => 0.0,
            };
            for c in &slot.offers {
                let model = |name: &str| fx.bundle.models.iter().find(|m| m.name == name).unwrap();
                match c.offer.as_str() {
                    "fibre_upgrade" => {
                        let mut out = [0.0f32; 2];
                        model("fibre_t_learner").score(&features, &[], &mut Scratch::default(), &mut out);
                        assert_eq!((c.p_treated, c.p_control), (Some(out[0]), Some(out[1])));
                        t += 1;
                    }
                    "data_20gb" => {
                        let m = model("data_s_learner");
                        let (mut on, mut off) = ([0.0f32], [0.0f32]);
                        m.score_at(&features, &[], 1.0, &mut Scratch::default(), &mut on);
                        m.score_at(&features, &[], 0.0, &mut Scratch::default(), &mut off);
                        assert_eq!((c.p_treated, c.p_control), (Some(on[0]), Some(off[0])));
                        // By hand: the treatment column adds 0.6 to the logit.
                        let z = -2.0 + 0.7 * features[2] / 20.0 + 0.9 * features[3] / 5.0;
                        assert!((on[0] - sigmoid(z + 0.6)).abs() < 1e-6 && (off[0] - sigmoid(z)).abs() < 1e-6);
                        s += 1;
                    }
                    "loyalty_discount" => {
                        assert_eq!((c.p_treated, c.p_control), (None, None));
                        d += 1;
                    }
                    _ => {
                        assert_eq!(c.uplift, None);
                        continue;
                    }
                }
                let uplift = c.uplift.unwrap();
                if let (Some(pt), Some(pc)) = (c.p_treated, c.p_control) {
                    assert_eq!(uplift, pt - pc);
                }
                assert_eq!(c.cost, cost);
                let want = uplift as f64 * c.c as f64 * c.v as f64 * c.l as f64 - cost as f64;
                assert!((c.priority - want).abs() < 1e-9, "{c:?}");
                assert!(c.priority > 0.0);
            }
        }
        dropped += r.explain.unwrap().iter().filter(|x| x.reason == DropReason::NoUplift).count();
    }
    assert!(t > 0 && s > 0, "T {t}, S {s}, direct {d}");
    assert!(dropped > 0, "negative uplift or a costly channel drops offers");
}

#[test]
fn a_sleeping_dog_is_not_contacted() {
    // loyalty_discount's direct uplift is negative for long tenure: client 7 (200 months).
    let fx = personalised();
    let mut engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    let mut req = fx.request(7, NOW, 5);
    req.explain = true;
    req.slots = fx.bundle.slots.iter().map(|s| SlotRequest { slot: s.id.clone(), k: None }).collect();
    let r = engine.decide(&req).unwrap();
    assert!(r.slots.iter().flat_map(|s| &s.offers).all(|c| c.offer != "loyalty_discount"));
    let reasons: Vec<_> = r.explain.unwrap().into_iter().filter(|d| d.offer == "loyalty_discount").map(|d| d.reason).collect();
    assert!(!reasons.is_empty() && reasons.iter().all(|r| *r == DropReason::NoUplift || *r == DropReason::Eligibility), "{reasons:?}");
}

#[test]
fn contact_cost_drops_a_propensity_offer_worth_less_than_it() {
    let mut fx = personalised();
    let sms = fx.bundle.schema.channels.iter().position(|c| c == "sms").unwrap() as u8;
    fx.bundle.policy.channel_costs.retain(|c| c.channel != sms);
    fx.bundle.policy.channel_costs.push(vitrine_engine::policy::ChannelCost { channel: sms, cost: 1000.0 });
    fx.resign();
    let mut engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    for client in 0..fx.clients.len() {
        let mut req = fx.request(client, NOW, 5);
        req.explain = true;
        req.slots = vec![SlotRequest { slot: "sms_alert".into(), k: None }];
        let r = engine.decide(&req).unwrap();
        assert!(r.slots[0].offers.is_empty(), "{:?}", r.slots);
    }
}
