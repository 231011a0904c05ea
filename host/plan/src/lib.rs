//! Campaign planning (`vitrine plan`): one global contact plan per client across the
//! direct channels, made by the very engine that decides pages.
//!
//! Stages, one file each: the policy (`config.rs`), the client base streamed in
//! batches (`input.rs`), one decision per client, natively or under Wasmtime
//! (`decide.rs`), the per-client state (`state.rs`), the global greedy allocation over
//! spilled sorted runs (`allocate.rs`), and the outputs (`output.rs`): per channel a
//! Parquet and a CSV file, the uncontacted clients with their reason, and
//! `summary.json`. [`plan`] runs the passes in order, each a named function; everything
//! is written under a temporary directory renamed into place only when complete.
mod allocate;
mod clients;
mod config;
mod decide;
mod error;
mod input;
mod log;
mod output;
mod state;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use allocate::{Allocation, Cand, Runs};
pub use config::{ChannelPlan, PlanConfig, MAX_DAYS};
pub use decide::{client_seed, plan_json, request, Deciders, Outcome, Status};
pub use error::PlanError;
pub use input::{Client, Source};
pub use output::{ChannelSummary, OfferSummary, Summary};
use rayon::prelude::*;
use state::ClientState;
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

    let mut pass1 = decide_all(job, &setup, &tmp)?;
    let decide_time = started.elapsed();
    check_unique(std::mem::take(&mut pass1.id_hashes), &pass1.clients_path)?;

    let mut out = output::Outputs::create(&tmp, &setup.config)?;
    let proposals = pass1.runs.total;
    let allocation = allocate::greedy(pass1.runs.merge()?, &mut pass1.states, &setup.config, &setup.bundle, &mut out)?;
    let _ = std::fs::remove_dir_all(tmp.join("runs"));

    let (uncontacted, contacted) = list_uncontacted(&pass1.states, &pass1.clients_path, &mut out)?;
    let files = out.finish()?;
    // The profiles first: a decision logged is one the learner can join.
    let ledger_entries = match (&job.feedback, &job.ledger) {
        (Some(_), Some(ledger)) => Some(log::log_profiles(&pass1.profiles_path, ledger, &setup.bundle.schema, &setup.config)?),
        _ => None,
    };
    let logged_decisions = match &job.feedback {
        Some(path) => Some(log::log_decisions(&pass1.log_path, path)?),
        None => None,
    };

    let totals = Totals {
        clients: pass1.states.len() as u64,
        contacted,
        proposals,
        uncontacted,
        logged_decisions,
        ledger_entries,
        files,
        decide_time,
        seconds: started.elapsed().as_secs_f64(),
    };
    let summary = summarise(job, &setup, allocation, totals);
    output::write_summary(&tmp, &summary)?;
    // Into place: the old plan (with --force) is removed only once the new one is whole.
    staged.commit().map_err(io(&job.out))?;
    Ok(summary)
}

/// What every pass reads: the verified bundle, the policy, the deciders.
struct Setup {
    info: Info,
    bundle: Bundle,
    config: PlanConfig,
    threads: usize,
    pool: rayon::ThreadPool,
    deciders: Deciders,
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
    Ok(Setup { info, bundle, config, threads, pool, deciders })
}

/// Pass 1's results: a state per client (input order), the proposals in sorted runs,
/// the spill of client ids and decision ids, the decisions to log.
struct Pass1 {
    states: Vec<ClientState>,
    id_hashes: Vec<u64>,
    runs: Runs,
    clients_path: PathBuf,
    log_path: PathBuf,
    /// The logged decisions' profiles, for the ledger.
    profiles_path: PathBuf,
}

/// One client after pass 1's worker: what the main thread appends.
struct Decided {
    id: String,
    hash: u64,
    state: ClientState,
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
        id_hashes: Vec::new(),
        runs: Runs::new(&tmp.join("runs")),
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
            if let (Some(log), Some(line)) = (&mut log, &d.log) {
                log.write_all(line).map_err(io(&pass.log_path))?;
            }
            if let (Some(out), Some(line)) = (&mut profiles, &d.profile) {
                out.write_all(line).map_err(io(&pass.profiles_path))?;
            }
            clients::write(&mut spill, &d.id, &d.decision).map_err(io(&pass.clients_path))?;
            for c in d.cands {
                pass.runs.push(c)?;
            }
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
    let o = setup.deciders.decide(&setup.config, &setup.bundle.schema, c, logging)?;
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
            Cand {
                priority: p.priority,
                pref: p.channel,
                rank: p.rank,
                offer,
                treatment,
                client: ordinal,
                selection_probability: p.selection_probability,
                decision,
                id: o.id.clone(),
            }
        })
        .collect();
    Ok(Decided { hash: id_hash(&o.id), state: ClientState::new(o.status), decision, cands, log, profile, id: o.id })
}

/// Pass 3: who got nothing, and why (from the clients spill, in input order); returns
/// the counts by reason and how many clients were contacted. Removes the spill.
fn list_uncontacted(
    states: &[ClientState],
    clients_path: &Path,
    out: &mut output::Outputs,
) -> Result<(output::Uncontacted, u64), PlanError> {
    let mut uncontacted = output::Uncontacted::default();
    let mut contacted = 0u64;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(clients_path).map_err(io(clients_path))?);
    for st in states {
        let (id, decision) = clients::read(&mut reader)
            .map_err(io(clients_path))?
            .ok_or_else(|| PlanError::Io { path: clients_path.to_path_buf(), source: std::io::ErrorKind::UnexpectedEof.into() })?;
        let Some(reason) = st.uncontacted() else {
            contacted += 1;
            continue;
        };
        uncontacted.count(reason);
        out.uncontacted(&id, reason.as_str(), reason == state::Reason::NoContact, &vitrine_base::hex::encode(&decision))?;
    }
    drop(reader);
    std::fs::remove_file(clients_path).map_err(io(clients_path))?;
    Ok((uncontacted, contacted))
}

/// What the passes counted, for the summary.
struct Totals {
    clients: u64,
    contacted: u64,
    proposals: u64,
    uncontacted: output::Uncontacted,
    logged_decisions: Option<u64>,
    ledger_entries: Option<u64>,
    files: Vec<String>,
    decide_time: Duration,
    seconds: f64,
}

/// The plan's summary (`summary.json`).
fn summarise(job: &PlanJob<'_>, setup: &Setup, allocation: Allocation, t: Totals) -> Summary {
    let Allocation { used, refused, per_offer } = allocation;
    let config = &setup.config;
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
            .map(|(c, &n)| ChannelSummary {
                channel: c.name.clone(),
                slot: c.slot.clone(),
                capacity: c.capacity,
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
            })
            .collect(),
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
