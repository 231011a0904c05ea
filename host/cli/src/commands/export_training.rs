//! `vitrine export training`: the table a data scientist trains on, one row per (logged
//! decision, offer shown or withheld), joined to the features the decision was made on
//! (the snapshot ledger) and to its outcomes (docs/training.md, column by column).
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use vitrine_feedback::report::Range;
use vitrine_feedback::training::{self, Outcome};
use vitrine_feedback::SqliteStore;
use vitrine_store::table::{Kind, TableWriter, Value};
use vitrine_store::FeatureStore;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The deployed signed bundle (each offer's attribution window) and its signer's key.
    #[command(flatten)]
    bundle: super::signed_bundle::BundleArgs,
    /// The feedback store.
    #[arg(long)]
    feedback: PathBuf,
    /// The feature store whose ledger holds the signed snapshots.
    #[arg(long)]
    features: PathBuf,
    /// Decisions from this long ago (30d) or this unix time.
    #[arg(long, default_value = "30d")]
    since: String,
    /// Clicks and conversions count within this long after the decision.
    #[arg(long, default_value = "1d")]
    response_window: String,
    /// Which outcome the `outcome` and `reward` columns carry.
    #[arg(long, value_enum, default_value = "sale")]
    outcome: OutcomeArg,
    /// `.parquet` or `.csv` (written whole or not at all).
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum OutcomeArg {
    Click,
    Conversion,
    Sale,
}

fn opt_text(s: &Option<String>) -> Value<'_> {
    s.as_deref().map_or(Value::Null, Value::Text)
}

pub fn run(a: Args) -> Result<()> {
    let outcome = match a.outcome {
        OutcomeArg::Click => Outcome::Click,
        OutcomeArg::Conversion => Outcome::Conversion,
        OutcomeArg::Sale => Outcome::Sale,
    };
    let bundle = a.bundle.read()?.bundle;
    let windows = bundle.offers.iter().map(|o| (o.id.clone(), o.attribution_secs)).collect();
    let now = vitrine_base::clock::now();
    let range = Range { from: super::since(&a.since)?, to: now + 1 };
    let store = SqliteStore::open_reader(&a.feedback)?;
    let rows = training::rows(&store, range, &windows, super::seconds(&a.response_window)?, now)?;
    if rows.is_empty() {
        bail!("no logged decision showed or withheld an offer since {} in {}: nothing written", range.from, a.feedback.display());
    }
    let features = FeatureStore::open_existing(&a.features)?;
    let schema = features.schema().clone();
    let schema_hash = vitrine_base::hex::encode(&schema.hash());

    let mut columns: Vec<(String, Kind)> = [
        ("decision_id", Kind::Text),
        ("decided_at", Kind::Float),
        ("bundle_version", Kind::Float),
        ("subject", Kind::Text),
        ("arm", Kind::Text),
        ("mode", Kind::Text),
        ("source", Kind::Text),
        ("snapshot_hash", Kind::Text),
        ("slot", Kind::Text),
        ("channel", Kind::Text),
        ("offer", Kind::Text),
        ("contacted", Kind::Bool),
        ("rank", Kind::Float),
        ("selection_probability", Kind::Float),
        ("predicted_uplift", Kind::Float),
        ("clicked", Kind::Bool),
        ("converted", Kind::Bool),
        ("sold", Kind::Bool),
        ("revenue", Kind::Float),
        ("outcome", Kind::Bool),
        ("reward", Kind::Float),
        ("features", Kind::Text),
        ("consent_profiling", Kind::Bool),
    ]
    .into_iter()
    .map(|(n, k)| (n.to_string(), k))
    .collect();
    columns.extend(schema.features.iter().map(|f| (format!("f_{}", f.name), vitrine_store::feature_column(&f.kind))));
    let names: Vec<(&str, Kind)> = columns.iter().map(|(n, k)| (n.as_str(), *k)).collect();
    let staged = vitrine_base::atomic::Staged::beside(&a.out);
    let mut w = TableWriter::create(staged.path(), &names).with_context(|| format!("writing {}", a.out.display()))?;
    let (joined, counts) = vitrine_learn::join::join(rows, &features, &schema_hash)?;
    for j in &joined {
        let (r, o, found) = (&j.row, &j.row.offer, j.found.as_str());
        let mut row = vec![
            Value::Text(&o.decision_id),
            Value::Float(o.at as f64),
            Value::Float(o.bundle_version as f64),
            opt_text(&o.subject),
            opt_text(&o.arm),
            Value::Text(&o.mode),
            Value::Text(&o.source),
            opt_text(&o.snapshot_hash),
            Value::Text(&o.slot),
            Value::Text(&o.channel),
            Value::Text(&o.offer),
            Value::Bool(r.contacted()),
            Value::Float(f64::from(o.rank)),
            o.selection_probability.map_or(Value::Null, Value::Float),
            o.uplift.map_or(Value::Null, |u| Value::Float(f64::from(u))),
            Value::Bool(r.clicked),
            Value::Bool(r.converted),
            Value::Bool(r.sold),
            Value::Float(r.revenue),
            r.label(outcome).map_or(Value::Null, Value::Bool),
            Value::Float(r.reward(outcome)),
            Value::Text(found),
        ];
        match &j.entry {
            Some(e) => {
                row.push(Value::Bool(e.consent & vitrine_engine::snapshot::CONSENT_PROFILING != 0));
                row.extend(schema.features.iter().zip(&e.features).map(|(f, v)| vitrine_store::feature_cell(*v, &f.kind)));
            }
            None => row.extend(std::iter::repeat_n(Value::Null, 1 + schema.features.len())),
        }
        w.push(&row).with_context(|| format!("writing {}", a.out.display()))?;
    }
    w.finish().with_context(|| format!("writing {}", a.out.display()))?;
    staged.commit().with_context(|| format!("writing {}", a.out.display()))?;
    let labelled = joined.iter().filter(|j| j.row.label(outcome).is_some()).count();
    println!(
        "{} rows ({} with a {:?} outcome, {} still in their window) → {}; features: {}",
        joined.len(),
        labelled,
        outcome,
        joined.len() - labelled,
        a.out.display(),
        counts.iter().map(|(k, v)| format!("{v} {}", k.as_str())).collect::<Vec<_>>().join(", ")
    );
    if counts.get(&vitrine_learn::join::Found::Miss).copied().unwrap_or(0) > 0 {
        println!("ledger misses: decisions whose snapshot this feature store never signed (or whose entry expired); their features are left empty, never guessed");
    }
    Ok(())
}
