use vitrine_engine::decision::{ConsentState, DecisionRecord, Withheld};
use vitrine_engine::policy::Arm;

use super::*;
use crate::{FeedbackStore, LoggedDecision, Sale, SaleKind, Shown, SqliteStore};

const DAY: u64 = 86_400;

fn decision(id: usize, subject: usize, arm: Arm, at: u64) -> LoggedDecision {
    LoggedDecision::from_edge(DecisionRecord {
        decision_id: format!("{id:032x}"),
        bundle: "b".into(),
        bundle_version: 1,
        bundle_hash: "h".into(),
        snapshot_hash: Some(format!("{subject:032x}")),
        subject: Some(format!("{subject:032x}")),
        seed: id as u64,
        now: at,
        context: Default::default(),
        slots: Vec::new(),
        history_hash: "0".into(),
        consent: ConsentState { profiling: true, channels: Vec::new() },
        arm: Some(arm),
        withheld: Vec::new(),
        engine_version: "test".into(),
    })
}

fn shown(offer: &str, uplift: f32) -> Shown {
    Shown {
        slot: "hero".into(),
        channel: "web".into(),
        rank: 1,
        offer: offer.into(),
        treatment: "t".into(),
        selection_probability: 1.0,
        uplift: Some(uplift),
        sent_at: None,
    }
}

fn sale(id: usize, subject: usize, offer: &str, at: u64, value: f64) -> Sale {
    Sale { event_id: format!("s{id}"), kind: SaleKind::Sale, subject: format!("{subject:032x}"), offer: offer.into(), value, at }
}

fn setup() -> Setup {
    let arms = Arms { salt: "s".into(), bau: 0.1, no_contact: 0.1, no_contact_services: true };
    Setup { arms, windows: [("fibre".to_string(), 7 * DAY)].into_iter().collect(), maturity: vec![] }
}

#[test]
fn the_sample_ratio_counts_clients_not_visits() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("f.sqlite")).unwrap();
    // 100 clients, 10 in bau, 10 in no_contact (the declared shares); bau clients come
    // back 20 times each, the others once.
    let mut decisions = Vec::new();
    for c in 0..100 {
        let arm = if c < 10 {
            Arm::Bau
        } else if c < 20 {
            Arm::NoContact
        } else {
            Arm::Personalised
        };
        let visits = if c < 10 { 20 } else { 1 };
        for _ in 0..visits {
            decisions.push(decision(decisions.len(), c, arm, 1_000 + decisions.len() as u64));
        }
    }
    store.write(&[], &[], &decisions).unwrap();
    let r = report(&store, Range { from: 0, to: 1_000_000 }, &setup()).unwrap();
    let bau = &r.arms.arms[1];
    assert_eq!((bau.arm, bau.clients), (Arm::Bau, 10));
    let s = bau.sample_ratio.as_ref().unwrap();
    assert_eq!((s.control, s.total), (10, 100));
    assert!(!r.arms.sample_ratio_mismatch, "{:?}", r.arms);
}

#[test]
fn sales_per_client_by_arm_and_offer_uplift_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("f.sqlite")).unwrap();
    let t0 = 10 * DAY;
    let mut decisions = Vec::new();
    // 40 personalised clients shown fibre (uplift 0.2 for even, 0.05 for odd ones),
    // 40 no_contact clients it was withheld from, 20 bau clients shown nothing.
    for c in 0..40 {
        let mut d = decision(c, c, Arm::Personalised, t0 + c as u64);
        d.shown = vec![shown("fibre", if c % 2 == 0 { 0.2 } else { 0.05 })];
        decisions.push(d);
    }
    for c in 40..80 {
        let mut d = decision(c, c, Arm::NoContact, t0 + c as u64);
        d.record.withheld = vec![Withheld {
            slot: "hero".into(),
            channel: "web".into(),
            offer: "fibre".into(),
            uplift: if c % 2 == 0 { 0.2 } else { 0.05 },
        }];
        d.mode = "no_contact".into();
        decisions.push(d);
    }
    for c in 80..100 {
        decisions.push(decision(c, c, Arm::Bau, t0 + c as u64));
    }
    let mut sales = Vec::new();
    // Contacted: 12 of the 20 even clients buy within the window, 2 of the odd ones.
    for c in (0..24).step_by(2) {
        sales.push(sale(sales.len(), c, "fibre", t0 + DAY, 30.0));
    }
    sales.push(sale(sales.len(), 1, "fibre", t0 + DAY, 30.0));
    sales.push(sale(sales.len(), 3, "fibre", t0 + DAY, 30.0));
    // One sale outside the window (8 days later) is not attributed to the contact.
    sales.push(sale(sales.len(), 5, "fibre", t0 + 8 * DAY, 30.0));
    // Control: 4 of the 40 buy anyway (organic), even ones.
    for c in [40, 42, 44, 46] {
        sales.push(sale(sales.len(), c, "fibre", t0 + DAY, 30.0));
    }
    // A bau client buys something else twice.
    sales.push(sale(sales.len(), 80, "data", t0 + DAY, 10.0));
    sales.push(sale(sales.len(), 80, "data", t0 + 2 * DAY, 10.0));
    // A sale by a subject never decided for.
    sales.push(sale(sales.len(), 999, "fibre", t0 + DAY, 30.0));
    store.write(&[], &sales, &decisions).unwrap();

    let r = report(&store, Range { from: t0, to: t0 + 5 * DAY }, &setup()).unwrap();
    let arm = |a: Arm| r.arms.arms.iter().find(|x| x.arm == a).unwrap();
    // Sales in the range only (the day-8 sale is outside it).
    assert_eq!((arm(Arm::Personalised).clients, arm(Arm::Personalised).sales), (40, 14));
    assert_eq!((arm(Arm::NoContact).clients, arm(Arm::NoContact).sales), (40, 4));
    assert_eq!((arm(Arm::Bau).clients, arm(Arm::Bau).sales, arm(Arm::Bau).revenue), (20, 2, 20.0));
    assert_eq!(arm(Arm::Personalised).contacts, 40);
    assert!((arm(Arm::Personalised).sales_per_client.mean - 14.0 / 40.0).abs() < 1e-12);
    let vs = r.arms.vs_no_contact.sales_per_client.as_ref().unwrap();
    assert!((vs.absolute - (14.0 - 4.0) / 40.0).abs() < 1e-12);
    assert!(vs.absolute_ci95.low > 0.0, "{vs:?}");
    assert_eq!(r.unexposed_sales, 1);

    let fibre = &r.offers[0];
    assert_eq!((fibre.offer.as_str(), fibre.channel.as_str()), ("fibre", "web"));
    assert_eq!((fibre.contacted.successes, fibre.contacted.trials), (14, 40));
    assert_eq!((fibre.control.successes, fibre.control.trials), (4, 40));
    let u = fibre.uplift.as_ref().unwrap();
    assert!((u.absolute - 0.25).abs() < 1e-12);
    let inc = fibre.incremental_sales.unwrap();
    assert!((inc.value - 10.0).abs() < 1e-9 && inc.ci95.low < 10.0 && inc.ci95.high > 10.0);
    assert!((fibre.incremental_revenue.unwrap().value - 300.0).abs() < 1e-9);

    // The ranking is informative: high-uplift units respond more when treated.
    let q = r.qini.as_ref().unwrap();
    assert_eq!((q.qini.treated, q.qini.control), (40, 40));
    assert!(q.qini.coefficient.unwrap() > 0.0, "{q:?}");
    // CSV tables carry the same numbers.
    assert!(arms_csv(&r).contains("personalised,0.8000,40,14,"));
    assert!(offers_csv(&r).contains("fibre,web,1,604800,40,14,40,4,0.250000"));
}

#[test]
fn a_store_from_before_the_arms_is_migrated_holdout_to_bau() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE decisions (decision_id TEXT PRIMARY KEY, at INTEGER NOT NULL, bundle TEXT NOT NULL,
                 bundle_version INTEGER NOT NULL, holdout INTEGER NOT NULL, mode TEXT NOT NULL, subject TEXT,
                 source TEXT NOT NULL, record TEXT NOT NULL, request TEXT);
             CREATE TABLE shown (decision_id TEXT NOT NULL, slot TEXT NOT NULL, rank INTEGER NOT NULL, channel TEXT NOT NULL,
                 offer TEXT NOT NULL, treatment TEXT NOT NULL, selection_probability REAL NOT NULL,
                 PRIMARY KEY (decision_id, slot, rank)) WITHOUT ROWID;
             INSERT INTO decisions VALUES ('d1', 100, 'b', 1, 1, 'holdout', 'aa', 'server', '{}', NULL),
                                          ('d2', 100, 'b', 1, 0, 'personalised', 'bb', 'server', '{}', NULL),
                                          ('d3', 100, 'b', 1, 0, 'anonymous', NULL, 'server', '{}', NULL);
             INSERT INTO shown VALUES ('d2', 'hero', 1, 'web', 'fibre', 't', 1.0);",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let r = report(&store, Range { from: 0, to: 1_000 }, &setup()).unwrap();
    let clients = |a: Arm| r.arms.arms.iter().find(|x| x.arm == a).unwrap().clients;
    assert_eq!((clients(Arm::Personalised), clients(Arm::Bau), clients(Arm::NoContact)), (1, 1, 0));
    assert_eq!(r.arms.arms[0].contacts, 1, "the old shown rows are kept");
    drop(store);
    // Opening again is a no-op.
    let again = SqliteStore::open(&path).unwrap();
    assert_eq!(report(&again, Range { from: 0, to: 1_000 }, &setup()).unwrap().arms, r.arms);
}
