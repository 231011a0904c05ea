//! The embedded default store: SQLite in WAL mode with `synchronous = FULL`, so a
//! committed transaction is on disk (fsynced) before [`FeedbackStore::write`] returns.
use std::path::Path;

use rusqlite::{params, Connection};

mod read;

use crate::event::{Event, LoggedDecision, Outcome, Sale};
use crate::{FeedbackError, FeedbackStore};

/// SQLite feedback store.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS decisions (
    decision_id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    bundle TEXT NOT NULL,
    bundle_version INTEGER NOT NULL,
    arm TEXT,
    mode TEXT NOT NULL,
    subject TEXT,
    source TEXT NOT NULL,
    record TEXT NOT NULL,
    request TEXT
);
CREATE INDEX IF NOT EXISTS decisions_at ON decisions(at);
CREATE INDEX IF NOT EXISTS decisions_subject ON decisions(subject);
CREATE TABLE IF NOT EXISTS shown (
    decision_id TEXT NOT NULL,
    slot TEXT NOT NULL,
    rank INTEGER NOT NULL,
    channel TEXT NOT NULL,
    offer TEXT NOT NULL,
    treatment TEXT NOT NULL,
    selection_probability REAL NOT NULL,
    uplift REAL,
    sent_at INTEGER,
    PRIMARY KEY (decision_id, slot, rank)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS withheld (
    decision_id TEXT NOT NULL,
    slot TEXT NOT NULL,
    channel TEXT NOT NULL,
    offer TEXT NOT NULL,
    uplift REAL NOT NULL,
    PRIMARY KEY (decision_id, slot, offer)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sales (
    event_id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    offer TEXT NOT NULL,
    at INTEGER NOT NULL,
    value REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sales_subject ON sales(subject, at);
CREATE INDEX IF NOT EXISTS sales_at ON sales(at);
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    decision_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    offer TEXT NOT NULL,
    treatment TEXT NOT NULL,
    slot TEXT NOT NULL,
    channel TEXT NOT NULL,
    at INTEGER NOT NULL,
    value REAL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_decision ON events(decision_id, kind, offer);
CREATE INDEX IF NOT EXISTS events_at ON events(at);
";

impl SqliteStore {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, FeedbackError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| FeedbackError::Io(format!("{}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&conn)?;
        conn.execute_batch(SCHEMA)?;
        Ok(SqliteStore { conn })
    }

    /// A second, read-only store for readers (WAL lets it read while the writer writes).
    pub fn open_reader(path: &Path) -> Result<SqliteStore, FeedbackError> {
        let conn =
            Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(SqliteStore { conn })
    }
}

/// Stores written before the experiment arms had a `holdout` flag: it becomes the `bau`
/// arm (the holdout saw the non-personalised ranking), other clients `personalised`;
/// `shown` gains its `uplift` column. One transaction.
fn migrate(conn: &Connection) -> Result<(), FeedbackError> {
    let has = |table: &str, column: &str| -> Result<bool, FeedbackError> {
        let mut q = conn.prepare(&format!("SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"))?;
        Ok(q.exists([column])?)
    };
    if has("decisions", "holdout")? {
        conn.execute_batch(
            "BEGIN;
             ALTER TABLE decisions ADD COLUMN arm TEXT;
             UPDATE decisions SET arm = CASE WHEN holdout THEN 'bau' WHEN subject IS NOT NULL THEN 'personalised' END,
                                  mode = CASE WHEN mode = 'holdout' THEN 'bau' ELSE mode END;
             ALTER TABLE decisions DROP COLUMN holdout;
             COMMIT;",
        )?;
    }
    if has("shown", "selection_probability")? && !has("shown", "uplift")? {
        conn.execute_batch("ALTER TABLE shown ADD COLUMN uplift REAL;")?;
    }
    if has("shown", "selection_probability")? && !has("shown", "sent_at")? {
        conn.execute_batch("ALTER TABLE shown ADD COLUMN sent_at INTEGER;")?;
    }
    Ok(())
}

fn insert_decision(tx: &rusqlite::Transaction<'_>, d: &LoggedDecision) -> Result<(), FeedbackError> {
    let r = &d.record;
    let record = serde_json::to_string(r).map_err(|e| FeedbackError::Corrupt(e.to_string()))?;
    let arm = r.arm.map(|a| a.as_str());
    let n = tx.prepare_cached("INSERT OR IGNORE INTO decisions (decision_id, at, bundle, bundle_version, arm, mode, subject, source, record, request) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")?
        .execute(params![r.decision_id, r.now as i64, r.bundle, r.bundle_version as i64, arm, d.mode, r.subject, d.source, record, d.request])?;
    let mut shown = tx.prepare_cached("INSERT OR IGNORE INTO shown (decision_id, slot, rank, channel, offer, treatment, selection_probability, uplift, sent_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")?;
    for s in &d.shown {
        let sent_at = s.sent_at.map(|t| i64::try_from(t).unwrap_or(i64::MAX));
        shown.execute(params![
            r.decision_id,
            s.slot,
            s.rank,
            s.channel,
            s.offer,
            s.treatment,
            s.selection_probability,
            s.uplift,
            sent_at
        ])?;
    }
    if n == 1 {
        let mut withheld =
            tx.prepare_cached("INSERT OR IGNORE INTO withheld (decision_id, slot, channel, offer, uplift) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for w in &r.withheld {
            withheld.execute(params![r.decision_id, w.slot, w.channel, w.offer, w.uplift])?;
        }
    }
    Ok(())
}

/// The mode a record implies (edge records carry no mode of their own).
pub(crate) fn mode_of(record: &vitrine_engine::decision::DecisionRecord) -> &'static str {
    use vitrine_engine::policy::Arm;
    match record.arm {
        None => "anonymous",
        Some(Arm::NoContact) => "no_contact",
        Some(_) if !record.consent.profiling => "no_profiling_consent",
        Some(Arm::Bau) => "bau",
        Some(Arm::Personalised) => "personalised",
    }
}

impl FeedbackStore for SqliteStore {
    fn write(&mut self, events: &[Event], sales: &[Sale], decisions: &[LoggedDecision]) -> Result<Vec<Outcome>, FeedbackError> {
        let tx = self.conn.transaction()?;
        for d in decisions {
            insert_decision(&tx, d)?;
        }
        let mut outcomes = Vec::with_capacity(events.len());
        {
            let mut insert = tx.prepare_cached("INSERT OR IGNORE INTO events (event_id, decision_id, kind, offer, treatment, slot, channel, at, value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")?;
            for e in events {
                let n = insert.execute(params![
                    e.event_id,
                    e.decision_id,
                    e.kind.as_str(),
                    e.offer,
                    e.treatment,
                    e.slot,
                    e.channel,
                    e.at as i64,
                    e.value
                ])?;
                outcomes.push(if n == 1 { Outcome::Stored } else { Outcome::Duplicate });
            }
            let mut insert =
                tx.prepare_cached("INSERT OR IGNORE INTO sales (event_id, subject, offer, at, value) VALUES (?1, ?2, ?3, ?4, ?5)")?;
            for s in sales {
                let n = insert.execute(params![s.event_id, s.subject, s.offer, s.at as i64, s.value])?;
                outcomes.push(if n == 1 { Outcome::Stored } else { Outcome::Duplicate });
            }
        }
        for e in events {
            if let Some(record) = &e.record {
                let shown = e.selection_probability.map(|p| crate::Shown {
                    slot: e.slot.clone(),
                    channel: e.channel.clone(),
                    rank: e.rank.unwrap_or(1),
                    offer: e.offer.clone(),
                    treatment: e.treatment.clone(),
                    selection_probability: p,
                    uplift: e.uplift,
                    sent_at: None,
                });
                insert_decision(
                    &tx,
                    &LoggedDecision {
                        record: record.clone(),
                        mode: mode_of(record).to_string(),
                        shown: shown.into_iter().collect(),
                        request: None,
                        source: "edge".into(),
                    },
                )?;
            }
        }
        tx.commit()?;
        Ok(outcomes)
    }
}
