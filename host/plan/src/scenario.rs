//! What-if scenarios (`vitrine scenario`): one or two bundles, or one bundle with changed
//! business levers, planned over the same seeded sample of the base, side by side: reach
//! and expected value per offer and channel, capacity use, clients left out and why,
//! offers never chosen, and what each business lever costs in expected value (the plan
//! re-run with that lever at 1).
//!
//! A variant with changed levers is the bundle with those levers, signed in memory by a
//! throwaway key that never leaves the process: the engine only loads signed bundles.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use vitrine_engine::bundle::Bundle;

use crate::output::{ChannelSummary, Uncontacted};
use crate::{EngineChoice, PlanError, PlanJob, Source, Summary};

/// At most this many levers are priced per variant (one plan each).
pub const MAX_PRICED_LEVERS: usize = 24;

/// A business lever: an offer's or a category's L.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lever {
    /// `offer` or `category`.
    pub scope: String,
    pub id: String,
    pub value: f64,
}

impl Lever {
    /// Parses `offer:ID=VALUE` or `category:ID=VALUE`.
    pub fn parse(s: &str) -> Result<Lever, String> {
        let (target, value) = s.split_once('=').ok_or_else(|| format!("lever `{s}` is not SCOPE:ID=VALUE (offer:fibre_upgrade=2)"))?;
        let (scope, id) = target.split_once(':').ok_or_else(|| format!("lever `{s}`: name `offer:ID` or `category:ID`"))?;
        if scope != "offer" && scope != "category" {
            return Err(format!("lever `{s}`: scope `{scope}` is neither `offer` nor `category`"));
        }
        let value: f64 = value.parse().map_err(|_| format!("lever `{s}`: `{value}` is not a number"))?;
        if !(value.is_finite() && value > 0.0 && value <= 1000.0) {
            return Err(format!("lever `{s}`: {value} is not in (0, 1000]"));
        }
        Ok(Lever { scope: scope.into(), id: id.into(), value })
    }

    /// `bundle` with this lever set; an unknown offer or category is an error naming it.
    pub fn apply(&self, bundle: &mut Bundle) -> Result<(), String> {
        match self.scope.as_str() {
            "offer" => {
                let Some(i) = bundle.offers.iter().position(|o| o.id == self.id) else {
                    return Err(unknown("offer", &self.id, bundle));
                };
                bundle.offers[i].lever = self.value as f32;
            }
            _ => {
                if !bundle.offers.iter().any(|o| o.category == self.id) {
                    return Err(unknown("category", &self.id, bundle));
                }
                let levers = &mut bundle.policy.category_levers;
                match levers.iter_mut().find(|c| c.category == self.id) {
                    Some(c) => c.lever = self.value as f32,
                    None => levers.push(vitrine_engine::policy::CategoryLever { category: self.id.clone(), lever: self.value as f32 }),
                }
            }
        }
        Ok(())
    }
}

fn unknown(scope: &str, id: &str, bundle: &Bundle) -> String {
    let known: BTreeSet<&str> = match scope {
        "offer" => bundle.offers.iter().map(|o| o.id.as_str()).collect(),
        _ => bundle.offers.iter().map(|o| o.category.as_str()).collect(),
    };
    let hint = vitrine_base::suggest::closest(id, known.iter().copied()).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
    format!("unknown {scope} `{id}` in the bundle{hint}")
}

/// A variant to plan.
#[derive(Debug, Clone)]
pub struct Variant {
    pub name: String,
    /// The signed bundle and its key.
    pub bundle: Vec<u8>,
    pub key: [u8; 32],
    /// Levers changed from the bundle's.
    pub levers: Vec<Lever>,
}

/// Reach and value of one offer on one channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reach {
    pub offer: String,
    pub channel: String,
    pub contacts: u64,
    /// Sum of priorities (the objective, levers included).
    pub value: f64,
    /// Sum of expected values without levers (incremental when uplift-scored).
    pub expected_value: f64,
}

/// What one business lever costs: the plan's expected value with it, and with it at 1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeverCost {
    pub lever: Lever,
    pub expected_value_at_1: f64,
    /// `expected_value − expected_value_at_1`: negative when the lever buys a business
    /// goal at the cost of expected value.
    pub change: f64,
}

/// One variant's plan over the sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantReport {
    pub name: String,
    pub bundle: String,
    pub bundle_version: u64,
    pub levers: Vec<Lever>,
    pub clients: u64,
    pub contacted: u64,
    pub contacts: u64,
    pub value: f64,
    pub expected_value: f64,
    pub reach: Vec<Reach>,
    pub channels: Vec<ChannelSummary>,
    pub uncontacted: Uncontacted,
    pub never_chosen: Vec<String>,
    pub lever_costs: Vec<LeverCost>,
}

/// The scenario's report (`--json`), and the readable table ([`table`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioReport {
    pub sample: u64,
    pub seed: u64,
    pub base: u64,
    pub variants: Vec<VariantReport>,
}

/// Everything a scenario needs.
#[allow(missing_debug_implementations)]
pub struct ScenarioJob<'a> {
    pub variants: Vec<Variant>,
    pub features: PathBuf,
    pub config: PathBuf,
    pub sample: u64,
    pub seed: u64,
    /// Price each variant's business levers (one plan per lever).
    pub price_levers: bool,
    pub threads: usize,
    pub progress: &'a (dyn Fn(&str) + Sync),
}

/// Runs every variant over the same sample.
pub fn run(job: &ScenarioJob<'_>) -> Result<ScenarioReport, PlanError> {
    let tmp = tempdir()?;
    let (sample_path, base) = sample(&job.features, tmp.path(), job.sample, job.seed)?;
    let mut variants = Vec::with_capacity(job.variants.len());
    for (i, v) in job.variants.iter().enumerate() {
        (job.progress)(&format!("variant {}: {}", i + 1, v.name));
        let (bundle_bytes, key, bundle) = with_levers(v, &v.levers)?;
        let summary = plan_once(job, &sample_path, tmp.path(), &format!("v{i}"), bundle_bytes, key)?;
        let mut report = variant_report(&v.name, &bundle, &v.levers, &summary);
        if job.price_levers {
            for lever in levers_of(&bundle).into_iter().take(MAX_PRICED_LEVERS) {
                (job.progress)(&format!("variant {}: {} at 1", i + 1, lever_name(&lever)));
                let mut at_1 = v.levers.clone();
                at_1.push(Lever { value: 1.0, ..lever.clone() });
                let (bytes, key, _) = with_levers(v, &at_1)?;
                let s = plan_once(job, &sample_path, tmp.path(), &format!("v{i}-lever"), bytes, key)?;
                let ev: f64 = s.offers.iter().map(|o| o.expected_value).sum();
                report.lever_costs.push(LeverCost { lever, expected_value_at_1: ev, change: report.expected_value - ev });
            }
        }
        variants.push(report);
    }
    Ok(ScenarioReport { sample: job.sample.min(base), seed: job.seed, base, variants })
}

fn lever_name(l: &Lever) -> String {
    format!("{}:{}={}", l.scope, l.id, l.value)
}

/// The levers of `bundle` that are not 1 (offers', then categories').
fn levers_of(bundle: &Bundle) -> Vec<Lever> {
    let offers = bundle.offers.iter().filter(|o| o.lever != 1.0).map(|o| Lever {
        scope: "offer".into(),
        id: o.id.clone(),
        value: f64::from(o.lever),
    });
    let categories = bundle.policy.category_levers.iter().filter(|c| c.lever != 1.0).map(|c| Lever {
        scope: "category".into(),
        id: c.category.clone(),
        value: f64::from(c.lever),
    });
    offers.chain(categories).collect()
}

/// The variant's bundle with `levers` set: the signed bytes and key to plan with, and the
/// bundle. Without levers, the variant's own bytes.
fn with_levers(v: &Variant, levers: &[Lever]) -> Result<(Vec<u8>, [u8; 32], Bundle), PlanError> {
    let engine = vitrine_engine::Engine::load(&v.bundle, &v.key).map_err(|e| PlanError::Bundle(format!("{}: {e}", v.name)))?;
    let mut bundle = engine.bundle().clone();
    if levers.is_empty() {
        return Ok((v.bundle.clone(), v.key, bundle));
    }
    for l in levers {
        l.apply(&mut bundle).map_err(|reason| PlanError::Scenario(format!("{}: {reason}", v.name)))?;
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| PlanError::Scenario(format!("no entropy for the throwaway key: {e}")))?;
    let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
    let bytes = vitrine_engine::bundle::envelope::sign(&bundle, "scenario-throwaway", &signing)
        .map_err(|e| PlanError::Scenario(format!("{}: the changed bundle is invalid: {e}", v.name)))?;
    Ok((bytes, signing.verifying_key().to_bytes(), bundle))
}

fn plan_once(job: &ScenarioJob<'_>, sample: &Path, tmp: &Path, name: &str, bundle: Vec<u8>, key: [u8; 32]) -> Result<Summary, PlanError> {
    let quiet = |_: u64, _: Option<u64>| {};
    let plan = PlanJob {
        bundle,
        bundle_key: key,
        source: Source::File(sample.to_path_buf()),
        config: job.config.clone(),
        out: tmp.join(name),
        force: true,
        engine: EngineChoice::Native,
        feedback: None,
        ledger: None,
        history: None,
        proposals: None,
        threads: job.threads,
        progress: &quiet,
    };
    crate::plan(&plan)
}

fn variant_report(name: &str, bundle: &Bundle, levers: &[Lever], s: &Summary) -> VariantReport {
    let chosen: BTreeSet<&str> = s.offers.iter().filter(|o| o.contacts > 0).map(|o| o.offer.as_str()).collect();
    VariantReport {
        name: name.into(),
        bundle: s.bundle.clone(),
        bundle_version: s.bundle_version,
        levers: levers.to_vec(),
        clients: s.clients,
        contacted: s.contacted,
        contacts: s.contacts,
        value: s.objective.value,
        expected_value: s.offers.iter().map(|o| o.expected_value).sum(),
        reach: s
            .offers
            .iter()
            .map(|o| Reach {
                offer: o.offer.clone(),
                channel: o.channel.clone(),
                contacts: o.contacts,
                value: o.value,
                expected_value: o.expected_value,
            })
            .collect(),
        channels: s.channels.clone(),
        uncontacted: s.uncontacted.clone(),
        never_chosen: bundle.offers.iter().map(|o| o.id.as_str()).filter(|o| !chosen.contains(o)).map(str::to_string).collect(),
        lever_costs: Vec::new(),
    }
}

/// A temporary directory removed on drop.
fn tempdir() -> Result<vitrine_base::atomic::Staged, PlanError> {
    let base = std::env::temp_dir().join(format!("vitrine-scenario-{}", std::process::id()));
    let staged = vitrine_base::atomic::Staged::beside(&base);
    std::fs::create_dir_all(staged.path()).map_err(|source| PlanError::Io { path: staged.path().to_path_buf(), source })?;
    Ok(staged)
}

/// The seeded sample: the `n` clients of the base with the lowest SHA-256 of
/// `"vitrine/scenario-sample/v1\0" ‖ seed ‖ client id`, as a CSV export. Returns its path
/// and the base's size.
fn sample(features: &Path, dir: &Path, n: u64, seed: u64) -> Result<(PathBuf, u64), PlanError> {
    use sha2::{Digest, Sha256};
    let all = dir.join("base.csv");
    match crate::Source::from_path(features) {
        Source::Store(path) => {
            let store = vitrine_store::FeatureStore::open_existing(&path)?;
            store.export(&all, &mut |_, _| {})?;
        }
        Source::File(path) if path.extension().and_then(|e| e.to_str()) == Some("csv") => {
            std::fs::copy(&path, &all).map_err(|source| PlanError::Io { path: path.clone(), source })?;
        }
        Source::File(path) => {
            return Err(PlanError::Scenario(format!("{}: sample from the feature store or a CSV export", path.display())));
        }
    }
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e: csv::Error| PlanError::Io { path: p.clone(), source: std::io::Error::other(e) }
    };
    let mut reader = csv::Reader::from_path(&all).map_err(io(&all))?;
    let headers = reader.headers().map_err(io(&all))?.clone();
    let id =
        headers.iter().position(|h| h == "client_id").ok_or_else(|| PlanError::Scenario("the export has no client_id column".into()))?;
    let mut keyed: Vec<([u8; 32], csv::StringRecord)> = Vec::new();
    let mut base = 0u64;
    for r in reader.records() {
        let r = r.map_err(io(&all))?;
        base += 1;
        let mut h = Sha256::new();
        h.update(b"vitrine/scenario-sample/v1\0");
        h.update(seed.to_le_bytes());
        h.update(r.get(id).unwrap_or("").as_bytes());
        keyed.push((h.finalize().into(), r));
        // Keep memory at about twice the sample.
        if keyed.len() as u64 > 2 * n.max(1) {
            keyed.sort_unstable_by_key(|a| a.0);
            keyed.truncate(n as usize);
        }
    }
    keyed.sort_unstable_by_key(|a| a.0);
    keyed.truncate(n as usize);
    // The sample in the base's order.
    let out = dir.join("sample.csv");
    let mut w = csv::Writer::from_path(&out).map_err(io(&out))?;
    w.write_record(&headers).map_err(io(&out))?;
    let mut rows: Vec<csv::StringRecord> = keyed.into_iter().map(|(_, r)| r).collect();
    rows.sort_by(|a, b| a.get(id).cmp(&b.get(id)));
    for r in &rows {
        w.write_record(r).map_err(io(&out))?;
    }
    w.flush().map_err(|source| PlanError::Io { path: out.clone(), source })?;
    let _ = std::fs::remove_file(&all);
    Ok((out, base))
}

/// The readable side-by-side table.
pub fn table(r: &ScenarioReport) -> String {
    use std::fmt::Write;
    let mut t = String::new();
    let _ = writeln!(t, "sample: {} of {} clients (seed {})", r.sample, r.base, r.seed);
    let names: Vec<&str> = r.variants.iter().map(|v| v.name.as_str()).collect();
    let head = |t: &mut String, first: &str| {
        let _ = write!(t, "{first:<34}");
        for n in &names {
            let _ = write!(t, " {n:>22}");
        }
        let _ = writeln!(t);
    };
    head(&mut t, "");
    let row = |t: &mut String, label: &str, cells: Vec<String>| {
        let _ = write!(t, "{label:<34}");
        for c in cells {
            let _ = write!(t, " {c:>22}");
        }
        let _ = writeln!(t);
    };
    row(&mut t, "clients contacted", r.variants.iter().map(|v| format!("{} of {}", v.contacted, v.clients)).collect());
    row(&mut t, "contacts", r.variants.iter().map(|v| v.contacts.to_string()).collect());
    row(&mut t, "objective (with levers)", r.variants.iter().map(|v| format!("{:.2}", v.value)).collect());
    row(&mut t, "expected value (no levers)", r.variants.iter().map(|v| format!("{:.2}", v.expected_value)).collect());
    let channels: BTreeSet<&str> = r.variants.iter().flat_map(|v| v.channels.iter().map(|c| c.channel.as_str())).collect();
    for ch in &channels {
        let cells = r
            .variants
            .iter()
            .map(|v| {
                v.channels
                    .iter()
                    .find(|c| c.channel == *ch)
                    .map_or("-".into(), |c| format!("{} ({:.0}%)", c.contacts, 100.0 * c.capacity_used))
            })
            .collect();
        row(&mut t, &format!("capacity used: {ch}"), cells);
    }
    let _ = writeln!(t, "\nreach (contacts / expected value) per offer and channel");
    head(&mut t, "offer @ channel");
    let keys: BTreeSet<(&str, &str)> =
        r.variants.iter().flat_map(|v| v.reach.iter().map(|x| (x.offer.as_str(), x.channel.as_str()))).collect();
    for (offer, ch) in keys {
        let cells = r
            .variants
            .iter()
            .map(|v| {
                v.reach
                    .iter()
                    .find(|x| x.offer == offer && x.channel == ch)
                    .map_or("0".into(), |x| format!("{} / {:.2}", x.contacts, x.expected_value))
            })
            .collect();
        row(&mut t, &format!("{offer} @ {ch}"), cells);
    }
    let _ = writeln!(t, "\nclients left without a contact, by reason");
    head(&mut t, "reason");
    let reasons: Vec<BTreeMap<String, u64>> = r
        .variants
        .iter()
        .map(|v| serde_json::from_value(serde_json::to_value(&v.uncontacted).unwrap_or_default()).unwrap_or_default())
        .collect();
    let all: BTreeSet<&String> = reasons.iter().flat_map(|m| m.keys()).collect();
    for reason in all {
        row(&mut t, reason, reasons.iter().map(|m| m.get(reason).copied().unwrap_or(0).to_string()).collect());
    }
    for v in &r.variants {
        let _ = writeln!(
            t,
            "\n{}: offers never chosen: {}",
            v.name,
            if v.never_chosen.is_empty() { "none".into() } else { v.never_chosen.join(", ") }
        );
        for c in &v.lever_costs {
            let _ = writeln!(
                t,
                "{}: lever {} costs {:+.2} in expected value (at 1: {:.2})",
                v.name,
                lever_name(&c.lever),
                -c.change,
                c.expected_value_at_1
            );
        }
    }
    t
}
