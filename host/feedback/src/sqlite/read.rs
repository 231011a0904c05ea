//! The SQLite store's reads ([`FeedbackRead`]).
use rusqlite::params;

use super::SqliteStore;
use crate::store::{DecisionOutcome, EventCounts, FeedbackRead, FirstPick, LoggedRequest, OfferCounts};
use crate::FeedbackError;

fn count(v: i64) -> u64 {
    v.max(0) as u64
}

/// SQLite integers are signed; times beyond `i64::MAX` clamp.
fn at(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

impl FeedbackRead for SqliteStore {
    fn event_counts(&self, from: u64, to: u64) -> Result<Vec<EventCounts>, FeedbackError> {
        let mut q = self.conn.prepare_cached(
            "SELECT d.bundle_version, e.offer, e.treatment, e.slot, e.channel,
                    SUM(e.kind = 'impression'), SUM(e.kind = 'click'), SUM(e.kind = 'conversion'), SUM(e.kind = 'dismiss'),
                    TOTAL(CASE WHEN e.kind = 'conversion' THEN e.value END), COUNT(*)
             FROM events e LEFT JOIN decisions d ON d.decision_id = e.decision_id
             WHERE e.at >= ?1 AND e.at < ?2
             GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5",
        )?;
        let rows = q.query_map(params![at(from), at(to)], |r| {
            let n = |i: usize| r.get::<_, i64>(i).map(count);
            Ok(EventCounts {
                bundle_version: r.get::<_, Option<i64>>(0)?.map(count),
                offer: r.get(1)?,
                treatment: r.get(2)?,
                slot: r.get(3)?,
                channel: r.get(4)?,
                impressions: n(5)?,
                clicks: n(6)?,
                conversions: n(7)?,
                dismisses: n(8)?,
                revenue: r.get(9)?,
                events: n(10)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn decision_outcomes(&self, from: u64, to: u64) -> Result<Vec<DecisionOutcome>, FeedbackError> {
        let mut q = self.conn.prepare_cached(
            "SELECT d.holdout, d.at,
                EXISTS (SELECT 1 FROM events c WHERE c.decision_id = d.decision_id AND c.kind = 'click'),
                EXISTS (SELECT 1 FROM events c WHERE c.decision_id = d.decision_id AND c.kind = 'conversion')
             FROM decisions d WHERE d.at >= ?1 AND d.at < ?2 AND d.mode IN ('personalised', 'holdout')",
        )?;
        let rows = q.query_map(params![at(from), at(to)], |r| {
            Ok(DecisionOutcome { holdout: r.get(0)?, at: count(r.get(1)?), clicked: r.get(2)?, converted: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn assigned_clients(&self, from: u64, to: u64) -> Result<(u64, u64), FeedbackError> {
        let mut q = self.conn.prepare_cached(
            "SELECT COUNT(DISTINCT CASE WHEN holdout THEN subject END), COUNT(DISTINCT subject)
             FROM decisions WHERE at >= ?1 AND at < ?2 AND mode IN ('personalised', 'holdout') AND subject IS NOT NULL",
        )?;
        let (control, total): (i64, i64) = q.query_row(params![at(from), at(to)], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok((count(control), count(total)))
    }

    fn bundle_versions(&self, from: u64, to: u64) -> Result<Vec<u64>, FeedbackError> {
        let mut q = self.conn.prepare_cached("SELECT DISTINCT bundle_version FROM decisions WHERE at >= ?1 AND at < ?2 ORDER BY 1")?;
        let rows = q.query_map(params![at(from), at(to)], |r| r.get::<_, i64>(0).map(count))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn offer_counts(&self, since: u64, reward: &str) -> Result<Vec<OfferCounts>, FeedbackError> {
        let mut q = self.conn.prepare_cached(
            "SELECT offer, SUM(kind = 'impression'), COUNT(DISTINCT CASE WHEN kind = ?2 THEN decision_id END)
             FROM events WHERE at >= ?1 GROUP BY offer ORDER BY offer",
        )?;
        let rows = q.query_map(params![at(since), reward], |r| {
            Ok(OfferCounts { offer: r.get(0)?, impressions: count(r.get(1)?), successes: count(r.get(2)?) })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn logged_requests(&self, since: u64) -> Result<Vec<LoggedRequest>, FeedbackError> {
        let mut q = self.conn.prepare_cached("SELECT decision_id, request FROM decisions WHERE at >= ?1 ORDER BY at, decision_id")?;
        let rows = q.query_map(params![at(since)], |r| Ok(LoggedRequest { decision_id: r.get(0)?, request: r.get(1)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn first_picks(&self, decision: &str) -> Result<Vec<FirstPick>, FeedbackError> {
        let mut q = self
            .conn
            .prepare_cached("SELECT slot, offer, selection_probability FROM shown WHERE decision_id = ?1 AND rank = 1 ORDER BY slot")?;
        let rows = q.query_map([decision], |r| Ok(FirstPick { slot: r.get(0)?, offer: r.get(1)?, selection_probability: r.get(2)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn rewarded(&self, decision: &str, offer: &str, kind: &str) -> Result<bool, FeedbackError> {
        let mut q = self.conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM events WHERE decision_id = ?1 AND offer = ?2 AND kind = ?3)")?;
        Ok(q.query_row(params![decision, offer, kind], |r| r.get::<_, bool>(0))?)
    }
}
