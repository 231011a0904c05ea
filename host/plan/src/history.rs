//! `--history`: each client's past contacts and responses from the host's feedback store
//! (page impressions from the server, edge and browser, earlier plans' and triggers'
//! sends at their send time, clicks, conversions, dismissals), read once for the whole
//! base and handed to each decision as its contact history, so the bundle's caps and
//! suppression and the plan's own `max_contacts` and `min_gap_days` hold across channels
//! and across plans.
use std::collections::HashMap;
use std::path::Path;

use vitrine_engine::bundle::Bundle;
use vitrine_engine::decision::HistoryEntry;
use vitrine_engine::policy::{CapScope, HistoryKind};
use vitrine_feedback::FeedbackRead;

use crate::config::{PlanConfig, MAX_DAYS};
use crate::PlanError;

/// An entry naming an offer the bundle no longer has (it still counts for its channel).
const GONE: u16 = u16::MAX;

/// One past contact or response, 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    at: u64,
    offer: u16,
    channel: u8,
    kind: HistoryKind,
}

/// The base's history, by client subject.
#[derive(Debug, Default)]
pub struct History {
    by_subject: HashMap<[u8; 16], Vec<Entry>>,
    /// Offer ids of the bundle (entries hold indices).
    offers: Vec<String>,
    channels: Vec<String>,
    pub rows: u64,
}

/// What a client's history means for the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientHistory {
    /// The engine's contact history: entries up to the window's start, the latest
    /// `max_history`.
    pub entries: Vec<HistoryEntry>,
    /// Days before the window with a contact on a planned channel (bit `j`: day `j - 56`).
    pub prior: u64,
    /// Days of the window already holding a send (an earlier plan's that reaches into it).
    pub booked: u64,
    /// Send hour from the client's responses (the hour of day of most of its clicks and
    /// conversions), if it has any.
    pub hour: Option<u8>,
}

impl History {
    /// Reads `[start - history_days, end of window)` from the store at `path`, checked
    /// against `bundle`: a store whose decisions all come from other bundles, or that
    /// names a channel the schema lacks, is refused.
    pub fn load(path: &Path, bundle: &Bundle, config: &PlanConfig) -> Result<History, PlanError> {
        let bad = |reason: String| PlanError::History { path: path.to_path_buf(), reason };
        if !path.is_file() {
            return Err(bad("no such feedback store".into()));
        }
        let store = vitrine_feedback::SqliteStore::open_reader(path)?;
        let names = store.bundle_names()?;
        if !names.is_empty() && !names.contains(&bundle.name) {
            return Err(bad(format!(
                "its decisions come from bundle(s) {} and none from `{}`: the history of another bundle's clients and schema",
                names.join(", "),
                bundle.name
            )));
        }
        let now = config.now();
        let from = now.saturating_sub(u64::from(config.history_days) * 86_400);
        let to = now.saturating_add(u64::from(config.days) * 86_400);
        let offers: Vec<String> = bundle.offers.iter().map(|o| o.id.clone()).collect();
        let index: HashMap<&str, u16> = offers.iter().enumerate().map(|(i, o)| (o.as_str(), i as u16)).collect();
        let mut h = History { offers: offers.clone(), channels: bundle.schema.channels.clone(), ..History::default() };
        // Rows stream in and are kept as 16-byte entries; the first bad one stops the read.
        let mut refused: Option<String> = None;
        store.each_contact(from, to, &mut |r| {
            if refused.is_some() {
                return;
            }
            let Some(subject) = vitrine_base::hex::decode::<16>(&r.subject) else {
                refused = Some(format!("subject `{}` is not a 16-byte pseudonym: not a store of this host's clients", r.subject));
                return;
            };
            let Some(channel) = bundle.schema.channel(&r.channel) else {
                refused = Some(format!(
                    "channel `{}` is not a channel of the bundle's schema ({}): the history of another schema",
                    r.channel,
                    bundle.schema.channels.join(", ")
                ));
                return;
            };
            let kind = r.kind;
            let offer = index.get(r.offer.as_str()).copied().unwrap_or(GONE);
            h.by_subject.entry(subject).or_default().push(Entry { at: r.at, offer, channel: channel as u8, kind });
            h.rows += 1;
        })?;
        if let Some(reason) = refused {
            return Err(bad(reason));
        }
        Ok(h)
    }

    /// The history of the client `subject`, for a plan starting at `config.now()`.
    pub fn client(&self, subject: &[u8; 16], config: &PlanConfig, max_entries: usize) -> ClientHistory {
        let Some(entries) = self.by_subject.get(subject) else {
            return ClientHistory { entries: Vec::new(), prior: 0, booked: 0, hour: None };
        };
        let now = config.now();
        let planned = |ch: u8| config.channels.iter().any(|c| self.channels.get(ch as usize) == Some(&c.name));
        let (mut prior, mut booked) = (0u64, 0u64);
        let mut hours = [0u32; 24];
        for e in entries {
            if matches!(e.kind, HistoryKind::Click | HistoryKind::Conversion) {
                hours[((e.at % 86_400) / 3_600) as usize] += 1;
            }
            if !matches!(e.kind, HistoryKind::Impression | HistoryKind::Contact) || !planned(e.channel) {
                continue;
            }
            let day = (e.at / 86_400) as i64 - config.start_day;
            if (-(MAX_DAYS as i64)..0).contains(&day) {
                prior |= 1 << (day + MAX_DAYS as i64);
            } else if (0..config.days as i64).contains(&day) {
                booked |= 1 << day;
            }
        }
        // Entries are by time: the latest `max_entries` up to the window's start.
        let past: Vec<&Entry> = entries.iter().filter(|e| e.at <= now).collect();
        let keep = &past[past.len().saturating_sub(max_entries)..];
        let entries = keep
            .iter()
            .map(|e| HistoryEntry {
                offer: match self.offers.get(e.offer as usize) {
                    Some(o) => o.clone(),
                    None => String::new(),
                },
                channel: self.channels.get(e.channel as usize).cloned(),
                kind: e.kind,
                at: e.at,
            })
            .collect();
        let best = hours.iter().enumerate().max_by_key(|(h, n)| (**n, std::cmp::Reverse(*h)));
        let hour = best.filter(|(_, n)| **n > 0).map(|(h, _)| h as u8);
        ClientHistory { entries, prior, booked, hour }
    }

    /// Contacts a client may still get in the window for each cap scope of `offer` on
    /// channel `ch`: `[offer, category, channel]`, 255 for no limit. Counts every contact
    /// of the history within the cap's window before the start and every send already
    /// booked in the window, so a room of `r` keeps every rolling window of the cap
    /// within its maximum whatever days the plan picks.
    pub fn rooms(&self, subject: &[u8; 16], bundle: &Bundle, categories: &[u16], offer: u16, ch: u8, now: u64) -> [u8; 3] {
        let mut room = [u8::MAX; 3];
        let entries = self.by_subject.get(subject).map_or(&[][..], Vec::as_slice);
        let contacts = |window: u64, f: &dyn Fn(&Entry) -> bool| -> u64 {
            entries
                .iter()
                .filter(|e| matches!(e.kind, HistoryKind::Impression | HistoryKind::Contact))
                .filter(|e| e.at >= now.saturating_sub(window))
                .filter(|e| f(e))
                .count() as u64
        };
        let left = |max: u16, used: u64| (u64::from(max).saturating_sub(used)).min(254) as u8;
        let o = &bundle.offers[offer as usize];
        let category = categories[offer as usize];
        for cap in &o.caps {
            let (i, used) = match cap.scope {
                CapScope::Offer => (0, contacts(cap.window_secs, &|e| e.offer == offer)),
                CapScope::Category => {
                    (1, contacts(cap.window_secs, &|e| e.offer != GONE && categories.get(e.offer as usize) == Some(&category)))
                }
            };
            room[i] = room[i].min(left(cap.max, used));
        }
        if let Some(s) = &bundle.policy.suppression {
            let clicked =
                entries.iter().any(|e| e.offer == offer && e.kind == HistoryKind::Click && e.at >= now.saturating_sub(s.window_secs));
            if !clicked && s.after_impressions > 0 {
                room[0] = room[0].min(left(s.after_impressions, contacts(s.window_secs, &|e| e.offer == offer)));
            }
        }
        for cap in bundle.policy.channel_caps.iter().filter(|c| c.channel == ch) {
            room[2] = room[2].min(left(cap.max, contacts(cap.window_secs, &|e| e.channel == ch)));
        }
        room
    }
}
