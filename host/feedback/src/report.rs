//! Measured performance, down to the sale. Every definition is in
//! `docs/measurement.md`; in short:
//!
//! - **rows**: events per offer × treatment × slot × channel × bundle version, with
//!   Wilson intervals on click-through and conversion rates;
//! - **arms**: the clients with a logged decision in the range, by arm (intention to
//!   treat: the arm is the subject's salted hash, whatever it was shown), with sales,
//!   revenue and contacts per client (means with normal intervals) and `personalised`
//!   against `bau` and against `no_contact` (Welch intervals); a sample-ratio check per arm;
//! - **offers**: per offer × channel × bundle version, clients contacted with the offer
//!   (`personalised` arm) against `no_contact` clients it was withheld from (the
//!   control: the same ranking would have shown it), each followed for the offer's
//!   attribution window: sale rates, the offer's uplift, incremental sales and revenue;
//! - **qini**: the Qini coefficient and AUUC of the engine's predicted uplift on those
//!   randomised units (scikit-uplift's definitions, [`crate::measure::qini`]);
//! - **timeline**: sales per 1,000 clients of each arm, per day.
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use vitrine_engine::policy::{Arm, Arms};

use crate::attribution::{self, Sales};
use crate::measure::means::{lift, mean, Lift, Mean};
use crate::measure::qini::{self, Unit};
use crate::measure::stats::{rate, sample_ratio, uplift, Interval, Rate, SampleRatio, Uplift, Z95};
use crate::{FeedbackError, FeedbackRead};

/// Half-open time range `[from, to)`, unix seconds.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub from: u64,
    pub to: u64,
}

/// One offer × treatment × slot × channel × bundle version.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Row {
    /// `None` when no decision record was logged for the events.
    pub bundle_version: Option<u64>,
    pub offer: String,
    pub treatment: String,
    pub slot: String,
    pub channel: String,
    pub impressions: u64,
    pub clicks: u64,
    pub conversions: u64,
    pub dismisses: u64,
    pub revenue: f64,
    /// Clicks per impression (absent when clicks exceed impressions: lost impressions).
    pub ctr: Option<Rate>,
    /// Conversions per impression.
    pub conversion_rate: Option<Rate>,
}

/// One arm's clients and what they got.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct ArmRow {
    pub arm: Arm,
    /// The bundle's share for the arm.
    pub expected_share: f64,
    pub clients: u64,
    pub sales: u64,
    pub revenue: f64,
    pub contacts: u64,
    pub sales_per_client: Mean,
    pub revenue_per_client: Mean,
    pub contacts_per_client: Mean,
    /// This arm's clients against its expected share of all clients.
    pub sample_ratio: Option<SampleRatio>,
}

/// `personalised` against another arm.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Comparison {
    pub against: Arm,
    pub sales_per_client: Option<Lift>,
    pub revenue_per_client: Option<Lift>,
}

/// The arms and the headline comparisons.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct ArmsReport {
    pub arms: Vec<ArmRow>,
    /// `personalised` vs `bau`: is the new way at least as good as the old one?
    pub vs_bau: Comparison,
    /// `personalised` vs `no_contact`: what does contacting add at all?
    pub vs_no_contact: Comparison,
    /// Whether any arm's sample ratio is off (then do not trust the lifts).
    pub sample_ratio_mismatch: bool,
}

/// An estimate with its 95% interval.
#[derive(Serialize, Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub ci95: Interval,
}

/// One offer × channel × bundle version: contacted against withheld.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct OfferUplift {
    pub offer: String,
    pub channel: String,
    pub bundle_version: u64,
    /// Attribution window (seconds) the sales were followed for.
    pub window_secs: u64,
    /// Sale rate of contacted clients (`personalised` arm).
    pub contacted: Rate,
    /// Sale rate of `no_contact` clients the offer was withheld from.
    pub control: Rate,
    /// `contacted − control`, with its interval.
    pub uplift: Option<Uplift>,
    /// `uplift × contacted clients`.
    pub incremental_sales: Option<Estimate>,
    /// `(revenue per contacted − revenue per control) × contacted clients`.
    pub incremental_revenue: Option<Estimate>,
    /// Sales of the offer attributed to its contacts.
    pub attributed_sales: u64,
    pub attributed_revenue: f64,
}

/// How well the engine's predicted uplift ranks, on randomised units.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct QiniReport {
    pub qini: qini::Score,
    pub auuc: qini::Score,
}

/// One day of the timeline: sales per 1,000 clients of each arm.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Day {
    /// Unix seconds of the day's start (UTC).
    pub day: u64,
    pub personalised: f64,
    pub bau: f64,
    pub no_contact: f64,
}

/// The whole report.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Report {
    pub range: Range,
    pub rows: Vec<Row>,
    pub arms: ArmsReport,
    pub offers: Vec<OfferUplift>,
    pub qini: Option<QiniReport>,
    pub timeline: Vec<Day>,
    pub bundle_versions: Vec<u64>,
    pub events: u64,
    /// Sales in the range, and those whose subject never had a logged decision.
    pub sales: u64,
    pub unexposed_sales: u64,
    /// Each offer's place on the maturity ramp in the current bundle.
    pub maturity: Vec<Maturity>,
}

/// What the report needs from the current bundle.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Setup {
    pub arms: Arms,
    /// Offer id → attribution window (seconds); others get [`DEFAULT_WINDOW`].
    pub windows: BTreeMap<String, u64>,
    /// From [`maturity`].
    pub maturity: Vec<Maturity>,
}

/// One offer on the maturity ramp (docs/learning.md).
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Maturity {
    pub offer: String,
    /// `learning` (Thompson sampling on its Beta posterior) or `mature`.
    pub stage: &'static str,
    /// Responses its posterior has counted (none before the first `learn`).
    pub responses: Option<u32>,
    /// What scores it: `thompson`, `learned_model`, `model`, `constant` or `uplift`.
    pub scored_by: &'static str,
}

/// Every offer's maturity in `bundle`.
pub fn maturity(bundle: &vitrine_engine::bundle::Bundle) -> Vec<Maturity> {
    use vitrine_engine::bundle::{Propensity, Score};
    bundle
        .offers
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let posterior = bundle.posteriors.iter().find(|p| p.offer as usize == i);
            let cold = posterior.is_some_and(|p| p.observations < bundle.policy.thompson.cold_below);
            let scored_by = match &o.score {
                _ if cold => "thompson",
                Score::Uplift(_) => "uplift",
                Score::Propensity(Propensity::Constant(_)) => "constant",
                Score::Propensity(Propensity::Model { model, .. }) => {
                    if bundle.models.get(*model as usize).is_some_and(|m| m.name.starts_with("learned:")) {
                        "learned_model"
                    } else {
                        "model"
                    }
                }
            };
            Maturity {
                offer: o.id.clone(),
                stage: if cold { "learning" } else { "mature" },
                responses: posterior.map(|p| p.observations),
                scored_by,
            }
        })
        .collect()
}

pub use crate::attribution::DEFAULT_WINDOW;

fn ratio(successes: u64, trials: u64) -> Option<Rate> {
    rate(successes, trials).ok()
}

fn arm_of(name: &str) -> Option<Arm> {
    Arm::ALL.into_iter().find(|a| a.as_str() == name)
}

/// Builds the report.
pub fn report(store: &dyn FeedbackRead, range: Range, setup: &Setup) -> Result<Report, FeedbackError> {
    let (from, to) = (range.from, range.to);
    let mut events = 0u64;
    let rows = store
        .event_counts(from, to)?
        .into_iter()
        .map(|c| {
            events += c.events;
            Row {
                bundle_version: c.bundle_version,
                ctr: ratio(c.clicks, c.impressions),
                conversion_rate: ratio(c.conversions, c.impressions),
                offer: c.offer,
                treatment: c.treatment,
                slot: c.slot,
                channel: c.channel,
                impressions: c.impressions,
                clicks: c.clicks,
                conversions: c.conversions,
                dismisses: c.dismisses,
                revenue: c.revenue,
            }
        })
        .collect();
    let clients = store.client_outcomes(from, to)?;
    let arms = arms_report(&clients, &setup.arms);
    // Sales after the range still count for exposures inside it, within their window.
    let sales_rows = store.sales(from, to.saturating_add(attribution::longest(&setup.windows)))?;
    let exposures = store.exposures(from, to)?;
    let (offers, units) = offer_uplift(&exposures, &sales_rows, setup);
    let qini = (units.iter().any(|u| u.treated) && units.iter().any(|u| !u.treated))
        .then(|| QiniReport { qini: qini::score(&units, qini::Kind::Qini), auuc: qini::score(&units, qini::Kind::Uplift) });
    let arm_by_subject: HashMap<&str, &str> = clients.iter().map(|c| (c.subject.as_str(), c.arm.as_str())).collect();
    let per_arm: HashMap<&str, u64> = arms.arms.iter().map(|a| (a.arm.as_str(), a.clients)).collect();
    let mut days: BTreeMap<u64, [u64; 3]> = BTreeMap::new();
    let in_range: Vec<_> = sales_rows.iter().filter(|s| s.at < to).collect();
    for s in &in_range {
        if let Some(k) = arm_by_subject.get(s.subject.as_str()).and_then(|a| Arm::ALL.iter().position(|x| x.as_str() == *a)) {
            days.entry(s.at - s.at % 86_400).or_default()[k] += 1;
        }
    }
    let per_1000 = |n: u64, arm: Arm| per_arm.get(arm.as_str()).filter(|c| **c > 0).map_or(0.0, |c| 1000.0 * n as f64 / *c as f64);
    let timeline = days
        .into_iter()
        .map(|(day, [p, b, n])| Day {
            day,
            personalised: per_1000(p, Arm::Personalised),
            bau: per_1000(b, Arm::Bau),
            no_contact: per_1000(n, Arm::NoContact),
        })
        .collect();
    Ok(Report {
        range,
        rows,
        arms,
        offers,
        qini,
        timeline,
        bundle_versions: store.bundle_versions(from, to)?,
        events,
        sales: in_range.len() as u64,
        unexposed_sales: store.unexposed_sales(from, to)?,
        maturity: setup.maturity.clone(),
    })
}

fn arms_report(clients: &[crate::ClientOutcome], arms: &Arms) -> ArmsReport {
    let total = clients.iter().filter(|c| arm_of(&c.arm).is_some()).count() as u64;
    let rows: Vec<ArmRow> = Arm::ALL
        .into_iter()
        .map(|arm| {
            let mine: Vec<_> = clients.iter().filter(|c| c.arm == arm.as_str()).collect();
            let share = f64::from(arms.share(arm));
            ArmRow {
                arm,
                expected_share: share,
                clients: mine.len() as u64,
                sales: mine.iter().map(|c| c.sales).sum(),
                revenue: mine.iter().map(|c| c.revenue).sum(),
                contacts: mine.iter().map(|c| c.contacts).sum(),
                sales_per_client: mean(mine.iter().map(|c| c.sales as f64)),
                revenue_per_client: mean(mine.iter().map(|c| c.revenue)),
                contacts_per_client: mean(mine.iter().map(|c| c.contacts as f64)),
                // Arms are assigned per client, so the check counts clients, not visits.
                sample_ratio: if share > 0.0 && share < 1.0 { sample_ratio(mine.len() as u64, total, share).ok().flatten() } else { None },
            }
        })
        .collect();
    let compare = |against: Arm| {
        let (p, o) = (&rows[0], rows.iter().find(|r| r.arm == against).unwrap_or(&rows[0]));
        Comparison {
            against,
            sales_per_client: lift(&p.sales_per_client, &o.sales_per_client),
            revenue_per_client: lift(&p.revenue_per_client, &o.revenue_per_client),
        }
    };
    ArmsReport {
        vs_bau: compare(Arm::Bau),
        vs_no_contact: compare(Arm::NoContact),
        sample_ratio_mismatch: rows.iter().any(|r| r.sample_ratio.as_ref().is_some_and(|s| s.mismatch)),
        arms: rows,
    }
}

/// Per offer × channel × version: contacted (`personalised`) vs withheld (`no_contact`)
/// units, each the first exposure of a client to the offer in the range, followed for
/// the offer's window. Also the Qini units (uplift-scored exposures).
fn offer_uplift(exposures: &[crate::Exposure], sales: &[crate::SaleRow], setup: &Setup) -> (Vec<OfferUplift>, Vec<Unit>) {
    let by_client = Sales::new(sales);
    // (offer, channel, version) → [contacted, control] units of (sold, revenue).
    type Groups<'a> = BTreeMap<(&'a str, &'a str, u64), [Vec<(bool, f64)>; 2]>;
    let mut groups: Groups<'_> = BTreeMap::new();
    let mut seen: std::collections::HashSet<(&str, &str, &str, u64)> = std::collections::HashSet::new();
    let mut units = Vec::new();
    for e in exposures {
        let group = match (e.arm.as_str(), e.contacted) {
            ("personalised", true) => 0,
            ("no_contact", false) => 1,
            _ => continue,
        };
        // Exposures come ordered by subject, offer, time: the first one counts.
        if !seen.insert((e.subject.as_str(), e.offer.as_str(), e.channel.as_str(), e.bundle_version)) {
            continue;
        }
        let (sold, revenue) = by_client.within(&e.subject, &e.offer, e.at, attribution::window(&setup.windows, &e.offer));
        groups.entry((e.offer.as_str(), e.channel.as_str(), e.bundle_version)).or_default()[group].push((sold, revenue));
        if let Some(score) = e.uplift {
            units.push(Unit { score: f64::from(score), treated: group == 0, responded: sold });
        }
    }
    let offers = groups
        .into_iter()
        .map(|((offer, channel, version), [t, c])| {
            let sold = |v: &[(bool, f64)]| v.iter().filter(|x| x.0).count() as u64;
            let (nt, nc) = (t.len() as u64, c.len() as u64);
            let up = uplift(sold(&t), nt, sold(&c), nc).ok().flatten();
            let n = nt as f64;
            let incremental_sales = up.as_ref().map(|u| Estimate {
                value: u.absolute * n,
                ci95: Interval { low: u.absolute_ci95.low * n, high: u.absolute_ci95.high * n },
            });
            let (rt, rc) = (mean(t.iter().map(|x| x.1)), mean(c.iter().map(|x| x.1)));
            let incremental_revenue = (rt.n >= 2 && rc.n >= 2).then(|| {
                let d = rt.mean - rc.mean;
                let half = Z95 * (rt.var_of_mean + rc.var_of_mean).sqrt();
                Estimate { value: d * n, ci95: Interval { low: (d - half) * n, high: (d + half) * n } }
            });
            OfferUplift {
                offer: offer.to_string(),
                channel: channel.to_string(),
                bundle_version: version,
                window_secs: attribution::window(&setup.windows, offer),
                contacted: rate(sold(&t), nt).unwrap_or(Rate { successes: 0, trials: 0, rate: None, ci95: None }),
                control: rate(sold(&c), nc).unwrap_or(Rate { successes: 0, trials: 0, rate: None, ci95: None }),
                uplift: up,
                incremental_sales,
                incremental_revenue,
                attributed_sales: sold(&t),
                attributed_revenue: t.iter().map(|x| x.1).sum(),
            }
        })
        .collect();
    (offers, units)
}

/// The report's rows as CSV (one line per offer × treatment × slot × channel × version).
pub fn to_csv(report: &Report) -> String {
    let mut out = String::from("bundle_version,offer,treatment,slot,channel,impressions,clicks,conversions,dismisses,revenue,ctr,ctr_low,ctr_high,conversion_rate,conversion_low,conversion_high\n");
    let field = |s: &str| if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() };
    let rate = |r: &Option<Rate>| match r.as_ref().and_then(|r| Some((r.rate?, r.ci95?))) {
        Some((x, ci)) => format!("{x:.6},{:.6},{:.6}", ci.low, ci.high),
        None => ",,".to_string(),
    };
    for r in &report.rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{:.2},{},{}\n",
            r.bundle_version.map(|v| v.to_string()).unwrap_or_default(),
            field(&r.offer),
            field(&r.treatment),
            field(&r.slot),
            field(&r.channel),
            r.impressions,
            r.clicks,
            r.conversions,
            r.dismisses,
            r.revenue,
            rate(&r.ctr),
            rate(&r.conversion_rate)
        ));
    }
    out
}

/// The arms as CSV: one line per arm, then the two comparisons.
pub fn arms_csv(report: &Report) -> String {
    let ci = |m: &Mean| m.ci95.map_or(",".to_string(), |c| format!("{:.6},{:.6}", c.low, c.high));
    let mut out = String::from("arm,expected_share,clients,sales,revenue,contacts,sales_per_client,sales_low,sales_high,revenue_per_client,revenue_low,revenue_high,contacts_per_client,srm_p_value\n");
    for a in &report.arms.arms {
        out.push_str(&format!(
            "{},{:.4},{},{},{:.2},{},{:.6},{},{:.6},{},{:.6},{}\n",
            a.arm.as_str(),
            a.expected_share,
            a.clients,
            a.sales,
            a.revenue,
            a.contacts,
            a.sales_per_client.mean,
            ci(&a.sales_per_client),
            a.revenue_per_client.mean,
            ci(&a.revenue_per_client),
            a.contacts_per_client.mean,
            a.sample_ratio.as_ref().map(|s| format!("{:.6}", s.p_value)).unwrap_or_default()
        ));
    }
    out.push_str("\ncomparison,measure,absolute,absolute_low,absolute_high,relative,relative_low,relative_high\n");
    for c in [&report.arms.vs_bau, &report.arms.vs_no_contact] {
        for (measure, l) in [("sales_per_client", &c.sales_per_client), ("revenue_per_client", &c.revenue_per_client)] {
            let Some(l) = l else { continue };
            let rel = match (l.relative, l.relative_ci95) {
                (Some(r), Some(ci)) => format!("{r:.6},{:.6},{:.6}", ci.low, ci.high),
                _ => ",,".into(),
            };
            out.push_str(&format!(
                "personalised_vs_{},{measure},{:.6},{:.6},{:.6},{rel}\n",
                c.against.as_str(),
                l.absolute,
                l.absolute_ci95.low,
                l.absolute_ci95.high
            ));
        }
    }
    out
}

/// The per-offer uplift as CSV: one line per offer × channel × bundle version.
pub fn offers_csv(report: &Report) -> String {
    let est = |e: &Option<Estimate>| e.map_or(",,".to_string(), |e| format!("{:.4},{:.4},{:.4}", e.value, e.ci95.low, e.ci95.high));
    let mut out = String::from("offer,channel,bundle_version,window_secs,contacted,contacted_sales,control,control_sales,uplift,uplift_low,uplift_high,incremental_sales,incremental_sales_low,incremental_sales_high,incremental_revenue,incremental_revenue_low,incremental_revenue_high\n");
    for o in &report.offers {
        let up = o
            .uplift
            .as_ref()
            .map_or(",,".to_string(), |u| format!("{:.6},{:.6},{:.6}", u.absolute, u.absolute_ci95.low, u.absolute_ci95.high));
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{up},{},{}\n",
            o.offer,
            o.channel,
            o.bundle_version,
            o.window_secs,
            o.contacted.trials,
            o.contacted.successes,
            o.control.trials,
            o.control.successes,
            est(&o.incremental_sales),
            est(&o.incremental_revenue)
        ));
    }
    out
}

#[cfg(test)]
mod tests;
