//! The SQLite store's reads ([`FeedbackRead`]).
use rusqlite::params;

use super::SqliteStore;
use crate::store::{
    ClientOutcome, ContactRow, DecisionOffer, EventCounts, Exposure, FeedbackRead, FirstPick, LoggedRequest, OfferCounts, Response, SaleRow,
};
use crate::FeedbackError;

fn count(v: i64) -> u64 {
    v.max(0) as u64
}

/// SQLite integers are signed; times beyond `i64::MAX` clamp.
fn at(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

/// A row of the contact-history queries (subject, offer, channel, kind, time).
fn contact_row(r: &rusqlite::Row<'_>) -> Result<ContactRow, FeedbackError> {
    use vitrine_engine::policy::HistoryKind;
    let text: String = r.get(3)?;
    let kind = match text.as_str() {
        "impression" => HistoryKind::Impression,
        "contact" => HistoryKind::Contact,
        "click" => HistoryKind::Click,
        "conversion" => HistoryKind::Conversion,
        "dismiss" => HistoryKind::Dismiss,
        other => return Err(FeedbackError::Corrupt(format!("history kind `{other}`"))),
    };
    Ok(ContactRow { subject: r.get(0)?, offer: r.get(1)?, channel: r.get(2)?, kind, at: count(r.get(4)?) })
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

    fn client_outcomes(&self, from: u64, to: u64) -> Result<Vec<ClientOutcome>, FeedbackError> {
        let mut q = self.conn.prepare_cached(
            "WITH c AS (
                SELECT subject, COUNT(*) AS decisions,
                       (SELECT arm FROM decisions l WHERE l.subject = d.subject AND l.at >= ?1 AND l.at < ?2 AND l.arm IS NOT NULL
                        ORDER BY l.at DESC, l.decision_id DESC LIMIT 1) AS arm,
                       (SELECT COUNT(*) FROM shown s JOIN decisions x ON x.decision_id = s.decision_id
                        WHERE x.subject = d.subject AND x.at >= ?1 AND x.at < ?2) AS contacts
                FROM decisions d WHERE at >= ?1 AND at < ?2 AND subject IS NOT NULL AND arm IS NOT NULL GROUP BY subject)
             SELECT c.subject, c.arm, c.decisions, c.contacts,
                    (SELECT COUNT(*) FROM sales s WHERE s.subject = c.subject AND s.at >= ?1 AND s.at < ?2),
                    (SELECT TOTAL(value) FROM sales s WHERE s.subject = c.subject AND s.at >= ?1 AND s.at < ?2)
             FROM c ORDER BY c.subject",
        )?;
        let rows = q.query_map(params![at(from), at(to)], |r| {
            Ok(ClientOutcome {
                subject: r.get(0)?,
                arm: r.get(1)?,
                decisions: count(r.get(2)?),
                contacts: count(r.get(3)?),
                sales: count(r.get(4)?),
                revenue: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn exposures(&self, from: u64, to: u64) -> Result<Vec<Exposure>, FeedbackError> {
        let mut q = self.conn.prepare_cached(
            "SELECT d.subject, d.arm, s.offer, s.channel, d.bundle_version, COALESCE(s.sent_at, d.at), 1, s.uplift
             FROM shown s JOIN decisions d ON d.decision_id = s.decision_id
             WHERE d.at >= ?1 AND d.at < ?2 AND d.subject IS NOT NULL AND d.arm IS NOT NULL
             UNION ALL
             SELECT d.subject, d.arm, w.offer, w.channel, d.bundle_version, d.at, 0, w.uplift
             FROM withheld w JOIN decisions d ON d.decision_id = w.decision_id
             WHERE d.at >= ?1 AND d.at < ?2 AND d.subject IS NOT NULL AND d.arm IS NOT NULL
             ORDER BY 1, 3, 6",
        )?;
        let rows = q.query_map(params![at(from), at(to)], |r| {
            Ok(Exposure {
                subject: r.get(0)?,
                arm: r.get(1)?,
                offer: r.get(2)?,
                channel: r.get(3)?,
                bundle_version: count(r.get(4)?),
                at: count(r.get(5)?),
                contacted: r.get(6)?,
                uplift: r.get::<_, Option<f64>>(7)?.map(|x| x as f32),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn each_contact(&self, from: u64, to: u64, f: &mut dyn FnMut(ContactRow)) -> Result<(), FeedbackError> {
        let mut q = self.conn.prepare_cached(
            "SELECT d.subject, s.offer, s.channel, CASE WHEN s.sent_at IS NOT NULL THEN 'contact' ELSE 'impression' END,
                    COALESCE(s.sent_at, d.at) AS t
             FROM shown s JOIN decisions d ON d.decision_id = s.decision_id
             WHERE d.at >= ?3 AND d.at < ?2 AND d.subject IS NOT NULL AND COALESCE(s.sent_at, d.at) >= ?1 AND COALESCE(s.sent_at, d.at) < ?2
             UNION ALL
             SELECT d.subject, e.offer, e.channel, e.kind, e.at
             FROM events e JOIN decisions d ON d.decision_id = e.decision_id
             WHERE e.at >= ?1 AND e.at < ?2 AND e.kind IN ('click', 'conversion', 'dismiss') AND d.subject IS NOT NULL
             ORDER BY 1, 5, 2, 4",
        )?;
        let lead_from = from.saturating_sub(crate::store::MAX_SEND_LEAD);
        let mut rows = q.query(params![at(from), at(to), at(lead_from)])?;
        while let Some(r) = rows.next()? {
            f(contact_row(r)?);
        }
        Ok(())
    }

    fn client_history(&self, subject: &str, from: u64, to: u64) -> Result<Vec<ContactRow>, FeedbackError> {
        let mut q = self.conn.prepare_cached(
            "SELECT d.subject, s.offer, s.channel, CASE WHEN s.sent_at IS NOT NULL THEN 'contact' ELSE 'impression' END,
                    COALESCE(s.sent_at, d.at) AS t
             FROM decisions d JOIN shown s ON s.decision_id = d.decision_id
             WHERE d.subject = ?4 AND d.at >= ?3 AND d.at < ?2 AND COALESCE(s.sent_at, d.at) >= ?1 AND COALESCE(s.sent_at, d.at) < ?2
             UNION ALL
             SELECT d.subject, e.offer, e.channel, e.kind, e.at
             FROM decisions d JOIN events e ON e.decision_id = d.decision_id
             WHERE d.subject = ?4 AND e.at >= ?1 AND e.at < ?2 AND e.kind IN ('click', 'conversion', 'dismiss')
             ORDER BY 5, 2, 4",
        )?;
        let lead_from = from.saturating_sub(crate::store::MAX_SEND_LEAD);
        let mut rows = q.query(params![at(from), at(to), at(lead_from), subject])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(contact_row(r)?);
        }
        Ok(out)
    }

    fn bundle_names(&self) -> Result<Vec<String>, FeedbackError> {
        let mut q = self.conn.prepare_cached("SELECT DISTINCT bundle FROM decisions ORDER BY 1")?;
        let rows = q.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn sales(&self, from: u64, to: u64) -> Result<Vec<SaleRow>, FeedbackError> {
        let mut q = self
            .conn
            .prepare_cached("SELECT subject, offer, at, value FROM sales WHERE at >= ?1 AND at < ?2 ORDER BY subject, offer, at")?;
        let rows = q.query_map(params![at(from), at(to)], |r| {
            Ok(SaleRow { subject: r.get(0)?, offer: r.get(1)?, at: count(r.get(2)?), value: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn decision_offers(&self, from: u64, to: u64) -> Result<Vec<DecisionOffer>, FeedbackError> {
        let mut q = self.conn.prepare_cached(
            // The record's snapshot hash is read once per decision (a materialised view),
            // not once per offer row: parsing the record is most of this query's time.
            "WITH d AS MATERIALIZED (
                 SELECT decision_id, at, bundle_version, subject, arm, mode, source, json_extract(record, '$.snapshot_hash') AS snapshot_hash
                 FROM decisions WHERE at >= ?1 AND at < ?2)
             SELECT d.decision_id, d.at, d.bundle_version, d.subject, d.arm, d.mode, d.source, d.snapshot_hash,
                    s.slot, s.channel, s.offer, s.rank, s.selection_probability, s.uplift
             FROM d JOIN shown s ON s.decision_id = d.decision_id
             UNION ALL
             SELECT d.decision_id, d.at, d.bundle_version, d.subject, d.arm, d.mode, d.source, d.snapshot_hash,
                    w.slot, w.channel, w.offer, 0, NULL, w.uplift
             FROM d JOIN withheld w ON w.decision_id = d.decision_id",
        )?;
        let rows = q.query_map(params![at(from), at(to)], |r| {
            Ok(DecisionOffer {
                decision_id: r.get(0)?,
                at: count(r.get(1)?),
                bundle_version: count(r.get(2)?),
                subject: r.get(3)?,
                arm: r.get(4)?,
                mode: r.get(5)?,
                source: r.get(6)?,
                snapshot_hash: r.get(7)?,
                slot: r.get(8)?,
                channel: r.get(9)?,
                offer: r.get(10)?,
                rank: u8::try_from(r.get::<_, i64>(11)?).unwrap_or(0),
                selection_probability: r.get(12)?,
                uplift: r.get::<_, Option<f64>>(13)?.map(|x| x as f32),
            })
        })?;
        let mut out: Vec<DecisionOffer> = rows.collect::<Result<_, _>>()?;
        // By time, decision, slot, rank (withheld first), offer: sorted here, faster than
        // SQLite's sorter over the joined rows.
        out.sort_unstable_by(|a, b| {
            (a.at, &a.decision_id, &a.slot, a.rank, &a.offer).cmp(&(b.at, &b.decision_id, &b.slot, b.rank, &b.offer))
        });
        Ok(out)
    }

    fn responses(&self, from: u64) -> Result<Vec<Response>, FeedbackError> {
        let mut q = self.conn.prepare_cached(
            "SELECT decision_id, offer, kind, at, value FROM events WHERE at >= ?1 AND kind IN ('click', 'conversion') ORDER BY decision_id, offer, at",
        )?;
        let rows = q.query_map(params![at(from)], |r| {
            Ok(Response { decision_id: r.get(0)?, offer: r.get(1)?, kind: r.get(2)?, at: count(r.get(3)?), value: r.get(4)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn unexposed_sales(&self, from: u64, to: u64) -> Result<u64, FeedbackError> {
        let mut q = self.conn.prepare_cached(
            "SELECT COUNT(*) FROM sales s WHERE s.at >= ?1 AND s.at < ?2
             AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.subject = s.subject)",
        )?;
        Ok(count(q.query_row(params![at(from), at(to)], |r| r.get(0))?))
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

    fn logged_requests(&self, since: u64, keep: &dyn Fn(&str) -> bool) -> Result<Vec<LoggedRequest>, FeedbackError> {
        let mut q = self.conn.prepare_cached("SELECT decision_id, request FROM decisions WHERE at >= ?1 ORDER BY at, decision_id")?;
        let mut rows = q.query(params![at(since)])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let id = r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            if keep(id) {
                out.push(LoggedRequest { decision_id: id.to_string(), request: r.get(1)? });
            }
        }
        Ok(out)
    }

    fn first_picks(&self, since: u64) -> Result<Vec<FirstPick>, FeedbackError> {
        let mut q = self.conn.prepare_cached(
            "SELECT s.decision_id, s.slot, s.offer, s.selection_probability FROM shown s JOIN decisions d ON d.decision_id = s.decision_id
             WHERE d.at >= ?1 AND s.rank = 1 ORDER BY s.decision_id, s.slot",
        )?;
        let rows = q.query_map(params![at(since)], |r| {
            Ok(FirstPick { decision_id: r.get(0)?, slot: r.get(1)?, offer: r.get(2)?, selection_probability: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn rewarded(&self, since: u64, kind: &str) -> Result<Vec<(String, String)>, FeedbackError> {
        let mut q = self.conn.prepare_cached(
            "SELECT DISTINCT e.decision_id, e.offer FROM events e JOIN decisions d ON d.decision_id = e.decision_id WHERE d.at >= ?1 AND e.kind = ?2",
        )?;
        let rows = q.query_map(params![at(since), kind], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
