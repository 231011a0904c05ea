//! `vitrine plan`: one contact plan for the whole base across the direct channels.
use std::path::PathBuf;

use anyhow::Result;
use vitrine_plan::{EngineChoice, PlanJob, Source};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The signed bundle and its signer's public key.
    #[command(flatten)]
    bundle: super::signed_bundle::BundleArgs,
    /// The feature store (SQLite), or a .parquet/.csv export of it (`vitrine features export`).
    #[arg(long, required_unless_present = "proposals")]
    features: Option<PathBuf>,
    /// The planning policy (TOML: window, contact policy, channels in preference order).
    #[arg(long)]
    config: PathBuf,
    /// Output directory (created whole or not at all).
    #[arg(long)]
    out: PathBuf,
    /// Replace --out if it exists.
    #[arg(long)]
    force: bool,
    /// Log every decision of the plan (`no_contact` clients included) into this feedback store once
    /// the plan is complete, so `/v1/report` measures the campaign's uplift from the
    /// events the send system posts (with the plan's decision ids).
    #[arg(long)]
    feedback: Option<PathBuf>,
    /// With --feedback: the feature store (SQLite) whose snapshot ledger records every
    /// logged decision's profile, so `vitrine learn` and `export training` join planned
    /// decisions to their features (default: --features when it is a store; with an
    /// export and no --ledger, planned decisions join as ledger misses).
    #[arg(long)]
    ledger: Option<PathBuf>,
    /// Read each client's contact history (page impressions, earlier plans' and triggers'
    /// sends, clicks, conversions) from this feedback store, so the bundle's caps and
    /// suppression and the plan's `max_contacts` and `min_gap_days` hold across channels
    /// and across plans; send hours follow each client's own response times.
    #[arg(long)]
    history: Option<PathBuf>,
    /// Allocate proposals decided elsewhere (CSV: client_id, decision_id, status, pref,
    /// rank, offer, treatment, priority, selection_probability, uplift) instead of deciding
    /// --features: the Spark planner's driver hands its executors' decisions over this way.
    #[arg(long)]
    proposals: Option<PathBuf>,
    /// Decide with `engine-abi.wasm` under Wasmtime instead of the native engine.
    #[arg(long)]
    wasm: bool,
    /// engine-abi.wasm for --wasm (default: $VITRINE_ENGINE, else the module embedded in this binary).
    #[arg(long)]
    engine: Option<PathBuf>,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<()> {
    let signed = a.bundle.read()?;
    let engine = if a.wasm { EngineChoice::Wasm(crate::assets::engine(a.engine.as_deref())?) } else { EngineChoice::Native };
    let bar = crate::progress::bar("planning".into());
    let progress = |done: u64, total: Option<u64>| crate::progress::update(&bar, done, total);
    let source = Source::from_path(a.features.as_deref().unwrap_or(std::path::Path::new("")));
    let ledger = match (&a.ledger, &source) {
        (Some(l), _) => Some(l.clone()),
        (None, Source::Store(s)) => Some(s.clone()),
        (None, Source::File(_)) => None,
    };
    let job = PlanJob {
        bundle: signed.bytes,
        bundle_key: signed.key,
        source,
        config: a.config,
        out: a.out.clone(),
        force: a.force,
        engine,
        feedback: a.feedback,
        ledger,
        history: a.history,
        proposals: a.proposals,
        threads: a.threads,
        progress: &progress,
    };
    let summary = vitrine_plan::plan(&job);
    bar.finish_and_clear();
    let s = summary?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
    println!(
        "{} v{} ({} engine, {} threads): {} clients decided in {:.1} s ({:.0} clients/s), {} proposals",
        s.bundle, s.bundle_version, s.engine, s.threads, s.clients, s.decide_seconds, s.clients_per_second, s.proposals
    );
    println!(
        "window {} + {} days, quiet {:?}, at most {} contacts per client, {} days apart",
        s.start, s.days, s.quiet_days, s.max_contacts, s.min_gap_days
    );
    for c in &s.channels {
        println!(
            "  {:<10} {:>10} contacts of {:>10} ({:.1}%), busiest day {}, cost {:.2} each",
            c.channel,
            c.contacts,
            c.capacity,
            100.0 * c.capacity_used,
            c.busiest_day,
            c.cost
        );
    }
    let o = &s.objective;
    let bound = match (o.bound, o.gap_bound) {
        (Some(b), Some(g)) => format!(", dual bound {b:.2} (gap ≤ {:.3}%)", 100.0 * g),
        _ => String::new(),
    };
    let budget = o.budget.map(|b| format!(" of {b:.2}")).unwrap_or_default();
    println!("{} allocation: value {:.2}{bound}, spent {:.2}{budget}, in {:.1} s", o.allocation, o.value, o.spent, o.seconds);
    for f in &o.shortfall {
        println!("  offer {}: {} contacts, below its minimum {} (too few clients could get it)", f.offer, f.contacts, f.min);
    }
    if let Some(n) = s.history_rows {
        println!("{n} contacts and responses read from the history store");
    }
    let u = &s.uncontacted;
    println!(
        "{} clients contacted, {} contacts; uncontacted: {} no_contact, {} no channel consent, {} no eligible offer, {} channel capacity, {} plan limits, {} contact pressure, {} no send day",
        s.contacted, s.contacts, u.no_contact, u.no_channel_consent, u.no_eligible_offer, u.channel_capacity, u.plan_limits, u.contact_pressure, u.no_send_day
    );
    if let Some(n) = s.logged_decisions {
        println!("{n} decisions logged to the feedback store");
    }
    if let Some(n) = s.ledger_entries {
        println!("{n} profiles recorded in the snapshot ledger");
    }
    println!("written to {} in {:.1} s", a.out.display(), s.seconds);
    Ok(())
}
