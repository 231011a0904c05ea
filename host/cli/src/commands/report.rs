//! `vitrine report`: what happened, down to the sale: each arm's sales, revenue and
//! contacts per client, `personalised` against `bau` and `no_contact`, each offer's
//! incremental sales, and the Qini coefficient of the engine's ranking. The same numbers
//! as `GET /v1/report` (definitions in docs/measurement.md).
use std::path::PathBuf;

use anyhow::Result;
use vitrine_feedback::measure::means::Lift;
use vitrine_feedback::report::{self, Range, Report, Setup};
use vitrine_feedback::SqliteStore;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The deployed signed bundle (its arms and attribution windows) and its signer's key.
    #[command(flatten)]
    bundle: super::signed_bundle::BundleArgs,
    /// The feedback store.
    #[arg(long)]
    feedback: PathBuf,
    /// From a duration back from now (30d) or a unix time.
    #[arg(long, default_value = "30d")]
    since: String,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// With `--format csv`: which table.
    #[arg(long, value_enum, default_value = "arms")]
    table: Table,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Format {
    Text,
    Json,
    Csv,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Table {
    Rows,
    Arms,
    Offers,
}

pub fn run(a: Args) -> Result<()> {
    let bundle = a.bundle.read()?.bundle;
    let setup = Setup {
        arms: bundle.policy.arms.clone(),
        windows: bundle.offers.iter().map(|o| (o.id.clone(), o.attribution_secs)).collect(),
        maturity: report::maturity(&bundle),
    };
    let store = SqliteStore::open_reader(&a.feedback)?;
    let range = Range { from: super::since(&a.since)?, to: vitrine_base::clock::now() + 1 };
    let r = report::report(&store, range, &setup)?;
    match (a.format, a.table) {
        (Format::Json, _) => println!("{}", serde_json::to_string_pretty(&r)?),
        (Format::Csv, Table::Rows) => print!("{}", report::to_csv(&r)),
        (Format::Csv, Table::Arms) => print!("{}", report::arms_csv(&r)),
        (Format::Csv, Table::Offers) => print!("{}", report::offers_csv(&r)),
        (Format::Text, _) => print!("{}", text(&r)),
    }
    Ok(())
}

fn lift(what: &str, l: &Option<Lift>) -> String {
    match l {
        Some(l) => {
            let rel = match (l.relative, l.relative_ci95) {
                (Some(x), Some(ci)) => format!(" ({:+.1}% [{:+.1}%, {:+.1}%])", 100.0 * x, 100.0 * ci.low, 100.0 * ci.high),
                _ => String::new(),
            };
            format!("{what} {:+.4} [{:+.4}, {:+.4}]{rel}", l.absolute, l.absolute_ci95.low, l.absolute_ci95.high)
        }
        None => format!("{what}: not enough clients in both arms"),
    }
}

fn text(r: &Report) -> String {
    let mut out = format!("{} sales ({} by clients never decided for), {} events\n\n", r.sales, r.unexposed_sales, r.events);
    out.push_str("arm           share  clients   sales/client   revenue/client  contacts/client  sample ratio\n");
    for a in &r.arms.arms {
        let srm = a
            .sample_ratio
            .as_ref()
            .map_or("-".to_string(), |s| format!("p = {:.3}{}", s.p_value, if s.mismatch { " MISMATCH" } else { "" }));
        out.push_str(&format!(
            "{:<13} {:>5.2} {:>8} {:>14.4} {:>16.2} {:>16.2}  {srm}\n",
            a.arm.as_str(),
            a.expected_share,
            a.clients,
            a.sales_per_client.mean,
            a.revenue_per_client.mean,
            a.contacts_per_client.mean
        ));
    }
    for c in [&r.arms.vs_bau, &r.arms.vs_no_contact] {
        out.push_str(&format!(
            "\npersonalised vs {}: {}; {}",
            c.against.as_str(),
            lift("sales/client", &c.sales_per_client),
            lift("revenue/client", &c.revenue_per_client)
        ));
    }
    out.push_str("\n\noffer                channel  version  contacted  sale rate  control  sale rate  uplift [95% CI]            incremental sales\n");
    for o in &r.offers {
        let rate = |x: &Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.4}"));
        let up = o
            .uplift
            .as_ref()
            .map_or("-".to_string(), |u| format!("{:+.4} [{:+.4}, {:+.4}]", u.absolute, u.absolute_ci95.low, u.absolute_ci95.high));
        let inc = o.incremental_sales.map_or("-".to_string(), |e| format!("{:+.1} [{:+.1}, {:+.1}]", e.value, e.ci95.low, e.ci95.high));
        out.push_str(&format!(
            "{:<20} {:<8} {:>7} {:>10} {:>10} {:>8} {:>10}  {up:<26} {inc}\n",
            o.offer,
            o.channel,
            o.bundle_version,
            o.contacted.trials,
            rate(&o.contacted.rate),
            o.control.trials,
            rate(&o.control.rate)
        ));
    }
    if !r.maturity.is_empty() {
        out.push_str("\noffer                maturity  responses  scored by\n");
        for m in &r.maturity {
            let n = m.responses.map_or("-".to_string(), |n| n.to_string());
            out.push_str(&format!("{:<20} {:<9} {:>9}  {}\n", m.offer, m.stage, n, m.scored_by));
        }
    }
    match &r.qini {
        Some(q) => out.push_str(&format!(
            "\nQini coefficient {} and AUUC {} of the engine's predicted uplift ({} contacted, {} withheld units)\n",
            q.qini.coefficient.map_or("-".to_string(), |x| format!("{x:.3}")),
            q.auuc.coefficient.map_or("-".to_string(), |x| format!("{x:.3}")),
            q.qini.treated,
            q.qini.control
        )),
        None => out.push_str("\nQini: needs uplift-scored offers shown to personalised clients and withheld from no_contact ones\n"),
    }
    out
}
