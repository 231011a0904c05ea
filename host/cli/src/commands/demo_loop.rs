//! `vitrine demo loop`: the closed loop on the seeded demo world, against its hidden truth.
//!
//! Per learner (`contextual`: `vitrine learn`'s; `beta`: Beta posteriors only, the
//! learner before it; `static`: the demo bundle's trained ONNX uplift models, never
//! relearned) it starts a real `vitrine serve` process on a fresh state, then for each
//! round simulates a day of home-page visits through it (`vitrine_demo::day`), learns
//! the next bundle from the server's feedback and snapshot ledger, and hot-swaps it
//! through `POST /v1/admin/bundle`. The learners start from the rule-based policy with no
//! model: every offer at one constant propensity, so the ranking is by value. Every round
//! reports the true expected reward per personalised decision, the oracle's (the best
//! offer per client among those that passed the gates, from the truth) and the regret,
//! and, for every promoted model, its cross-entropy against the true conversion
//! probability before and after (a promotion that is worse on the truth shows there).
//! Writes OUT/loop.json and OUT/learning-curve.svg.
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::Serialize;
use vitrine_base::keys::{self, Role};
use vitrine_demo::day::{self, Day, DayOptions};
use vitrine_demo::evaluate::{evaluate, Evaluation};
use vitrine_demo::plot::{self, Series};
use vitrine_demo::world::{self, Client};
use vitrine_engine::bundle::Bundle;
use vitrine_engine::models::Scratch;
use vitrine_feedback::learn::Reward;
use vitrine_feedback::SqliteStore;
use vitrine_learn::{Settings, Weighting};
use vitrine_store::FeatureStore;

use crate::default_state::{self, World};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where each learner's state (keys, stores, bundles) goes.
    #[arg(long, default_value = ".vitrine-loop")]
    state: PathBuf,
    /// Where loop.json and learning-curve.svg go.
    #[arg(long, default_value = ".vitrine-loop")]
    out: PathBuf,
    /// Learning rounds after the first day.
    #[arg(long, default_value_t = 10)]
    rounds: u32,
    /// Visits per day.
    #[arg(long, default_value_t = 20_000)]
    visits: u64,
    /// Learners to run, in order.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "contextual,beta,static")]
    learners: Vec<LearnerArg>,
    /// Responses before a learned model replaces Thompson sampling.
    #[arg(long, default_value_t = 20)]
    maturity: u32,
    /// The contextual learners' L2 penalty (`vitrine learn --l2`).
    #[arg(long, default_value_t = vitrine_learn::fit::FitOptions::default().l2)]
    l2: f64,
    /// The held-out gate's weight clip (`vitrine learn --max-weight`).
    #[arg(long, default_value_t = vitrine_learn::Settings::default().max_weight)]
    max_weight: f64,
    /// Effective held-out rows before models are compared (`vitrine learn --min-effective-rows`).
    #[arg(long, default_value_t = vitrine_learn::Settings::default().min_effective_rows)]
    min_effective_rows: f64,
    /// A workerd binary: each learner's server gets the edge worker in front of it
    /// (--edge-config), and every other visit decides there (its POST /decide).
    #[arg(long)]
    workerd: Option<PathBuf>,
    /// The edge worker's workerd config.
    #[arg(long, default_value = "web-demo/edge-worker/config.capnp")]
    edge_config: PathBuf,
    /// Where the loop's server listens (a free port by default).
    #[arg(long)]
    listen: Option<String>,
    /// engine-abi.wasm for the server (default: the one embedded in this binary).
    #[arg(long)]
    engine: Option<PathBuf>,
    /// Clients the exact evaluation of each round's policy runs on (the first ones).
    #[arg(long, default_value_t = vitrine_demo::CLIENTS)]
    eval_clients: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum LearnerArg {
    /// `vitrine learn`, training rows unweighted.
    Contextual,
    /// `vitrine learn --weighting ips`.
    ContextualIps,
    Beta,
    Static,
}

/// A promoted model checked against the truth.
#[derive(Debug, Clone, Serialize)]
struct TruthCheck {
    offer: String,
    clients: usize,
    /// Mean cross-entropy of the served propensity against the true P(conversion | shown).
    before: f64,
    after: f64,
}

#[derive(Debug, Clone, Serialize)]
struct Round {
    round: u32,
    bundle_version: u64,
    day: Day,
    /// The exact evaluation of the round's policy (`vitrine_demo::evaluate`).
    evaluation: Evaluation,
    reward: f64,
    oracle: f64,
    regret: f64,
    ratio: f64,
    /// The same measured on the day's visits (sampled).
    observed_reward: f64,
    observed_oracle: f64,
    promoted: Vec<String>,
    /// What the learner decided per offer, and why (the contextual learners).
    offers: Vec<vitrine_learn::OfferReport>,
    verdict: String,
    truth_checks: Vec<TruthCheck>,
    learn_seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
struct Run {
    learner: LearnerArg,
    rounds: Vec<Round>,
}

/// A `vitrine serve` or `workerd` child process, stopped on drop.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.to_string())
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(30))).build().into()
}

fn health_version(base: &str) -> Option<u64> {
    let mut res = agent().get(&format!("{base}/healthz")).call().ok()?;
    let v: serde_json::Value = res.body_mut().read_json().ok()?;
    v["bundle_version"].as_u64()
}

fn start(dir: &Path, listen: &str, api_key: &str, engine: Option<&Path>) -> Result<Server> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.arg("serve")
        .args(["--listen", listen, "--api-key", api_key])
        .arg("--state")
        .arg(dir)
        .arg("--bundle")
        .arg(dir.join("bundle.vbundle"))
        .arg("--bundle-key")
        .arg(dir.join("keys/bundle-dev.pub"))
        .arg("--features")
        .arg(dir.join("features.sqlite"))
        .arg("--snapshot-key")
        .arg(dir.join("src/keys/snap-demo.key"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(e) = engine {
        cmd.arg("--engine").arg(e);
    }
    let server = Server { child: cmd.spawn().context("starting vitrine serve")?, base: format!("http://{listen}") };
    let started = Instant::now();
    while health_version(&server.base).is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            bail!("the loop's server did not come up on {listen} within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(server)
}

/// The bundle version an edge worker decides with (an anonymous decision's record).
fn edge_version(edge: &str) -> Option<u64> {
    let request = serde_json::json!({ "now": vitrine_base::clock::now(), "seed": 1, "slots": [{ "slot": day::SLOT }] });
    let mut res = agent().post(&format!("{edge}/decide")).send_json(&request).ok()?;
    let v: serde_json::Value = res.body_mut().read_json().ok()?;
    v["record"]["bundle_version"].as_u64()
}

/// Starts the edge worker in front of `server`; it decides with the server's bundle.
fn start_edge(workerd: &Path, config: &Path, server: &Server) -> Result<Server> {
    let listen = free_port()?;
    let child = Command::new(workerd)
        .arg("serve")
        .arg(config)
        .arg("--socket-addr")
        .arg(format!("http={listen}"))
        .env("VITRINE_HOST", &server.base)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", workerd.display()))?;
    let edge = Server { child, base: format!("http://{listen}") };
    let started = Instant::now();
    while edge_version(&edge.base).is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            bail!("the edge worker did not decide on {listen} within 60 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(edge)
}

fn push(server: &Server, api_key: &str, signed: &[u8], version: u64) -> Result<()> {
    let res = agent()
        .post(&format!("{}/v1/admin/bundle", server.base))
        .header("Authorization", &format!("Bearer {api_key}"))
        .header("Content-Type", "application/octet-stream")
        .send(signed)?;
    if !res.status().is_success() {
        bail!("the server refused bundle v{version}: {}", res.status());
    }
    let started = Instant::now();
    while health_version(&server.base) != Some(version) {
        if started.elapsed() > Duration::from_secs(30) {
            bail!("bundle v{version} not serving after 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Cross-entropy of what `bundle` serves for `offer` against the true conversion
/// probability, over the day's clients the offer is eligible for.
fn cross_entropy(bundle: &Bundle, offer: usize, clients: &[(&Client, Vec<f32>)]) -> (usize, f64) {
    let id = &bundle.offers[offer].id;
    let mut scratch = Scratch::default();
    let (mut n, mut sum) = (0usize, 0.0);
    for (c, f) in clients {
        let t = world::truth(c, id);
        if t.treated <= 0.0 {
            continue;
        }
        let p = t.click * t.convert;
        let Some(q) = vitrine_learn::served_propensity(bundle, offer, f, &mut scratch) else { continue };
        let q = q.clamp(1e-6, 1.0 - 1e-6);
        sum -= p * q.ln() + (1.0 - p) * (1.0 - q).ln();
        n += 1;
    }
    (n, sum / n.max(1) as f64)
}

/// Signs the first `n` clients' snapshots (recorded in the ledger, as every snapshot the
/// host signs) for the exact evaluation.
fn eval_snapshots<'a>(dir: &Path, clients: &'a [Client], n: usize) -> Result<Vec<(&'a Client, String)>> {
    let mut store = FeatureStore::open_existing(&dir.join("features.sqlite"))?;
    let snap = keys::load_secret(&dir.join("src/keys/snap-demo.key"), Role::Snapshot)?;
    let signer = vitrine_engine::snapshot::SnapshotSigner::new(&snap.kid, snap.key)?;
    let by_id: std::collections::HashMap<&str, &Client> = clients.iter().map(|c| (c.id.as_str(), c)).collect();
    let page = store.contents_after(None, n, vitrine_base::clock::now().saturating_sub(60), 30 * 86_400)?;
    let mut signed = Vec::with_capacity(page.len());
    for (id, content) in page {
        signed.push((id, signer.sign(store.schema(), &content)?));
    }
    let mut ledger = store.ledger()?;
    let mut out = Vec::with_capacity(signed.len());
    for (id, s) in signed {
        ledger.record(&id, &s)?;
        if let Some(c) = by_id.get(id.as_str()) {
            out.push((*c, vitrine_engine::snapshot::encode_text(&s)));
        }
    }
    ledger.commit()?;
    Ok(out)
}

fn run_learner(a: &Args, learner: LearnerArg, clients: &[Client], engine: &[u8]) -> Result<Run> {
    let dir = a.state.join(format!("{learner:?}").to_lowercase());
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    let listen = match &a.listen {
        Some(l) => l.clone(),
        None => free_port()?,
    };
    let config = default_state::prepare(&dir, listen.parse()?, World::Demo, engine.to_vec())?;
    let api_key = config.api_key.clone().unwrap_or_default();
    let secret = keys::load_secret(&dir.join("keys/bundle-dev.key"), Role::Bundle)?;
    let mut bundle = vitrine_base::signed::read(&dir.join("bundle.vbundle"), &dir.join("keys/bundle-dev.pub"))?.bundle;
    if learner != LearnerArg::Static {
        bundle = vitrine_demo::rule_based(bundle);
        let bytes = vitrine_engine::bundle::envelope::sign(&bundle, &secret.kid, &secret.key)?;
        vitrine_base::atomic::write(&dir.join("bundle.vbundle"), &bytes)?;
    }
    let eval = eval_snapshots(&dir, clients, a.eval_clients)?;
    let server = start(&dir, &listen, &api_key, a.engine.as_deref())?;
    let edge = match &a.workerd {
        Some(w) => Some(start_edge(w, &a.edge_config, &server)?),
        None => None,
    };
    let started_at = vitrine_base::clock::now();
    let last = if learner == LearnerArg::Static { 0 } else { a.rounds };
    let mut rounds = Vec::new();
    for r in 0..=last {
        let options = DayOptions {
            host: server.base.clone(),
            edge: edge.as_ref().map(|e| e.base.clone()),
            api_key: api_key.clone(),
            visits: a.visits,
            seed: a.seed.wrapping_mul(1000).wrapping_add(u64::from(r)),
        };
        let d = day::day(clients, &options).map_err(|e| anyhow::anyhow!("round {r}: {e}"))?;
        let e = evaluate(&bundle, &eval, vitrine_base::clock::now()).map_err(|e| anyhow::anyhow!("evaluating round {r}: {e}"))?;
        let mut round = Round {
            round: r,
            bundle_version: bundle.version,
            evaluation: e,
            reward: e.value,
            oracle: e.oracle,
            regret: e.oracle - e.value,
            ratio: if e.oracle > 0.0 { e.value / e.oracle } else { 0.0 },
            observed_reward: d.reward(),
            observed_oracle: d.oracle(),
            promoted: vec![],
            offers: vec![],
            verdict: String::new(),
            truth_checks: vec![],
            learn_seconds: 0.0,
            day: d,
        };
        if r < last {
            let t = Instant::now();
            let feedback = SqliteStore::open_reader(&dir.join("feedback.sqlite"))?;
            let ledger = FeatureStore::open_existing(&dir.join("features.sqlite"))?;
            let next = match learner {
                LearnerArg::Beta => {
                    round.verdict = "Beta posteriors; constant propensities replaced by posterior means".into();
                    vitrine_feedback::learn::learn(&bundle, &feedback, started_at, Reward::Conversion, 100)?.bundle
                }
                _ => {
                    let settings = Settings {
                        since: started_at,
                        now: vitrine_base::clock::now() + 86_400,
                        reward: Reward::Conversion,
                        maturity: a.maturity,
                        weighting: if learner == LearnerArg::ContextualIps { Weighting::Ips } else { Weighting::None },
                        fit: vitrine_learn::fit::FitOptions { l2: a.l2, ..Default::default() },
                        max_weight: a.max_weight,
                        min_effective_rows: a.min_effective_rows,
                        ..Settings::default()
                    };
                    let learned = vitrine_learn::learn(&bundle, &feedback, &ledger, &settings)?;
                    round.verdict = learned.verdict.clone();
                    round.promoted = learned.offers.iter().filter(|o| o.promoted).map(|o| o.offer.clone()).collect();
                    round.offers = learned.offers.clone();
                    learned.bundle
                }
            };
            round.learn_seconds = t.elapsed().as_secs_f64();
            if !round.promoted.is_empty() {
                let mut seen: Vec<(&Client, Vec<f32>)> = Vec::new();
                let mut done = std::collections::HashSet::new();
                for (i, hash) in &round.day.seen {
                    if done.insert(*i) {
                        if let Some(e) = ledger.ledger_entry(hash)? {
                            seen.push((&clients[*i], e.features.iter().map(|v| v.unwrap_or(f32::NAN)).collect()));
                        }
                    }
                }
                for id in &round.promoted {
                    let Some(i) = next.offers.iter().position(|o| &o.id == id) else { continue };
                    let (n, before) = cross_entropy(&bundle, i, &seen);
                    let (_, after) = cross_entropy(&next, i, &seen);
                    round.truth_checks.push(TruthCheck { offer: id.clone(), clients: n, before, after });
                }
            }
            let bytes = vitrine_engine::bundle::envelope::sign(&next, &secret.kid, &secret.key)?;
            push(&server, &api_key, &bytes, next.version)?;
            if let Some(e) = &edge {
                // The worker revalidates its bundle every 30 s: the next day starts once it has the new one.
                let t = Instant::now();
                while edge_version(&e.base) != Some(next.version) {
                    if t.elapsed() > Duration::from_secs(90) {
                        bail!("the edge worker still decides with an older bundle than v{} after 90 s", next.version);
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
            bundle = next;
        }
        eprintln!(
            "{learner:?} round {r:>2}: v{} true reward {:.4} oracle {:.4} ({:.1}%) over {} clients; observed on {} visits {:.4} / {:.4}; {} promoted{}",
            round.bundle_version,
            round.reward,
            round.oracle,
            100.0 * round.ratio,
            round.evaluation.decisions,
            round.day.personalised,
            round.observed_reward,
            round.observed_oracle,
            round.promoted.len(),
            if round.verdict.is_empty() { String::new() } else { format!("; {}", round.verdict) }
        );
        rounds.push(round);
    }
    drop(edge);
    drop(server);
    Ok(Run { learner, rounds })
}

pub fn run(a: Args) -> Result<()> {
    let engine = crate::assets::engine(a.engine.as_deref())?;
    let clients = world::clients(vitrine_demo::CLIENTS, vitrine_demo::SEED);
    let mut runs = Vec::new();
    for &learner in &a.learners {
        runs.push(run_learner(&a, learner, &clients, &engine)?);
    }
    std::fs::create_dir_all(&a.out)?;
    let colors = |l: LearnerArg| match l {
        LearnerArg::Contextual => "#1f77b4",
        LearnerArg::ContextualIps => "#9467bd",
        LearnerArg::Beta => "#ff7f0e",
        LearnerArg::Static => "#2ca02c",
    };
    let x_max = f64::from(a.rounds);
    let series = |f: &dyn Fn(&Round) -> f64| -> Vec<Series> {
        runs.iter()
            .map(|run| {
                let mut points: Vec<(f64, f64)> = run.rounds.iter().map(|r| (f64::from(r.round), f(r))).collect();
                if run.learner == LearnerArg::Static {
                    // Never relearned: one level across the rounds.
                    let v = points.first().map_or(0.0, |p| p.1);
                    points = vec![(0.0, v), (x_max, v)];
                }
                let name = match run.learner {
                    LearnerArg::Contextual => "contextual (learn)",
                    LearnerArg::ContextualIps => "contextual, IPS-weighted",
                    LearnerArg::Beta => "Beta only",
                    LearnerArg::Static => "static ONNX uplift",
                };
                Series { name: name.into(), color: colors(run.learner), points, dashed: run.learner == LearnerArg::Static }
            })
            .collect()
    };
    let mut reward = series(&|r| r.reward);
    if let Some(run) = runs.first() {
        reward.push(Series {
            name: "oracle".into(),
            color: "#555",
            points: run.rounds.iter().map(|r| (f64::from(r.round), r.oracle)).collect(),
            dashed: true,
        });
    }
    let regret = series(&|r| r.regret);
    let svg = plot::svg("Closed loop on the demo world", &reward, &regret, x_max);
    vitrine_base::atomic::write(&a.out.join("learning-curve.svg"), svg.as_bytes())?;
    vitrine_base::atomic::write(&a.out.join("loop.json"), &serde_json::to_vec_pretty(&runs)?)?;
    println!("{:<11} {:>5} {:>9} {:>9} {:>7} {:>9}", "learner", "round", "reward", "oracle", "ratio", "promoted");
    for run in &runs {
        for r in &run.rounds {
            println!(
                "{:<11} {:>5} {:>9.4} {:>9.4} {:>6.1}% {:>9}",
                format!("{:?}", run.learner).to_lowercase(),
                r.round,
                r.reward,
                r.oracle,
                100.0 * r.ratio,
                r.promoted.len()
            );
        }
    }
    let worse: Vec<String> = runs
        .iter()
        .flat_map(|run| {
            run.rounds.iter().flat_map(move |r| {
                r.truth_checks.iter().filter(|c| c.after > c.before).map(move |c| format!("round {} {}", r.round, c.offer))
            })
        })
        .collect();
    println!(
        "promotions worse on the truth (cross-entropy against the true P(conversion)): {}",
        if worse.is_empty() { "none".to_string() } else { worse.join(", ") }
    );
    println!("→ {}/loop.json, {}/learning-curve.svg", a.out.display(), a.out.display());
    Ok(())
}
