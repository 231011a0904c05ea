//! Campaign planning (`vitrine plan`): one global contact plan per client across the
//! direct channels, made by the very engine that decides pages.
//!
//! Stages, one file each: the policy (`config.rs`), the contact history of the base from
//! the feedback store (`history.rs`), the client base streamed in batches (`input.rs`),
//! one decision per client with its history, natively or under Wasmtime (`decide.rs`),
//! the per-client state (`state.rs`), the allocation under every constraint
//! (`allocate/`: the Lagrangian prices and the walk that books), and the outputs
//! (`output.rs`): per channel a Parquet and a CSV file with each contact's send day and
//! hour, the uncontacted clients with their reason, and `summary.json`. [`plan`] runs
//! the passes in order, each a named function; everything is written under a temporary
//! directory renamed into place only when complete.
pub mod allocate;
mod clients;
mod config;
mod decide;
mod error;
mod history;
mod input;
mod log;
mod output;
mod proposals;
pub mod scenario;
mod state;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use allocate::{Cand, Pool, NO_DAY, UNLIMITED};
pub use config::{categories, Allocation, ChannelPlan, Limit, PlanConfig, MAX_DAYS};
pub use decide::{client_seed, plan_json, request, Deciders, Outcome, Status};
pub use error::PlanError;
pub use history::{ClientHistory, History};
pub use input::{Client, Source};
pub use output::{ChannelSummary, Objective, OfferSummary, Shortfall, Summary};
use rayon::prelude::*;
pub use state::ClientState;
use vitrine_engine::bundle::Bundle;
use vitrine_engine::engine::Info;
use vitrine_engine::Engine;

/// Which engine makes the decisions.
#[derive(Debug, Clone)]
pub enum EngineChoice {
    Native,
    /// `engine-abi.wasm` bytes, run under Wasmtime.
    Wasm(Vec<u8>),
}

/// Everything a plan needs.
#[allow(missing_debug_implementations)]
pub struct PlanJob<'a> {
    pub bundle: Vec<u8>,
    pub bundle_key: [u8; 32],
    pub source: Source,
    pub config: PathBuf,
    pub out: PathBuf,
    /// Replace `out` if it exists.
    pub force: bool,
    pub engine: EngineChoice,
    /// A feedback store (SQLite) to log every decision of the plan into, `no_contact`
    /// included, once the plan is complete: the host's report then measures the
    /// campaign's uplift from the send system's events.
    pub feedback: Option<PathBuf>,
    /// A feature store (SQLite) whose snapshot ledger records every logged decision's
    /// profile (with `feedback`), so the learner joins planned decisions to the features
    /// they were decided on as it joins page decisions to their snapshots.
    pub ledger: Option<PathBuf>,
    /// A feedback store (SQLite) to read each client's contact history from (often the
    /// same store as `feedback`).
    pub history: Option<PathBuf>,
    /// Allocate these proposals (CSV, `proposals.rs`) instead of deciding the base: the
    /// Spark planner's decisions.
    pub proposals: Option<PathBuf>,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Called with (clients decided, total if known).
    pub progress: &'a (dyn Fn(u64, Option<u64>) + Sync),
}

/// Makes the plan; returns its summary (also written as `summary.json`).
pub fn plan(job: &PlanJob<'_>) -> Result<Summary, PlanError> {
    let started = Instant::now();
    if job.out.exists() && !job.force {
        return Err(PlanError::OutputExists { path: job.out.clone() });
    }
    let setup = prepare(job)?;
    let staged = vitrine_base::atomic::Staged::beside(&job.out);
    let tmp = staged.path().to_path_buf();
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;

    let mut pass1 = match &job.proposals {
        Some(path) => from_proposals(job, &setup, &tmp, path)?,
        None => decide_all(job, &setup, &tmp)?,
    };
    let decide_time = started.elapsed();
    check_unique(std::mem::take(&mut pass1.id_hashes), &pass1.clients_path)?;
    pass1.pool.close();

    let allocated = Instant::now();
    let id_rank = rank_ids(&pass1.clients_path, pass1.states.len())?;
    let offer_category = offer_categories(&setup.bundle);
    let n_categories = categories(&setup.bundle).len();
    let shape = allocate::Shape::new(&setup.config, offer_category, n_categories);
    let allocation = allocate::allocate(&pass1.pool, &mut pass1.states, &setup.config, &shape, &id_rank);
    drop(id_rank);
    let allocate_time = allocated.elapsed();

    let mut out = output::Outputs::create(&tmp, &setup.config)?;
    let proposals = pass1.pool.cands.len() as u64;
    let sent_path = tmp.join("sent.jsonl");
    let logging = job.feedback.is_some().then_some(sent_path.as_path());
    let (uncontacted, contacted, busiest) = write_contacts(&setup, &pass1, &allocation, &mut out, logging)?;
    let files = out.finish()?;
    // The profiles first: a decision logged is one the learner can join.
    let ledger_entries = match (&job.feedback, &job.ledger) {
        (Some(_), Some(ledger)) => Some(log::log_profiles(&pass1.profiles_path, ledger, &setup.bundle.schema, &setup.config)?),
        _ => None,
    };
    let logged_decisions = match &job.feedback {
        Some(path) => Some(log::log_decisions(&pass1.log_path, &sent_path, path)?),
        None => None,
    };

    let totals = Totals {
        clients: pass1.states.len() as u64,
        contacted,
        busiest,
        allocate_time,
        history_rows: setup.history.as_ref().map(|h| h.rows),
        proposals,
        uncontacted,
        logged_decisions,
        ledger_entries,
        files,
        decide_time,
        seconds: started.elapsed().as_secs_f64(),
    };
    let summary = summarise(job, &setup, allocation, &pass1.pool, totals);
    output::write_summary(&tmp, &summary)?;
    // Into place: the old plan (with --force) is removed only once the new one is whole.
    staged.commit().map_err(io(&job.out))?;
    Ok(summary)
}

/// What every pass reads: the verified bundle, the policy, the deciders.
pub(crate) struct Setup {
    info: Info,
    bundle: Bundle,
    config: PlanConfig,
    threads: usize,
    pool: rayon::ThreadPool,
    deciders: Deciders,
    history: Option<History>,
    /// Schema channel index of each planned channel.
    channel_index: Vec<u8>,
    offer_category: Vec<u16>,
}

/// Loads the bundle (verified), the policy, and one decider per worker.
fn prepare(job: &PlanJob<'_>) -> Result<Setup, PlanError> {
    let load = || Engine::load(&job.bundle, &job.bundle_key).map_err(|e| PlanError::Bundle(e.to_string()));
    let engine = load()?;
    let info = engine.info();
    let bundle = engine.bundle().clone();
    let config = PlanConfig::load(&job.config, &bundle)?;
    let threads = if job.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { job.threads };
    let pool =
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| PlanError::Bundle(format!("worker threads: {e}")))?;
    let deciders = match &job.engine {
        EngineChoice::Native => {
            let template = request(&config, "");
            let mut engines = vec![Mutex::new((engine, template.clone()))];
            for _ in 1..threads {
                engines.push(Mutex::new((load()?, template.clone())));
            }
            Deciders::Native(engines)
        }
        EngineChoice::Wasm(wasm) => {
            let options = vitrine_runtime::RuntimeOptions { max_idle: threads + 1, ..Default::default() };
            Deciders::Wasm(vitrine_runtime::Runtime::new(wasm, job.bundle.clone(), job.bundle_key, options)?)
        }
    };
    let history = match &job.history {
        Some(path) => Some(History::load(path, &bundle, &config)?),
        None => None,
    };
    let channel_index = config.channels.iter().map(|c| bundle.schema.channel(&c.name).unwrap_or(0) as u8).collect();
    let offer_category = offer_categories(&bundle);
    Ok(Setup { info, bundle, config, threads, pool, deciders, history, channel_index, offer_category })
}

/// Pass 1's results: a state per client (input order), the proposals in sorted runs,
/// the spill of client ids and decision ids, the decisions to log.
struct Pass1 {
    states: Vec<ClientState>,
    /// Per client, the send hour its responses suggest (`NO_HOUR`: none).
    hours: Vec<u8>,
    id_hashes: Vec<u64>,
    pool: Pool,
    clients_path: PathBuf,
    log_path: PathBuf,
    /// The logged decisions' profiles, for the ledger.
    profiles_path: PathBuf,
}

/// Pass 1 from proposals decided elsewhere (`--proposals`).
fn from_proposals(job: &PlanJob<'_>, setup: &Setup, tmp: &Path, path: &Path) -> Result<Pass1, PlanError> {
    if job.feedback.is_some() || job.history.is_some() {
        return Err(PlanError::Proposals {
            path: path.to_path_buf(),
            line: 0,
            reason: "--feedback and --history need the decisions themselves: log and decide where the proposals are made".into(),
        });
    }
    let clients_path = tmp.join("clients.bin");
    let (states, pool) = proposals::read(path, setup, &clients_path)?;
    (job.progress)(states.len() as u64, Some(states.len() as u64));
    Ok(Pass1 {
        hours: vec![NO_HOUR; states.len()],
        states,
        id_hashes: Vec::new(),
        pool,
        clients_path,
        log_path: tmp.join("decisions.jsonl"),
        profiles_path: tmp.join("profiles.jsonl"),
    })
}

/// One client after pass 1's worker: what the main thread appends.
struct Decided {
    id: String,
    hash: u64,
    state: ClientState,
    hour: u8,
    decision: [u8; 16],
    cands: Vec<Cand>,
    log: Option<Vec<u8>>,
    profile: Option<Vec<u8>>,
}

/// Pass 1: decides every client (batches from a reader thread, decisions on the
/// workers) and spills the proposals into sorted runs.
fn decide_all(job: &PlanJob<'_>, setup: &Setup, tmp: &Path) -> Result<Pass1, PlanError> {
    let reader = input::open(&job.source, &setup.bundle.schema)?;
    let offers: HashMap<&str, u16> = setup.bundle.offers.iter().enumerate().map(|(i, o)| (o.id.as_str(), i as u16)).collect();
    let mut pass = Pass1 {
        states: Vec::new(),
        hours: Vec::new(),
        id_hashes: Vec::new(),
        pool: Pool::default(),
        clients_path: tmp.join("clients.bin"),
        log_path: tmp.join("decisions.jsonl"),
        profiles_path: tmp.join("profiles.jsonl"),
    };
    let mut spill = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&pass.clients_path).map_err(io(&pass.clients_path))?);
    let mut log = match &job.feedback {
        Some(_) => Some(std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&pass.log_path).map_err(io(&pass.log_path))?)),
        None => None,
    };
    let ledger = job.feedback.is_some() && job.ledger.is_some();
    let mut profiles = match ledger {
        true => {
            Some(std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&pass.profiles_path).map_err(io(&pass.profiles_path))?))
        }
        false => None,
    };
    for batch in reader.batches.iter() {
        let batch = batch?;
        let base = pass.states.len();
        // Everything per client happens on the workers (deciding, building the sort
        // records, serialising the log line, dropping the response); the main thread only
        // appends, in input order.
        let decided: Vec<Result<Decided, PlanError>> = setup.pool.install(|| {
            batch
                .into_par_iter()
                .enumerate()
                .map(|(i, c)| decide_one(setup, &offers, base + i, &c, job.feedback.is_some(), ledger, &pass.log_path))
                .collect()
        });
        for d in decided {
            let d = d?;
            pass.id_hashes.push(d.hash);
            pass.states.push(d.state);
            pass.hours.push(d.hour);
            if let (Some(log), Some(line)) = (&mut log, &d.log) {
                log.write_all(line).map_err(io(&pass.log_path))?;
            }
            if let (Some(out), Some(line)) = (&mut profiles, &d.profile) {
                out.write_all(line).map_err(io(&pass.profiles_path))?;
            }
            clients::write(&mut spill, &d.id, &d.decision).map_err(io(&pass.clients_path))?;
            pass.pool.open_client();
            pass.pool.cands.extend(d.cands);
        }
        (job.progress)(pass.states.len() as u64, reader.total);
    }
    let _ = reader.thread.join();
    spill.flush().map_err(io(&pass.clients_path))?;
    if let Some(mut log) = log.take() {
        log.flush().map_err(io(&pass.log_path))?;
    }
    if let Some(mut out) = profiles.take() {
        out.flush().map_err(io(&pass.profiles_path))?;
    }
    Ok(pass)
}

/// One client on a worker: its decision, sort records and log line.
fn decide_one(
    setup: &Setup,
    offers: &HashMap<&str, u16>,
    ordinal: usize,
    c: &Client,
    logging: bool,
    ledger: bool,
    log_path: &Path,
) -> Result<Decided, PlanError> {
    let ordinal = u32::try_from(ordinal).map_err(|_| PlanError::Bundle("more than 2^32 clients".into()))?;
    let config = &setup.config;
    let past = match &setup.history {
        Some(h) => h.client(&c.profile.subject, config, setup.bundle.limits.max_history as usize),
        None => ClientHistory { entries: Vec::new(), prior: 0, booked: 0, hour: None },
    };
    let o = setup.deciders.decide(config, &setup.bundle.schema, c, past.entries, logging)?;
    if o.id.len() > u16::MAX as usize {
        return Err(PlanError::ClientIdTooLong(o.id.chars().take(40).collect()));
    }
    let decision = vitrine_base::hex::decode::<16>(&o.decision_id).ok_or_else(|| PlanError::Decision {
        client: o.id.clone(),
        code: "internal".into(),
        message: format!("decision id `{}` is not 32 hex digits", o.decision_id),
    })?;
    let log = match o.record {
        Some(record) => {
            let mut logged = vitrine_feedback::LoggedDecision::from_edge(record);
            logged.source = "plan".into();
            let mut line = serde_json::to_vec(&logged)
                .map_err(|e| PlanError::Io { path: log_path.to_path_buf(), source: std::io::Error::other(e) })?;
            line.push(b'\n');
            Some(line)
        }
        None => None,
    };
    let profile = match ledger && log.is_some() {
        true => Some(log::profile_line(c).map_err(|e| PlanError::Io { path: log_path.to_path_buf(), source: std::io::Error::other(e) })?),
        false => None,
    };
    let cands = o
        .proposals
        .into_iter()
        .map(|p| {
            let offer = offers.get(p.offer.as_str()).copied().unwrap_or(0);
            let treatment = setup.bundle.offers[offer as usize].treatments.iter().position(|t| t.id == p.treatment).unwrap_or(0) as u8;
            let room = match &setup.history {
                Some(h) => h.rooms(
                    &c.profile.subject,
                    &setup.bundle,
                    &setup.offer_category,
                    offer,
                    setup.channel_index[p.channel as usize],
                    config.now(),
                ),
                None => [UNLIMITED; 3],
            };
            Cand {
                client: ordinal,
                offer,
                pref: p.channel,
                rank: p.rank,
                treatment,
                room,
                uplift: p.uplift.unwrap_or(f32::NAN),
                value: p.priority,
                selection_probability: p.selection_probability,
            }
        })
        .collect();
    let state = ClientState::new(o.status).with_prior(past.prior).with_booked(past.booked);
    let hour = past.hour.unwrap_or(NO_HOUR);
    Ok(Decided { hash: id_hash(&o.id), state, hour, decision, cands, log, profile, id: o.id })
}

/// A client without a send hour of its own.
const NO_HOUR: u8 = u8::MAX;

/// Pass 3: in input order (from the clients spill), each client's contacts with their
/// send day and hour, or why it got none; with `sent`, each client's sends as a JSON
/// line for the feedback log. Returns the counts by reason, how many clients were
/// contacted, and each channel's busiest day. Removes the spill.
fn write_contacts(
    setup: &Setup,
    pass1: &Pass1,
    allocation: &allocate::Result,
    out: &mut output::Outputs,
    sent: Option<&Path>,
) -> Result<(output::Uncontacted, u64, Vec<u64>), PlanError> {
    let (config, bundle) = (&setup.config, &setup.bundle);
    let clients_path = &pass1.clients_path;
    let mut uncontacted = output::Uncontacted::default();
    let mut contacted = 0u64;
    let mut per_day = vec![vec![0u64; config.days as usize]; config.channels.len()];
    let mut reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(clients_path).map_err(io(clients_path))?);
    let mut sent = match sent {
        Some(p) => Some((std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(p).map_err(io(p))?), p)),
        None => None,
    };
    for (c, st) in pass1.states.iter().enumerate() {
        let (id, decision) = clients::read(&mut reader)
            .map_err(io(clients_path))?
            .ok_or_else(|| PlanError::Io { path: clients_path.to_path_buf(), source: std::io::ErrorKind::UnexpectedEof.into() })?;
        let decision_hex = vitrine_base::hex::encode(&decision);
        let mut shown = Vec::new();
        for j in pass1.pool.of(c as u32) {
            let day = allocation.day[j];
            if day == NO_DAY {
                continue;
            }
            let x = &pass1.pool.cands[j];
            let ch = &config.channels[x.pref as usize];
            let hour = ch.send_hour(match pass1.hours[c] {
                NO_HOUR => config.send_hour,
                h => h,
            });
            let date = (config.start_day + i64::from(day)) as i32;
            per_day[x.pref as usize][day as usize] += 1;
            let o = &bundle.offers[x.offer as usize];
            let treatment = o.treatments.get(x.treatment as usize).map_or("", |t| t.id.as_str());
            out.contact(x.pref as usize, &id, &o.id, treatment, date, hour, x.value, x.selection_probability, &decision_hex)?;
            if sent.is_some() {
                shown.push(vitrine_feedback::Shown {
                    slot: ch.slot.clone(),
                    channel: ch.name.clone(),
                    rank: x.rank,
                    offer: o.id.clone(),
                    treatment: treatment.to_string(),
                    selection_probability: x.selection_probability,
                    uplift: (!x.uplift.is_nan()).then_some(x.uplift),
                    sent_at: Some(date.max(0) as u64 * 86_400 + u64::from(hour) * 3_600),
                });
            }
        }
        if let Some((w, p)) = &mut sent {
            let mut line =
                serde_json::to_vec(&shown).map_err(|e| PlanError::Io { path: p.to_path_buf(), source: std::io::Error::other(e) })?;
            line.push(b'\n');
            w.write_all(&line).map_err(io(p))?;
        }
        let Some(reason) = st.uncontacted() else {
            contacted += 1;
            continue;
        };
        uncontacted.count(reason);
        out.uncontacted(&id, reason.as_str(), reason == state::Reason::NoContact, &decision_hex)?;
    }
    if let Some((mut w, p)) = sent {
        w.flush().map_err(io(p))?;
    }
    drop(reader);
    std::fs::remove_file(clients_path).map_err(io(clients_path))?;
    let busiest = per_day.iter().map(|d| d.iter().copied().max().unwrap_or(0)).collect();
    Ok((uncontacted, contacted, busiest))
}

/// Each client's position in client-id order (the allocation's tie-break), from the
/// clients spill.
fn rank_ids(spill: &Path, n: usize) -> Result<Vec<u32>, PlanError> {
    let mut r = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(spill).map_err(io(spill))?);
    let mut ids = Vec::with_capacity(n);
    while let Some((id, _)) = clients::read(&mut r).map_err(io(spill))? {
        ids.push(id);
    }
    let mut by_id: Vec<u32> = (0..ids.len() as u32).collect();
    by_id.par_sort_unstable_by(|&a, &b| ids[a as usize].cmp(&ids[b as usize]));
    let mut rank = vec![0u32; ids.len()];
    for (r, &c) in by_id.iter().enumerate() {
        rank[c as usize] = r as u32;
    }
    Ok(rank)
}

/// Each offer's business lever L: its own times its category's.
pub fn levers(bundle: &Bundle) -> Vec<f64> {
    bundle
        .offers
        .iter()
        .map(|o| {
            let category = bundle.policy.category_levers.iter().find(|c| c.category == o.category).map_or(1.0, |c| f64::from(c.lever));
            f64::from(o.lever) * category
        })
        .collect()
}

/// A contact's expected value without the business lever: `(priority + cost) / L − cost`
/// (the priority is `score × C × V × L − cost`).
pub fn expected_value(priority: f64, cost: f64, lever: f64) -> f64 {
    if lever > 0.0 {
        (priority + cost) / lever - cost
    } else {
        priority
    }
}

/// The category index of each offer of `bundle` (the engine's: categories sorted by name).
fn offer_categories(bundle: &Bundle) -> Vec<u16> {
    let cats = categories(bundle);
    bundle.offers.iter().map(|o| cats.binary_search(&o.category.as_str()).unwrap_or(0) as u16).collect()
}

/// What the passes counted, for the summary.
struct Totals {
    clients: u64,
    contacted: u64,
    busiest: Vec<u64>,
    allocate_time: Duration,
    history_rows: Option<u64>,
    proposals: u64,
    uncontacted: output::Uncontacted,
    logged_decisions: Option<u64>,
    ledger_entries: Option<u64>,
    files: Vec<String>,
    decide_time: Duration,
    seconds: f64,
}

/// The plan's summary (`summary.json`).
fn summarise(job: &PlanJob<'_>, setup: &Setup, allocation: allocate::Result, pool: &Pool, t: Totals) -> Summary {
    let config = &setup.config;
    let mut offer_value: std::collections::BTreeMap<(u8, u16), (f64, f64)> = std::collections::BTreeMap::new();
    let levers = levers(&setup.bundle);
    for (x, &d) in pool.cands.iter().zip(&allocation.day) {
        if d != NO_DAY {
            // The cost inside the priority is the bundle's, whatever the plan's budget uses.
            let ch = setup.channel_index[x.pref as usize];
            let cost = setup.bundle.policy.channel_costs.iter().find(|c| c.channel == ch).map_or(0.0, |c| f64::from(c.cost));
            let e = offer_value.entry((x.pref, x.offer)).or_default();
            e.0 += x.value;
            e.1 += expected_value(x.value, cost, levers[x.offer as usize]);
        }
    }
    let allocate::Result { used, refused, per_offer, value, spent, shortfall, bound, iterations, .. } = allocation;
    let gap_bound = bound.map(|b| if b > 0.0 { ((b - value) / b).max(0.0) } else { 0.0 });
    Summary {
        bundle: setup.info.bundle.clone(),
        bundle_version: setup.info.version,
        bundle_hash: setup.info.hash.clone(),
        engine: match job.engine {
            EngineChoice::Native => "native".into(),
            EngineChoice::Wasm(_) => "wasm".into(),
        },
        threads: setup.threads,
        start: vitrine_store::table::date_text(config.start_day as i32),
        days: config.days,
        quiet_days: (0..config.days)
            .filter(|d| config.quiet & (1 << d) != 0)
            .map(|d| vitrine_store::table::date_text((config.start_day + d as i64) as i32))
            .collect(),
        max_contacts: config.max_contacts,
        min_gap_days: config.min_gap_days,
        clients: t.clients,
        contacted: t.contacted,
        contacts: used.iter().sum(),
        proposals: t.proposals,
        channels: config
            .channels
            .iter()
            .zip(&used)
            .enumerate()
            .map(|(i, (c, &n))| ChannelSummary {
                channel: c.name.clone(),
                slot: c.slot.clone(),
                capacity: c.capacity,
                capacity_per_day: (c.per_day != u64::MAX).then_some(c.per_day),
                busiest_day: t.busiest.get(i).copied().unwrap_or(0),
                cost: c.cost,
                contacts: n,
                capacity_used: if c.capacity == 0 { 0.0 } else { n as f64 / c.capacity as f64 },
            })
            .collect(),
        offers: per_offer
            .into_iter()
            .map(|((ch, o), n)| OfferSummary {
                offer: setup.bundle.offers[o as usize].id.clone(),
                channel: config.channels[ch as usize].name.clone(),
                contacts: n,
                value: offer_value.get(&(ch, o)).map_or(0.0, |v| v.0),
                expected_value: offer_value.get(&(ch, o)).map_or(0.0, |v| v.1),
            })
            .collect(),
        objective: Objective {
            allocation: match config.allocation {
                Allocation::Optimal => "optimal".into(),
                Allocation::Greedy => "greedy".into(),
            },
            value,
            bound,
            gap_bound,
            dual_iterations: iterations,
            spent,
            budget: config.budget.is_finite().then_some(config.budget),
            shortfall: shortfall
                .into_iter()
                .map(|(o, contacts, min)| Shortfall { offer: setup.bundle.offers[o as usize].id.clone(), contacts, min })
                .collect(),
            seconds: t.allocate_time.as_secs_f64(),
        },
        history_rows: t.history_rows,
        uncontacted: t.uncontacted,
        refused,
        files: t.files,
        logged_decisions: t.logged_decisions,
        ledger_entries: t.ledger_entries,
        decide_seconds: t.decide_time.as_secs_f64(),
        seconds: t.seconds,
        clients_per_second: t.clients as f64 / t.decide_time.as_secs_f64().max(1e-9),
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PlanError + '_ {
    move |source| PlanError::Io { path: path.to_path_buf(), source }
}

fn id_hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}
/// Refuses an input that names a client twice (an export concatenated with itself, say):
/// equal hashes are confirmed against the ids in the clients spill.
fn check_unique(mut hashes: Vec<u64>, spill: &Path) -> Result<(), PlanError> {
    hashes.par_sort_unstable();
    let suspects: std::collections::HashSet<u64> = hashes.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
    drop(hashes);
    if suspects.is_empty() {
        return Ok(());
    }
    let io = |source| PlanError::Io { path: spill.to_path_buf(), source };
    let mut r = std::io::BufReader::new(std::fs::File::open(spill).map_err(io)?);
    let mut seen = std::collections::HashSet::new();
    while let Some((id, _)) = clients::read(&mut r).map_err(io)? {
        if suspects.contains(&id_hash(&id)) && !seen.insert(id.clone()) {
            return Err(PlanError::DuplicateClient(id));
        }
    }
    Ok(())
}
