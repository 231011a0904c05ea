//! What-if scenarios (`vitrine scenario`): one or two bundles, or one bundle with changed
//! business levers, planned over the same seeded sample of the base, side by side: reach
//! and expected value per offer and channel, capacity use, clients left out and why,
//! offers never chosen, and what each business lever costs in expected value (the plan
//! re-run with that lever at 1).
//!
//! A variant with changed levers is the bundle with those levers, signed in memory by a
//! throwaway key that never leaves the process: the engine only loads signed bundles.
mod sample;
mod table;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;
use vitrine_engine::bundle::Bundle;

use crate::output::{ChannelSummary, Uncontacted};
use crate::{EngineChoice, PlanError, PlanJob, Source, Summary};
pub use table::table;

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
    let (sample_path, base) = sample::sample(&job.features, tmp.path(), job.sample, job.seed)?;
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

pub(crate) fn lever_name(l: &Lever) -> String {
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
