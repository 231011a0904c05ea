//! `POST /v1/events`: feedback events, sales from the order system (and edge decision
//! records), 202 once durable.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use vitrine_feedback::{Event, LoggedDecision, Outcome, Sale};

use super::{error, json, malformed, now, parse_with_path, Shared};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventBatch {
    /// Feedback events on shown offers, and sales (`"type": "sale"`) from the order system.
    events: Vec<serde_json::Value>,
    /// Records of decisions made at the edge or in the browser, logged even when they
    /// showed nothing (a `no_contact` page may be empty), so arm shares stay unbiased.
    #[serde(default)]
    decisions: Vec<vitrine_engine::decision::DecisionRecord>,
}

/// One posted item, typed.
enum Posted {
    Event(Box<Event>),
    Sale(Sale),
}

fn parse(items: Vec<serde_json::Value>) -> Result<Vec<Posted>, String> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let sale = v.get("type").and_then(serde_json::Value::as_str) == Some("sale");
            let text = v.to_string();
            // Name the field from the body's root; the item's own line and column mean nothing.
            let wrap = |mut m: String| {
                if let Some(at) = m.rfind(" at line ") {
                    m.truncate(at);
                }
                match m.strip_prefix('`') {
                    Some(rest) => format!("`events[{i}].{rest}"),
                    None => format!("`events[{i}]`: {m}"),
                }
            };
            if sale {
                parse_with_path::<Sale>(text.as_bytes()).map(Posted::Sale).map_err(wrap)
            } else {
                parse_with_path::<Event>(text.as_bytes()).map(|e| Posted::Event(Box::new(e))).map_err(wrap)
            }
        })
        .collect()
}

fn reject(code: &str, reason: impl Into<String>) -> Option<Outcome> {
    Some(Outcome::Rejected { code: code.into(), reason: reason.into() })
}

/// `POST /v1/events`: 202 once the accepted events and sales are durable.
pub async fn events(State(state): Shared, body: Bytes) -> Response {
    let batch: EventBatch = match parse_with_path(&body) {
        Ok(b) => b,
        Err(message) => return malformed(message),
    };
    if batch.events.len() > state.limits.max_batch {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request_too_many",
            "request",
            format!("{} events in one batch; at most {}", batch.events.len(), state.limits.max_batch),
        );
    }
    let items = match parse(batch.events) {
        Ok(items) => items,
        Err(message) => return malformed(message),
    };
    let t = now();
    let limits = &state.limits;
    let when = |at: u64| {
        if at.saturating_add(limits.max_event_age) < t {
            reject("event_too_old", format!("older than the retention window of {} s", limits.max_event_age))
        } else if at > t.saturating_add(limits.max_event_skew) {
            reject("event_in_future", format!("more than {} s in the future", limits.max_event_skew))
        } else {
            None
        }
    };
    let offers = &state.runtime.current().facts.offers;
    let subjects = if items.iter().any(|p| matches!(p, Posted::Sale(_))) { state.known_subjects() } else { Ok(None) };
    let subjects = match subjects {
        Ok(s) => s,
        Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e.code(), "features", e.to_string()),
    };
    // Slot per item: `Some` rejected here; `None` goes to the store, events then sales.
    let mut results: Vec<(bool, Option<Outcome>)> = Vec::with_capacity(items.len());
    let (mut events, mut sales) = (Vec::new(), Vec::new());
    for item in items {
        let id_bad = |id: &str| id.is_empty() || id.len() > 128;
        match item {
            Posted::Event(e) => {
                let rejected = if id_bad(&e.event_id) {
                    reject("event_invalid", "event_id must be 1 to 128 characters")
                } else if e.decision_id.is_empty() {
                    reject("event_invalid", "decision_id is required")
                } else if let Some(r) = when(e.at) {
                    Some(r)
                } else if e.value.is_some_and(|v| !v.is_finite()) || e.selection_probability.is_some_and(|p| !(p > 0.0 && p <= 1.0)) {
                    reject("event_invalid", "value must be finite and selection_probability in (0, 1]")
                } else {
                    None
                };
                if rejected.is_none() {
                    events.push(*e);
                }
                results.push((false, rejected));
            }
            Posted::Sale(s) => {
                let subject = vitrine_base::hex::decode::<16>(&s.subject);
                let rejected = if id_bad(&s.event_id) {
                    reject("event_invalid", "event_id must be 1 to 128 characters")
                } else if !(s.value.is_finite() && s.value >= 0.0) {
                    reject("event_invalid", "a sale's value must be finite and >= 0")
                } else if let Some(r) = when(s.at) {
                    Some(r)
                } else if !offers.contains_key(&s.offer) {
                    let known: Vec<&str> = offers.keys().map(String::as_str).collect();
                    let hint = vitrine_base::suggest::closest(&s.offer, known.iter().copied())
                        .map(|c| format!("; did you mean `{c}`?"))
                        .unwrap_or_default();
                    reject("sale_unknown_offer", format!("offer `{}` is not in the deployed bundle{hint}", s.offer))
                } else {
                    match (&subject, &subjects) {
                        (None, _) => reject("sale_unknown_subject", "subject must be a pseudonym of 32 hex digits"),
                        (Some(sub), Some(known)) if !known.contains(sub) => {
                            reject("sale_unknown_subject", format!("subject {} is no client of the feature store", s.subject))
                        }
                        _ => None,
                    }
                };
                if rejected.is_none() {
                    sales.push(s);
                }
                results.push((true, rejected));
            }
        }
    }
    let kinds: Vec<&'static str> = events.iter().map(|e| e.kind.as_str()).collect();
    let n_sales = sales.len();
    let decisions = batch.decisions.into_iter().map(LoggedDecision::from_edge).collect();
    let stored = match state.writer.write(events, sales, decisions).await {
        Ok(o) => o,
        Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e.code(), "feedback", e.to_string()),
    };
    let n_events = kinds.len();
    let mut event_outcomes = stored.iter().take(n_events).cloned().zip(kinds);
    let mut sale_outcomes = stored.iter().skip(n_events).take(n_sales).cloned();
    let mut counts = [0u64; 3];
    let results: Vec<Outcome> = results
        .into_iter()
        .map(|(is_sale, r)| match r {
            Some(rejected) => rejected,
            None if is_sale => {
                let o = sale_outcomes.next().unwrap_or(Outcome::Rejected { code: "internal".into(), reason: "not stored".into() });
                if o == Outcome::Stored {
                    state.metrics.events("sale", 1);
                }
                o
            }
            None => {
                let (o, kind) = event_outcomes
                    .next()
                    .unwrap_or((Outcome::Rejected { code: "internal".into(), reason: "not stored".into() }, "unknown"));
                if o == Outcome::Stored {
                    state.metrics.events(kind, 1);
                }
                o
            }
        })
        .inspect(|o| match o {
            Outcome::Stored => counts[0] += 1,
            Outcome::Duplicate => counts[1] += 1,
            Outcome::Rejected { .. } => counts[2] += 1,
        })
        .collect();
    json(
        StatusCode::ACCEPTED,
        &serde_json::json!({ "stored": counts[0], "duplicates": counts[1], "rejected": counts[2], "results": results }),
    )
}
