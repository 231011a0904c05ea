//! The feedback store's contract: durable writes, and every read that measurement,
//! learning and replay make. They go through this trait and never issue SQL, so a
//! PostgreSQL store implements the same trait and everything above it works unchanged.
use crate::event::{Event, LoggedDecision, Outcome, Sale};
use crate::FeedbackError;

/// Event counts for one (bundle version, offer, treatment, slot, channel).
#[derive(Debug, Clone, PartialEq)]
pub struct EventCounts {
    /// The version of the decision the events refer to (`None`: decision not logged).
    pub bundle_version: Option<u64>,
    pub offer: String,
    pub treatment: String,
    pub slot: String,
    pub channel: String,
    pub impressions: u64,
    pub clicks: u64,
    pub conversions: u64,
    pub dismisses: u64,
    /// Sum of conversion values.
    pub revenue: f64,
    /// All events in the group.
    pub events: u64,
}

/// One client with a logged decision in the range: its arm and what it got.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientOutcome {
    pub subject: String,
    /// `personalised`, `bau` or `no_contact` (the arm of its latest decision).
    pub arm: String,
    pub decisions: u64,
    /// Offers shown or sent to it (every slot, every rank).
    pub contacts: u64,
    /// Its sales in the range, and their revenue.
    pub sales: u64,
    pub revenue: f64,
}

/// An offer put in front of a client (`contacted`), or withheld from a `no_contact`
/// client the personalised ranking would have shown it to.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    pub subject: String,
    pub arm: String,
    pub offer: String,
    pub channel: String,
    pub bundle_version: u64,
    pub at: u64,
    pub contacted: bool,
    /// The predicted uplift (uplift-scored offers).
    pub uplift: Option<f32>,
}

/// An offer a logged decision showed (`rank` ≥ 1) or withheld (`rank` 0, `no_contact`
/// arm), with what the decision record says about the client.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionOffer {
    pub decision_id: String,
    pub at: u64,
    pub bundle_version: u64,
    pub subject: Option<String>,
    pub arm: Option<String>,
    pub mode: String,
    pub source: String,
    /// The record's `snapshot_hash` (a profile's hash for plan decisions).
    pub snapshot_hash: Option<String>,
    pub slot: String,
    pub channel: String,
    pub offer: String,
    /// 0 for a withheld offer.
    pub rank: u8,
    /// `None` for a withheld offer.
    pub selection_probability: Option<f64>,
    pub uplift: Option<f32>,
}

/// A click or conversion on an offer of a decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub decision_id: String,
    pub offer: String,
    /// `click` or `conversion`.
    pub kind: String,
    pub at: u64,
    pub value: Option<f64>,
}

/// One past contact or response of a client, for the contact history of a decision:
/// offers shown on a page (`impression`), planned or triggered sends (`contact`, at the
/// send time), and `click`, `conversion` and `dismiss` events.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactRow {
    pub subject: String,
    pub offer: String,
    pub channel: String,
    pub kind: vitrine_engine::policy::HistoryKind,
    pub at: u64,
}

impl ContactRow {
    /// The engine's history entry for this row.
    pub fn entry(&self) -> vitrine_engine::decision::HistoryEntry {
        vitrine_engine::decision::HistoryEntry {
            offer: self.offer.clone(),
            channel: Some(self.channel.clone()),
            kind: self.kind,
            at: self.at,
        }
    }

    /// An impression or a contact (what caps and budgets count), not a response.
    pub fn is_contact(&self) -> bool {
        matches!(self.kind, vitrine_engine::policy::HistoryKind::Impression | vitrine_engine::policy::HistoryKind::Contact)
    }
}

/// A decision's contact history from one client's rows (by time): the entries up to
/// `now` on channels `known` accepts, the latest `max`.
pub fn history_entries(
    rows: &[ContactRow],
    now: u64,
    max: usize,
    known: impl Fn(&str) -> bool,
) -> Vec<vitrine_engine::decision::HistoryEntry> {
    let past: Vec<vitrine_engine::decision::HistoryEntry> =
        rows.iter().filter(|r| r.at <= now && known(&r.channel)).map(ContactRow::entry).collect();
    past[past.len().saturating_sub(max)..].to_vec()
}

/// A stored sale.
#[derive(Debug, Clone, PartialEq)]
pub struct SaleRow {
    pub subject: String,
    pub offer: String,
    pub at: u64,
    pub value: f64,
}

/// A logged decision's exact request (server decisions only: edge ones have none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub decision_id: String,
    pub request: Option<String>,
}

/// The rank-1 offer a logged decision showed in one slot.
#[derive(Debug, Clone, PartialEq)]
pub struct FirstPick {
    pub decision_id: String,
    pub slot: String,
    pub offer: String,
    pub selection_probability: f64,
}

/// Impressions and successes (decisions with at least one event of the reward kind) per offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferCounts {
    pub offer: String,
    pub impressions: u64,
    pub successes: u64,
}

/// A durable feedback store.
pub trait FeedbackStore: Send {
    /// Writes `decisions`, `events` and `sales` in one transaction, durable when this
    /// returns. Events and sales are idempotent by id: one outcome per event, then one
    /// per sale (stored or duplicate).
    fn write(&mut self, events: &[Event], sales: &[Sale], decisions: &[LoggedDecision]) -> Result<Vec<Outcome>, FeedbackError>;
}

/// The longest time between a decision and a send it planned (the longest plan window).
pub const MAX_SEND_LEAD: u64 = 56 * 86_400;

/// Reads of the feedback store. Times are unix seconds; `[from, to)` ranges.
pub trait FeedbackRead {
    /// Event counts per (version, offer, treatment, slot, channel), ordered by those keys.
    fn event_counts(&self, from: u64, to: u64) -> Result<Vec<EventCounts>, FeedbackError>;
    /// Every client with a logged decision in the range (an arm), with its sales in the range.
    fn client_outcomes(&self, from: u64, to: u64) -> Result<Vec<ClientOutcome>, FeedbackError>;
    /// Offers shown to, or withheld from, clients by decisions in the range.
    fn exposures(&self, from: u64, to: u64) -> Result<Vec<Exposure>, FeedbackError>;
    /// Contacts (at their send time) and responses in `[from, to)`, by subject then time:
    /// what a client's decision request carries as its history. Decisions logged more than
    /// [`MAX_SEND_LEAD`] before `from` are not read.
    fn contact_history(&self, from: u64, to: u64) -> Result<Vec<ContactRow>, FeedbackError> {
        let mut rows = Vec::new();
        self.each_contact(from, to, &mut |r| rows.push(r))?;
        Ok(rows)
    }
    /// [`FeedbackRead::contact_history`], one row at a time (a whole base's history is
    /// read without holding its rows).
    fn each_contact(&self, from: u64, to: u64, f: &mut dyn FnMut(ContactRow)) -> Result<(), FeedbackError>;
    /// [`FeedbackRead::contact_history`] of one client (by subject), by time.
    fn client_history(&self, subject: &str, from: u64, to: u64) -> Result<Vec<ContactRow>, FeedbackError>;
    /// The names of the bundles that logged decisions, ascending.
    fn bundle_names(&self) -> Result<Vec<String>, FeedbackError>;
    /// Sales in the range, by subject, offer and time.
    fn sales(&self, from: u64, to: u64) -> Result<Vec<SaleRow>, FeedbackError>;
    /// Every offer shown or withheld by decisions in the range, by decision time and id.
    fn decision_offers(&self, from: u64, to: u64) -> Result<Vec<DecisionOffer>, FeedbackError>;
    /// Clicks and conversions at or after `from`.
    fn responses(&self, from: u64) -> Result<Vec<Response>, FeedbackError>;
    /// Sales in the range whose subject has no logged decision at all.
    fn unexposed_sales(&self, from: u64, to: u64) -> Result<u64, FeedbackError>;
    /// Bundle versions that decided in the range, ascending.
    fn bundle_versions(&self, from: u64, to: u64) -> Result<Vec<u64>, FeedbackError>;
    /// Per offer (ascending), events at or after `since`: impressions, and decisions with
    /// an event of kind `reward`.
    fn offer_counts(&self, since: u64, reward: &str) -> Result<Vec<OfferCounts>, FeedbackError>;
    /// Decisions at or after `since` whose id `keep` accepts, by time then id, with their
    /// logged requests (only the kept ones' requests are read).
    fn logged_requests(&self, since: u64, keep: &dyn Fn(&str) -> bool) -> Result<Vec<LoggedRequest>, FeedbackError>;
    /// The rank-1 offers of decisions logged at or after `since`, by decision then slot
    /// (one read for a whole replay).
    fn first_picks(&self, since: u64) -> Result<Vec<FirstPick>, FeedbackError>;
    /// The (decision, offer) pairs of decisions logged at or after `since` that got an
    /// event of kind `kind`.
    fn rewarded(&self, since: u64, kind: &str) -> Result<Vec<(String, String)>, FeedbackError>;
}
