//! The training table: one row per (logged decision, offer shown or withheld), joined to
//! its outcomes by the attribution rules of docs/measurement.md, for a data scientist
//! to train on (`vitrine export training`) and for the learner.
//!
//! Outcomes of a row:
//! - `clicked`, `converted`: an event of that kind on this decision and offer within the
//!   response window after the decision;
//! - `sold`, `revenue`: a sale of the offer by the client within the offer's attribution
//!   window after the decision (withheld rows too: that is the control's outcome);
//! - `final_for_sale` / `final_for_response`: whether that window has closed at `now`. A
//!   row whose window has closed without the outcome is a **negative** outcome; one whose
//!   window is still open is not an outcome yet (its label is `None`).
//!
//! Features come from the snapshot ledger through a lookup the caller supplies (the
//! feedback store does not know the feature store).
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::attribution::{self, Sales};
use crate::report::Range;
use crate::{DecisionOffer, FeedbackError, FeedbackRead};

/// What a row's label is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Click,
    Conversion,
    Sale,
}

/// One row of the training table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub offer: DecisionOffer,
    pub clicked: bool,
    pub converted: bool,
    pub sold: bool,
    /// Sum of the attributed sales' values (a conversion's value for click/conversion labels is in `conversion_value`).
    pub revenue: f64,
    pub conversion_value: f64,
    pub response_window_closed: bool,
    pub sale_window_closed: bool,
}

impl Row {
    /// Whether the row was contacted with its offer (shown), not withheld.
    pub fn contacted(&self) -> bool {
        self.offer.rank > 0
    }

    /// The label for `outcome`: `Some(true)` on a response, `Some(false)` once its window
    /// closed without one, `None` while it is open.
    pub fn label(&self, outcome: Outcome) -> Option<bool> {
        let (hit, closed) = match outcome {
            Outcome::Click => (self.clicked, self.response_window_closed),
            Outcome::Conversion => (self.converted, self.response_window_closed),
            Outcome::Sale => (self.sold, self.sale_window_closed),
        };
        (hit || closed).then_some(hit)
    }

    /// The reward value of `outcome`: the sale revenue, the conversion value, or 1 for a click.
    pub fn reward(&self, outcome: Outcome) -> f64 {
        match outcome {
            Outcome::Click => f64::from(u8::from(self.clicked)),
            Outcome::Conversion => self.conversion_value,
            Outcome::Sale => self.revenue,
        }
    }
}

/// The rows of decisions in `range`, with outcomes as of `now`. `windows` maps offers to
/// their attribution windows (others get [`attribution::DEFAULT_WINDOW`]).
pub fn rows(
    store: &dyn FeedbackRead,
    range: Range,
    windows: &BTreeMap<String, u64>,
    response_window: u64,
    now: u64,
) -> Result<Vec<Row>, FeedbackError> {
    let offers = store.decision_offers(range.from, range.to)?;
    let all_responses = store.responses(range.from)?;
    let mut responses: HashMap<(&str, &str), Vec<&crate::Response>> = HashMap::new();
    for r in &all_responses {
        responses.entry((r.decision_id.as_str(), r.offer.as_str())).or_default().push(r);
    }
    let sale_rows = store.sales(range.from, range.to.saturating_add(attribution::longest(windows)))?;
    let sales = Sales::new(&sale_rows);
    Ok(offers
        .into_iter()
        .map(|o| {
            let window = attribution::window(windows, &o.offer);
            let events = responses.get(&(o.decision_id.as_str(), o.offer.as_str()));
            let in_window: Vec<&crate::Response> =
                events.into_iter().flatten().copied().filter(|e| e.at >= o.at && e.at < o.at.saturating_add(response_window)).collect();
            let clicked = in_window.iter().any(|e| e.kind == "click");
            let converted = in_window.iter().any(|e| e.kind == "conversion");
            let conversion_value: f64 = in_window.iter().filter(|e| e.kind == "conversion").map(|e| e.value.unwrap_or(0.0)).sum();
            let (sold, revenue) = o.subject.as_deref().map_or((false, 0.0), |s| sales.within(s, &o.offer, o.at, window));
            Row {
                clicked,
                converted,
                conversion_value,
                sold,
                revenue,
                response_window_closed: now >= o.at.saturating_add(response_window),
                sale_window_closed: now >= o.at.saturating_add(window),
                offer: o,
            }
        })
        .collect())
}
