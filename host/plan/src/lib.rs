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
mod contacts;
mod days;
mod decide;
mod error;
mod history;
mod input;
mod limits;
mod log;
mod offers;
mod output;
mod proposals;
pub mod scenario;
mod state;
mod summary;
mod timing;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use allocate::NO_WEEKDAY;
use allocate::{Cand, Pool, UNLIMITED};
pub use config::{categories, Allocation, ChannelPlan, Limit, PlanConfig, MAX_DAYS};
use contacts::NO_HOUR;
pub use decide::{client_seed, plan_json, request, Deciders, Outcome, Status};
pub use error::PlanError;
pub use history::{ClientHistory, History};
pub use input::{Client, Source};
pub use offers::{expected_value, levers};
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
    clients::check_unique(std::mem::take(&mut pass1.id_hashes), &pass1.clients_path)?;
    pass1.pool.close();

    let allocated = Instant::now();
    let id_rank = clients::rank_ids(&pass1.clients_path, pass1.states.len())?;
    let offer_category = setup.offer_category.clone();
    let n_categories = categories(&setup.bundle).len();
    let shape = allocate::Shape::new(&setup.config, offer_category, n_categories);
    let allocation = allocate::allocate(&pass1.pool, &mut pass1.states, &setup.config, &shape, &id_rank, &pass1.weekdays);
    drop(id_rank);
    let allocate_time = allocated.elapsed();

    let mut out = output::Outputs::create(&tmp, &setup.config)?;
    let proposals = pass1.pool.cands.len() as u64;
    let sent_path = tmp.join("sent.jsonl");
    let logging = job.feedback.is_some().then_some(sent_path.as_path());
    let (uncontacted, contacted, busiest) = contacts::write_contacts(&setup, &pass1, &allocation, &mut out, logging)?;
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

    let totals = summary::Totals {
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
    let summary = summary::summarise(job, &setup, allocation, &pass1.pool, totals);
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
    /// The bundle's timing model, if it declares one.
    timing: Option<timing::Timing>,
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
    let timing = timing::Timing::new(threads, load)?;
    let channel_index = config.channels.iter().map(|c| bundle.schema.channel(&c.name).unwrap_or(0) as u8).collect();
    let offer_category = offers::offer_categories(&bundle);
    Ok(Setup { info, bundle, config, threads, pool, deciders, history, timing, channel_index, offer_category })
}

/// Pass 1's results: a state per client (input order), the proposals in sorted runs,
/// the spill of client ids and decision ids, the decisions to log.
pub(crate) struct Pass1 {
    states: Vec<ClientState>,
    /// Per client, the send hour its timing model or responses suggest (`NO_HOUR`: none).
    hours: Vec<u8>,
    /// Per client, the weekday its timing model prefers (`NO_WEEKDAY`: none).
    weekdays: Vec<u8>,
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
        weekdays: vec![NO_WEEKDAY; states.len()],
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
    /// The timing model's best weekday (0 = Monday), or `NO_WEEKDAY`.
    weekday: u8,
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
        weekdays: Vec::new(),
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
            pass.weekdays.push(d.weekday);
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
    // The timing model first, then the client's own response times, then the default.
    let preferred = match &setup.timing {
        Some(t) => t.preferred(config, c)?,
        None => timing::Preferred::default(),
    };
    let hour = preferred.hour.or(past.hour).unwrap_or(NO_HOUR);
    let weekday = preferred.weekday.unwrap_or(NO_WEEKDAY);
    Ok(Decided { weekday, hash: clients::id_hash(&o.id), state, hour, decision, cands, log, profile, id: o.id })
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PlanError + '_ {
    move |source| PlanError::Io { path: path.to_path_buf(), source }
}
