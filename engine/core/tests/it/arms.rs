//! The experiment arms: `bau` ranks by fixed priorities with no models and no
//! exploration, `no_contact` shows no commercial offer (services stay), anonymous
//! visitors get the business-as-usual ranking (never an empty page), and the arm
//! in the record is the documented salted hash of the subject.
use vitrine_engine::bundle::OfferKind;
use vitrine_engine::decision::{DecideResponse, DropReason, Mode, SlotRequest};
use vitrine_engine::policy::{arms, Arm};
use vitrine_engine::testkit::{Fixture, NOW};
use vitrine_engine::Engine;

fn with_arms(mut fx: Fixture, bau: f32, no_contact: f32) -> Fixture {
    fx.bundle.policy.arms.bau = bau;
    fx.bundle.policy.arms.no_contact = no_contact;
    fx.resign();
    fx
}

fn decide_all(fx: &Fixture, client: Option<usize>, seed: u64) -> DecideResponse {
    let mut engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    let mut req = fx.request(client.unwrap_or(0), NOW, seed);
    if client.is_none() {
        req.snapshot = None;
    }
    req.explain = true;
    req.slots = fx.bundle.slots.iter().map(|s| SlotRequest { slot: s.id.clone(), k: None }).collect();
    engine.decide(&req).unwrap()
}

#[test]
fn bau_ranks_by_fixed_priority_without_exploration() {
    let mut fx = with_arms(Fixture::telco(), 1.0, 0.0);
    fx.bundle.offers.iter_mut().find(|o| o.id == "data_20gb").unwrap().bau_priority = Some(1000.0);
    fx.resign();
    let mut shown = 0;
    for client in 0..fx.clients.len() {
        for seed in 0..5 {
            let r = decide_all(&fx, Some(client), seed);
            assert_eq!(r.mode, Mode::Bau);
            assert_eq!(r.record.arm, Some(Arm::Bau));
            for slot in &r.slots {
                let mut last = f64::INFINITY;
                for c in &slot.offers {
                    let o = fx.bundle.offers.iter().find(|o| o.id == c.offer).unwrap();
                    let want = o.bau_priority.map_or((o.value * c.l) as f64, f64::from);
                    assert_eq!((c.p, c.c, c.priority), (1.0, 1.0, want), "{c:?}");
                    assert_eq!(c.selection_probability * (o.treatments.len() as f64), 1.0, "no exploration: {c:?}");
                    assert!(c.priority <= last);
                    last = c.priority;
                    shown += 1;
                }
            }
            // The fixed priority beats everything wherever data_20gb is eligible.
            for slot in r.slots.iter().filter(|s| s.slot == "home_hero") {
                let eligible = !r.explain.as_ref().unwrap().iter().any(|d| d.slot == "home_hero" && d.offer == "data_20gb");
                if eligible {
                    assert_eq!(slot.offers[0].offer, "data_20gb");
                }
            }
        }
    }
    assert!(shown > 0);
}

#[test]
fn no_contact_shows_no_commercial_offer_but_keeps_services() {
    let fx = with_arms(Fixture::telco_uplift(), 0.0, 1.0);
    let (mut services, mut withheld) = (0, 0);
    for client in 0..fx.clients.len() {
        let r = decide_all(&fx, Some(client), 3);
        assert_eq!(r.mode, Mode::NoContact);
        assert_eq!(r.record.arm, Some(Arm::NoContact));
        for c in r.slots.iter().flat_map(|s| &s.offers) {
            assert_eq!(c.kind, OfferKind::Service, "{c:?}");
            services += 1;
        }
        let explain = r.explain.unwrap();
        for w in &r.record.withheld {
            assert!(w.uplift > 0.0);
            let o = fx.bundle.offers.iter().find(|o| o.id == w.offer).unwrap();
            assert_eq!(o.kind, OfferKind::Offer);
            assert!(explain.iter().any(|d| d.offer == w.offer && d.reason == DropReason::NoContactArm));
            withheld += 1;
        }
    }
    assert!(services > 0, "service actions stay on in no_contact");
    assert!(withheld > 0, "the withheld uplift-scored offers are recorded");

    // Unless the bundle says otherwise.
    let mut fx = fx;
    fx.bundle.policy.arms.no_contact_services = false;
    fx.resign();
    for client in 0..fx.clients.len() {
        assert!(decide_all(&fx, Some(client), 3).slots.iter().all(|s| s.offers.is_empty()));
    }
}

#[test]
fn anonymous_visitors_get_general_offers() {
    let fx = Fixture::telco();
    let r = decide_all(&fx, None, 1);
    assert_eq!(r.mode, Mode::Anonymous);
    assert_eq!(r.record.arm, None);
    // Offers whose eligibility reads no personal feature fill the page.
    assert!(r.slots.iter().any(|s| !s.offers.is_empty()), "{:?}", r.slots);
    assert!(r.slots.iter().flat_map(|s| &s.offers).all(|c| c.p == 1.0));
}

#[test]
fn the_logged_arm_is_the_documented_hash() {
    let fx = Fixture::telco();
    let a = &fx.bundle.policy.arms;
    let mut seen = std::collections::BTreeSet::new();
    for n in 0..400u64 {
        let mut content = fx.clients[(n % 8) as usize].clone();
        content.subject = vitrine_engine::testkit::subject(10_000 + n);
        let mut fx2 = fx.clone();
        fx2.clients[0] = content.clone();
        let r = decide_all(&fx2, Some(0), n);
        let u = arms::uniform(&content.subject, &a.salt);
        let want = if u < a.no_contact as f64 {
            Arm::NoContact
        } else if u < (a.no_contact + a.bau) as f64 {
            Arm::Bau
        } else {
            Arm::Personalised
        };
        assert_eq!(r.record.arm, Some(want));
        let hex: String = content.subject.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(r.record.subject.as_deref(), Some(hex.as_str()));
        seen.insert(want);
    }
    assert_eq!(seen.len(), 3, "400 subjects reach every arm");
}

#[test]
fn no_contact_without_profiling_consent_shows_services_by_bau_priority() {
    use vitrine_engine::snapshot::{encode_text, SnapshotSigner, CONSENT_PROFILING};
    use vitrine_engine::testkit::{snapshot_key, SNAPSHOT_KID};
    let mut fx = with_arms(Fixture::telco_uplift(), 0.0, 1.0);
    // A service action any client may get (the fixture's read personal features).
    fx.bundle.offers.iter_mut().find(|o| o.id == "bill_review").unwrap().eligibility = vitrine_engine::rules::Program::always();
    fx.resign();
    let mut services = 0;
    for client in 0..fx.clients.len() {
        let mut content = fx.clients[client].clone();
        content.consent &= !CONSENT_PROFILING;
        let bytes = SnapshotSigner::new(SNAPSHOT_KID, snapshot_key()).unwrap().sign(&fx.bundle.schema, &content).unwrap();
        let mut engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
        let mut req = fx.request(client, NOW, 2);
        req.snapshot = Some(encode_text(&bytes));
        req.slots = fx.bundle.slots.iter().map(|s| SlotRequest { slot: s.id.clone(), k: None }).collect();
        let r = engine.decide(&req).unwrap();
        assert_eq!((r.mode, r.record.arm), (Mode::NoContact, Some(Arm::NoContact)));
        assert!(r.record.withheld.is_empty(), "no profiling consent: nothing personal is recorded");
        for c in r.slots.iter().flat_map(|s| &s.offers) {
            assert_eq!((c.kind, c.p, c.uplift), (OfferKind::Service, 1.0, None), "{c:?}");
            services += 1;
        }
    }
    assert!(services > 0);
}
