//! Measured performance: per offer × treatment × slot/channel × bundle version counts
//! with Wilson intervals, uplift of personalised decisions over the holdout with a
//! sample-ratio check, and a daily uplift timeline. Reads the store through [`FeedbackRead`].
use serde::Serialize;

use crate::measure::stats::{rate, sample_ratio, uplift, Rate, SampleRatio, Uplift};
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

/// Personalised vs holdout decisions.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct UpliftReport {
    pub treated_decisions: u64,
    pub holdout_decisions: u64,
    /// Share of decisions with at least one click.
    pub click: Option<Uplift>,
    /// Share of decisions with at least one conversion.
    pub conversion: Option<Uplift>,
    /// The holdout share against the bundle's declared one.
    pub sample_ratio: Option<SampleRatio>,
}

/// One day of the uplift timeline.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Day {
    /// Unix seconds of the day's start (UTC).
    pub day: u64,
    pub treated: Rate,
    pub holdout: Rate,
}

/// The whole report.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Report {
    pub range: Range,
    pub rows: Vec<Row>,
    pub uplift: UpliftReport,
    pub timeline: Vec<Day>,
    pub bundle_versions: Vec<u64>,
    pub events: u64,
}

fn ratio(successes: u64, trials: u64) -> Option<Rate> {
    rate(successes, trials).ok()
}

/// Builds the report; `holdout_share` is the current bundle's declared holdout share.
pub fn report(store: &dyn FeedbackRead, range: Range, holdout_share: f64) -> Result<Report, FeedbackError> {
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
    // Per decision: did it get a click / a conversion? Only decisions that could be in
    // either group (personalised or holdout) are compared.
    let mut counts = [[0u64; 3]; 2]; // [holdout][decisions, clicked, converted]
    let mut days: std::collections::BTreeMap<u64, [[u64; 2]; 2]> = std::collections::BTreeMap::new();
    for d in store.decision_outcomes(from, to)? {
        let holdout = usize::from(d.holdout);
        counts[holdout][0] += 1;
        counts[holdout][1] += u64::from(d.clicked);
        counts[holdout][2] += u64::from(d.converted);
        let day = days.entry(d.at - d.at % 86_400).or_default();
        day[holdout][0] += 1;
        day[holdout][1] += u64::from(d.converted);
    }
    let [t, h] = counts;
    let uplift_report = UpliftReport {
        treated_decisions: t[0],
        holdout_decisions: h[0],
        click: uplift(t[1], t[0], h[1], h[0]).ok().flatten(),
        conversion: uplift(t[2], t[0], h[2], h[0]).ok().flatten(),
        // The holdout is assigned per client, so the sample-ratio check counts clients,
        // not decisions (a client's repeat visits are not independent draws, and counting
        // them would flag mismatches that are not there).
        sample_ratio: if holdout_share > 0.0 && holdout_share < 1.0 {
            let (control, clients) = store.assigned_clients(from, to)?;
            sample_ratio(control, clients, holdout_share).ok().flatten()
        } else {
            None
        },
    };
    let timeline =
        days.into_iter().filter_map(|(day, [t, h])| Some(Day { day, treated: ratio(t[1], t[0])?, holdout: ratio(h[1], h[0])? })).collect();
    let bundle_versions = store.bundle_versions(from, to)?;
    Ok(Report { range, rows, uplift: uplift_report, timeline, bundle_versions, events })
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

#[cfg(test)]
mod tests {
    use vitrine_engine::decision::{ConsentState, DecisionRecord};

    use super::*;
    use crate::{FeedbackStore, LoggedDecision, SqliteStore};

    fn decision(id: usize, subject: usize, holdout: bool) -> LoggedDecision {
        LoggedDecision::from_edge(DecisionRecord {
            decision_id: format!("{id:032x}"),
            bundle: "b".into(),
            bundle_version: 1,
            bundle_hash: "h".into(),
            snapshot_hash: Some(format!("{subject:032x}")),
            subject: Some(format!("{subject:032x}")),
            seed: id as u64,
            now: 1_000 + id as u64,
            context: Default::default(),
            slots: Vec::new(),
            history_hash: "0".into(),
            consent: ConsentState { profiling: true, channels: Vec::new() },
            holdout,
            engine_version: "test".into(),
        })
    }

    #[test]
    fn the_sample_ratio_counts_clients_not_visits() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("f.sqlite")).unwrap();
        // 100 clients, 10 of them in the holdout (the declared 10%); the holdout clients
        // come back 20 times each, the others once: 200 of 290 decisions are holdout.
        let mut decisions = Vec::new();
        for c in 0..100 {
            let visits = if c < 10 { 20 } else { 1 };
            for _ in 0..visits {
                decisions.push(decision(decisions.len(), c, c < 10));
            }
        }
        store.write(&[], &decisions).unwrap();
        let r = report(&store, Range { from: 0, to: 1_000_000 }, 0.1).unwrap();
        assert_eq!((r.uplift.holdout_decisions, r.uplift.treated_decisions), (200, 90));
        let s = r.uplift.sample_ratio.unwrap();
        assert_eq!((s.control, s.total), (10, 100));
        assert!(!s.mismatch, "{s:?}");
    }
}
