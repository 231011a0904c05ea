//! Campaign planning (`vitrine plan`): one global contact plan per client across the
//! direct channels, made by the very engine that decides pages.
//!
//! Stages, one file each: the policy (`config.rs`), the client base streamed in
//! batches (`input.rs`), one decision per client, natively or under Wasmtime
//! (`decide.rs`), the global greedy allocation over spilled sorted runs
//! (`allocate.rs`), and the outputs (`output.rs`): per channel a Parquet and a CSV
//! file, the uncontacted clients with their reason, and `summary.json`. Everything is
//! written under a temporary directory renamed into place only when complete.
mod allocate;
mod clients;
mod config;
mod decide;
mod error;
mod input;
mod log;
mod output;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

pub use config::{ChannelPlan, PlanConfig, MAX_DAYS};
pub use decide::{client_seed, plan_json, request, Deciders, Outcome, Status};
pub use error::PlanError;
pub use input::{Client, Source};
pub use output::{ChannelSummary, OfferSummary, Summary};
use rayon::prelude::*;
use vitrine_engine::Engine;

use allocate::{Allocation, Cand, Runs};

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
    /// A feedback store (SQLite) to log every decision of the plan into, holdouts
    /// included, once the plan is complete: the host's report then measures the
    /// campaign's uplift from the send system's events.
    pub feedback: Option<PathBuf>,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Called with (clients decided, total if known).
    pub progress: &'a (dyn Fn(u64, Option<u64>) + Sync),
}

// Per-client state: bits 0..56 the days with a contact, 56..59 the status, bit 60 set
// when a proposal was refused because its channel was full.
const STATUS_SHIFT: u32 = 56;
pub(crate) const DAYS_MASK: u64 = (1 << STATUS_SHIFT) - 1;
pub(crate) const CAPACITY_REFUSED: u64 = 1 << 60;

fn status_bits(s: Status) -> u64 {
    (match s {
        Status::Candidates => 0u64,
        Status::Holdout => 1,
        Status::NoChannelConsent => 2,
        Status::NoEligibleOffer => 3,
    }) << STATUS_SHIFT
}

/// One client after pass 1's worker: what the main thread appends.
struct Decided {
    id: String,
    hash: u64,
    status: u64,
    decision: [u8; 16],
    cands: Vec<Cand>,
    log: Option<Vec<u8>>,
}

/// A directory removed on drop unless kept.
struct Partial {
    dir: PathBuf,
    keep: bool,
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Makes the plan; returns its summary (also written as `summary.json`).
pub fn plan(job: &PlanJob<'_>) -> Result<Summary, PlanError> {
    let started = Instant::now();
    let engine = Engine::load(&job.bundle, &job.bundle_key).map_err(|e| PlanError::Bundle(e.to_string()))?;
    let info = engine.info();
    let bundle = engine.bundle().clone();
    let config = PlanConfig::load(&job.config, &bundle)?;
    let schema = bundle.schema.clone();

    if job.out.exists() && !job.force {
        return Err(PlanError::OutputExists { path: job.out.clone() });
    }
    let threads = if job.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { job.threads };
    let pool =
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| PlanError::Bundle(format!("worker threads: {e}")))?;
    let deciders = match &job.engine {
        EngineChoice::Native => {
            let template = request(&config, "");
            let mut engines = vec![Mutex::new((engine, template.clone()))];
            for _ in 1..threads {
                engines.push(Mutex::new((
                    Engine::load(&job.bundle, &job.bundle_key).map_err(|e| PlanError::Bundle(e.to_string()))?,
                    template.clone(),
                )));
            }
            Deciders::Native(engines)
        }
        EngineChoice::Wasm(wasm) => {
            let options = vitrine_runtime::RuntimeOptions { max_idle: threads + 1, ..Default::default() };
            Deciders::Wasm(vitrine_runtime::Runtime::new(wasm, job.bundle.clone(), job.bundle_key, options)?)
        }
    };
    let reader = input::open(&job.source, &schema)?;

    let parent = job.out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = job.out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "plan".into());
    let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PlanError::Io { path: path.clone(), source }
    };
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let mut partial = Partial { dir: tmp.clone(), keep: false };

    // Pass 1: decide every client, spill proposals into sorted runs.
    let offers: HashMap<&str, u16> = bundle.offers.iter().enumerate().map(|(i, o)| (o.id.as_str(), i as u16)).collect();
    let mut runs = Runs::new(&tmp.join("runs"));
    let mut state: Vec<u64> = Vec::new();
    // Hashes of the client ids: duplicates are found by sorting, 8 bytes a client.
    let mut id_hashes: Vec<u64> = Vec::new();
    let clients_path = tmp.join("clients.bin");
    let mut spill = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&clients_path).map_err(io(&clients_path))?);
    let log_path = tmp.join("decisions.jsonl");
    let mut log = match &job.feedback {
        Some(_) => Some(std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&log_path).map_err(io(&log_path))?)),
        None => None,
    };
    let logging = job.feedback.is_some();
    for batch in reader.batches.iter() {
        let batch = batch?;
        let base = state.len();
        // Everything per client happens on the workers (deciding, building the sort
        // records, serialising the log line, dropping the response); the main thread only
        // appends, in input order.
        let decided: Vec<Result<Decided, PlanError>> = pool.install(|| {
            batch
                .into_par_iter()
                .enumerate()
                .map(|(i, c)| {
                    let ordinal = u32::try_from(base + i).map_err(|_| PlanError::Bundle("more than 2^32 clients".into()))?;
                    let o = deciders.decide(&config, &schema, &c, logging)?;
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
                                .map_err(|e| PlanError::Io { path: log_path.clone(), source: std::io::Error::other(e) })?;
                            line.push(b'\n');
                            Some(line)
                        }
                        None => None,
                    };
                    let cands = o
                        .proposals
                        .into_iter()
                        .map(|p| {
                            let offer = offers.get(p.offer.as_str()).copied().unwrap_or(0);
                            let treatment =
                                bundle.offers[offer as usize].treatments.iter().position(|t| t.id == p.treatment).unwrap_or(0) as u8;
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
                    Ok(Decided { hash: id_hash(&o.id), status: status_bits(o.status), decision, cands, log, id: o.id })
                })
                .collect()
        });
        for d in decided {
            let d = d?;
            id_hashes.push(d.hash);
            state.push(d.status);
            if let (Some(log), Some(line)) = (&mut log, &d.log) {
                log.write_all(line).map_err(io(&log_path))?;
            }
            clients::write(&mut spill, &d.id, &d.decision).map_err(io(&clients_path))?;
            for c in d.cands {
                runs.push(c)?;
            }
        }
        (job.progress)(state.len() as u64, reader.total);
    }
    let _ = reader.thread.join();
    spill.flush().map_err(io(&clients_path))?;
    drop(spill);
    if let Some(mut log) = log.take() {
        log.flush().map_err(io(&log_path))?;
    }
    let decided_at = started.elapsed();
    check_unique(id_hashes, &clients_path)?;

    // Pass 2: the greedy allocation in the global order.
    let mut out = output::Outputs::create(&tmp, &config)?;
    let proposals = runs.total;
    let Allocation { used, refused, per_offer } = allocate::greedy(runs.merge()?, &mut state, &config, &bundle, &mut out)?;
    let _ = std::fs::remove_dir_all(tmp.join("runs"));

    // Pass 3: who got nothing, and why.
    let mut uncontacted = output::Uncontacted::default();
    let mut contacted = 0u64;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&clients_path).map_err(io(&clients_path))?);
    for st in &state {
        let (id, decision) = clients::read(&mut reader)
            .map_err(io(&clients_path))?
            .ok_or_else(|| PlanError::Io { path: clients_path.clone(), source: std::io::ErrorKind::UnexpectedEof.into() })?;
        if st & DAYS_MASK != 0 {
            contacted += 1;
            continue;
        }
        let reason = match (st >> STATUS_SHIFT) & 0b111 {
            1 => "holdout",
            2 => "no_channel_consent",
            3 => "no_eligible_offer",
            _ if st & CAPACITY_REFUSED != 0 => "channel_capacity",
            _ => "no_send_day",
        };
        uncontacted.count(reason);
        out.uncontacted(&id, reason, reason == "holdout", &vitrine_base::hex::encode(&decision))?;
    }
    drop(reader);
    std::fs::remove_file(&clients_path).map_err(io(&clients_path))?;
    let files = out.finish()?;
    let logged_decisions = match &job.feedback {
        Some(path) => Some(log::log_decisions(&log_path, path)?),
        None => None,
    };

    let seconds = started.elapsed().as_secs_f64();
    let summary = Summary {
        bundle: info.bundle,
        bundle_version: info.version,
        bundle_hash: info.hash,
        engine: match job.engine {
            EngineChoice::Native => "native".into(),
            EngineChoice::Wasm(_) => "wasm".into(),
        },
        threads,
        start: vitrine_store::table::date_text(config.start_day as i32),
        days: config.days,
        quiet_days: (0..config.days)
            .filter(|d| config.quiet & (1 << d) != 0)
            .map(|d| vitrine_store::table::date_text((config.start_day + d as i64) as i32))
            .collect(),
        max_contacts: config.max_contacts,
        min_gap_days: config.min_gap_days,
        clients: state.len() as u64,
        contacted,
        contacts: used.iter().sum(),
        proposals,
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
                offer: bundle.offers[o as usize].id.clone(),
                channel: config.channels[ch as usize].name.clone(),
                contacts: n,
            })
            .collect(),
        uncontacted,
        refused,
        files,
        logged_decisions,
        decide_seconds: decided_at.as_secs_f64(),
        seconds,
        clients_per_second: state.len() as f64 / decided_at.as_secs_f64().max(1e-9),
    };
    output::write_summary(&tmp, &summary)?;

    // Into place: the old plan (with --force) is removed only once the new one is whole.
    if job.out.exists() {
        let old = parent.join(format!(".{name}.old-{}", std::process::id()));
        std::fs::rename(&job.out, &old).map_err(io(&job.out))?;
        std::fs::rename(&tmp, &job.out).map_err(io(&job.out))?;
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(&tmp, &job.out).map_err(io(&job.out))?;
    }
    partial.keep = true;
    Ok(summary)
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
