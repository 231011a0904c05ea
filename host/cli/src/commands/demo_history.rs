//! `vitrine demo history`: a large logged history for the learner's benchmark, made
//! without HTTP. Every client's snapshot is signed into the ledger; N decisions over the
//! last few days are made by the native engine (the rule-based demo bundle, ε-greedy
//! exploration, exact logged probabilities) for random demo clients on the home page's
//! hero slot and offer cards, logged with their requests as the server logs them; clicks
//! and conversions are drawn from the hidden truth. Writes STATE/{bundle.vbundle,
//! features.sqlite, feedback.sqlite} for `vitrine learn`.
use std::path::PathBuf;

use anyhow::{Context, Result};
use vitrine_base::keys::{self, Role};
use vitrine_demo::world::{self, Rng};
use vitrine_engine::decision::{ContextValue, DecideRequest, SlotRequest};
use vitrine_engine::snapshot::{encode_text, SnapshotSigner};
use vitrine_feedback::{Event, EventKind, FeedbackStore, LoggedDecision, SqliteStore};
use vitrine_store::FeatureStore;

use crate::default_state::{self, World};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long, default_value = ".vitrine-history")]
    state: PathBuf,
    #[arg(long, default_value_t = 1_000_000)]
    decisions: u64,
    /// Over this many days before now.
    #[arg(long, default_value_t = 7)]
    days: u64,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

/// Decisions per feedback transaction.
const BATCH: usize = 5000;

pub fn run(a: Args) -> Result<()> {
    let started = std::time::Instant::now();
    let config = default_state::prepare(&a.state, "127.0.0.1:0".parse()?, World::Demo, Vec::new())?;
    let secret = keys::load_secret(&a.state.join("keys/bundle-dev.key"), Role::Bundle)?;
    let bundle = vitrine_demo::rule_based(vitrine_base::signed::read(&config.bundle, &config.bundle_key)?.bundle);
    let bytes = vitrine_engine::bundle::envelope::sign(&bundle, &secret.kid, &secret.key)?;
    vitrine_base::atomic::write(&config.bundle, &bytes)?;
    let public = keys::load_public(&config.bundle_key, Role::Bundle)?.bytes(&config.bundle_key)?;
    let mut engine = vitrine_engine::Engine::load(&bytes, &public)?;

    let now = vitrine_base::clock::now();
    let start = now - a.days * 86_400;
    let features = config.features.clone().context("the demo state has a feature store")?;
    let mut store = FeatureStore::open_existing(&features)?;
    let snap = keys::load_secret(config.snapshot_key.as_ref().context("the demo state has a snapshot key")?, Role::Snapshot)?;
    let signer = SnapshotSigner::new(&snap.kid, snap.key)?;
    let mut snapshots = std::collections::HashMap::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.contents_after(after.as_deref(), 4096, start, a.days * 86_400 + 86_400)?;
        let Some((last, _)) = page.last() else { break };
        after = Some(last.clone());
        let mut signed = Vec::with_capacity(page.len());
        for (id, content) in page {
            signed.push((id, signer.sign(store.schema(), &content)?));
        }
        let mut ledger = store.ledger()?;
        for (id, s) in signed {
            ledger.record(&id, &s)?;
            snapshots.insert(id, encode_text(&s));
        }
        ledger.commit()?;
    }
    eprintln!("{} snapshots signed into the ledger", snapshots.len());

    let clients = world::clients(vitrine_demo::CLIENTS, vitrine_demo::SEED);
    let mut feedback = SqliteStore::open(&config.feedback)?;
    let mut rng = Rng::new(a.seed);
    let bar = indicatif::ProgressBar::new(a.decisions);
    let (mut decisions, mut events) = (Vec::with_capacity(BATCH), Vec::new());
    let span = a.days * 86_400;
    for i in 0..a.decisions {
        let c = &clients[rng.below(clients.len() as u64) as usize];
        let at = start + i * span / a.decisions.max(1);
        let request = DecideRequest {
            snapshot: snapshots.get(&c.id).cloned(),
            now: at,
            seed: rng.next_u64() >> 12,
            context: [("page".to_string(), ContextValue::Label("home".into()))].into(),
            slots: vec![SlotRequest { slot: "home_hero".into(), k: None }, SlotRequest { slot: "offer_cards".into(), k: None }],
            history: vec![],
            explain: false,
        };
        let resp = engine.decide(&request)?;
        for s in &resp.slots {
            for o in &s.offers {
                let t = world::truth(c, &o.offer);
                let event = |kind: EventKind, value: Option<f64>| Event {
                    event_id: format!("h{i}-{}-{kind:?}", o.offer),
                    decision_id: resp.decision_id.clone(),
                    kind,
                    offer: o.offer.clone(),
                    treatment: o.treatment.clone(),
                    slot: s.slot.clone(),
                    channel: s.channel.clone(),
                    at,
                    value,
                    selection_probability: None,
                    rank: None,
                    uplift: None,
                    record: None,
                };
                events.push(event(EventKind::Impression, None));
                if rng.chance(t.click) {
                    events.push(event(EventKind::Click, None));
                    if rng.chance(t.convert) {
                        events.push(event(EventKind::Conversion, Some(world::value(&o.offer))));
                    }
                }
            }
        }
        decisions.push(LoggedDecision::from_response(resp, Some(serde_json::to_string(&request)?), "server"));
        if decisions.len() == BATCH {
            feedback.write(&events, &[], &decisions)?;
            decisions.clear();
            events.clear();
            bar.inc(BATCH as u64);
        }
    }
    feedback.write(&events, &[], &decisions)?;
    bar.finish_and_clear();
    println!(
        "{} decisions over {} days logged in {:.1} s → {}",
        a.decisions,
        a.days,
        started.elapsed().as_secs_f64(),
        config.feedback.display()
    );
    Ok(())
}
