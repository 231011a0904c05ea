//! What the store keeps: feedback events and logged decisions.
use serde::{Deserialize, Serialize};
use vitrine_engine::decision::DecisionRecord;

/// The kind of a feedback event.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Impression,
    Click,
    Conversion,
    Dismiss,
}

impl EventKind {
    /// The name stored and reported.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Impression => "impression",
            EventKind::Click => "click",
            EventKind::Conversion => "conversion",
            EventKind::Dismiss => "dismiss",
        }
    }
}

/// One feedback event, as posted to `/v1/events`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Unique per event: a retried post of the same event is absorbed.
    pub event_id: String,
    pub decision_id: String,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub offer: String,
    pub treatment: String,
    /// The page slot (or campaign slot) the offer was shown in.
    pub slot: String,
    pub channel: String,
    /// Unix seconds.
    pub at: u64,
    /// Conversion value (revenue).
    #[serde(default)]
    pub value: Option<f64>,
    /// The logged selection probability of `offer` (decisions made at the edge or in
    /// the browser send it with the record).
    #[serde(default)]
    pub selection_probability: Option<f64>,
    /// Rank of the offer in its slot (1 = first).
    #[serde(default)]
    pub rank: Option<u8>,
    /// The offer's predicted uplift (uplift-scored offers decided at the edge or in the
    /// browser), for the Qini curve.
    #[serde(default)]
    pub uplift: Option<f32>,
    /// The decision record, for decisions the server did not make itself.
    #[serde(default)]
    pub record: Option<DecisionRecord>,
}

/// A sale from the order system: keyed by the client's subject pseudonym and the offer
/// (product) bought, with no decision id (a sale happens whether or not anything was
/// shown). Posted to `/v1/events` as `{"type": "sale", …}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Sale {
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: SaleKind,
    /// The subject pseudonym (32 hex digits), as in decision records.
    pub subject: String,
    pub offer: String,
    /// Revenue of the sale.
    pub value: f64,
    /// Unix seconds.
    pub at: u64,
}

/// The only kind a [`Sale`] has.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SaleKind {
    Sale,
}

/// One offer a logged decision showed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Shown {
    pub slot: String,
    pub channel: String,
    pub rank: u8,
    pub offer: String,
    pub treatment: String,
    pub selection_probability: f64,
    /// The predicted uplift, for uplift-scored offers.
    #[serde(default)]
    pub uplift: Option<f32>,
    /// When the contact is sent, if not at the decision's time (a planned send: its day
    /// and hour; Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<u64>,
}

/// A decision as logged: its record, what it showed, and (for decisions made by this
/// server) the request JSON, so `vitrine replay` can run it through another bundle.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LoggedDecision {
    pub record: DecisionRecord,
    /// `personalised`, `anonymous`, `no_profiling_consent`, `bau` or `no_contact`.
    pub mode: String,
    pub shown: Vec<Shown>,
    pub request: Option<String>,
    /// `server` or `edge`.
    pub source: String,
}

impl LoggedDecision {
    /// A decision this host made (server or planner): what every slot showed, with the
    /// request that replays it.
    pub fn from_response(resp: vitrine_engine::decision::DecideResponse, request: Option<String>, source: &str) -> LoggedDecision {
        let shown = resp
            .slots
            .iter()
            .flat_map(|s| {
                s.offers.iter().map(move |o| Shown {
                    slot: s.slot.clone(),
                    channel: s.channel.clone(),
                    rank: o.rank,
                    offer: o.offer.clone(),
                    treatment: o.treatment.clone(),
                    selection_probability: o.selection_probability,
                    uplift: o.uplift,
                    sent_at: None,
                })
            })
            .collect();
        let mode = serde_json::to_value(resp.mode).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        LoggedDecision { record: resp.record, mode, shown, request, source: source.into() }
    }

    /// A decision made at the edge or in the browser, from its record (nothing shown is
    /// known unless events name it).
    pub fn from_edge(record: DecisionRecord) -> LoggedDecision {
        LoggedDecision {
            mode: super::sqlite::mode_of(&record).to_string(),
            record,
            shown: Vec::new(),
            request: None,
            source: "edge".into(),
        }
    }
}

/// What happened to one posted event.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Outcome {
    Stored,
    /// Already stored earlier (same event id): absorbed, not counted again.
    Duplicate,
    Rejected {
        /// Stable code: `event_invalid`, `sale_unknown_offer`, `sale_unknown_subject`,
        /// `event_too_old`, `event_in_future`.
        code: String,
        reason: String,
    },
}
