//! Contact pressure: caps and suppression from the contact history in the request.
use serde::{Deserialize, Serialize};

/// What happened in a past contact.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HistoryKind {
    Impression,
    Contact,
    Click,
    Conversion,
    Dismiss,
}

impl HistoryKind {
    fn is_contact(self) -> bool {
        matches!(self, HistoryKind::Impression | HistoryKind::Contact)
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    offer: Option<u16>,
    category: Option<u16>,
    channel: Option<u8>,
    kind: HistoryKind,
    at: u64,
}

/// The request's history, resolved to bundle indices. Entries naming offers the
/// bundle no longer has still count for their channel.
#[derive(Debug, Clone, Default)]
pub struct ContactBook {
    entries: Vec<Entry>,
    now: u64,
}

impl ContactBook {
    pub fn new(now: u64) -> Self {
        ContactBook { entries: Vec::new(), now }
    }

    pub fn clear(&mut self, now: u64) {
        self.entries.clear();
        self.now = now;
    }

    pub fn push(&mut self, offer: Option<u16>, category: Option<u16>, channel: Option<u8>, kind: HistoryKind, at: u64) {
        self.entries.push(Entry { offer, category, channel, kind, at });
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn within(&self, at: u64, window: u64) -> bool {
        at <= self.now && self.now - at < window
    }

    fn count(&self, window: u64, f: impl Fn(&Entry) -> bool) -> usize {
        self.entries.iter().filter(|e| e.kind.is_contact() && self.within(e.at, window) && f(e)).count()
    }

    /// Contacts with offer `o` within `window` seconds.
    pub fn offer_contacts(&self, o: u16, window: u64) -> usize {
        self.count(window, |e| e.offer == Some(o))
    }

    /// Contacts with any offer of category `c` within `window` seconds.
    pub fn category_contacts(&self, c: u16, window: u64) -> usize {
        self.count(window, |e| e.category == Some(c))
    }

    /// Contacts on channel `ch` within `window` seconds.
    pub fn channel_contacts(&self, ch: u8, window: u64) -> usize {
        self.count(window, |e| e.channel == Some(ch))
    }

    /// `after` or more impressions of `o` within `window` and no click on it there.
    pub fn suppressed(&self, o: u16, after: u16, window: u64) -> bool {
        let clicked = self.entries.iter().any(|e| e.offer == Some(o) && e.kind == HistoryKind::Click && self.within(e.at, window));
        !clicked && after > 0 && self.offer_contacts(o, window) >= after as usize
    }
}
