//! `POST /v1/events`: feedback events (and edge decision records), 202 once durable.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use vitrine_feedback::{Event, LoggedDecision, Outcome};

use super::{error, json, malformed, now, parse_with_path, Shared};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventBatch {
    events: Vec<Event>,
    /// Records of decisions made at the edge or in the browser, logged even when they
    /// showed nothing (a holdout baseline may be empty), so group shares stay unbiased.
    #[serde(default)]
    decisions: Vec<vitrine_engine::decision::DecisionRecord>,
}

/// `POST /v1/events`: 202 once the accepted events are durable.
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
    let t = now();
    let mut results: Vec<Option<Outcome>> = Vec::with_capacity(batch.events.len());
    let mut accepted = Vec::with_capacity(batch.events.len());
    for e in batch.events {
        let reject = if e.event_id.is_empty() || e.event_id.len() > 128 {
            Some("event_id must be 1 to 128 characters".to_string())
        } else if e.decision_id.is_empty() {
            Some("decision_id is required".to_string())
        } else if e.at + state.limits.max_event_age < t {
            Some(format!("older than {} s", state.limits.max_event_age))
        } else if e.at > t + state.limits.max_event_skew {
            Some(format!("more than {} s in the future", state.limits.max_event_skew))
        } else if e.value.is_some_and(|v| !v.is_finite()) || e.selection_probability.is_some_and(|p| !(p > 0.0 && p <= 1.0)) {
            Some("value must be finite and selection_probability in (0, 1]".to_string())
        } else {
            None
        };
        match reject {
            Some(reason) => results.push(Some(Outcome::Rejected { reason })),
            None => {
                results.push(None);
                accepted.push(e);
            }
        }
    }
    let kinds: Vec<&'static str> = accepted.iter().map(|e| e.kind.as_str()).collect();
    let decisions = batch.decisions.into_iter().map(LoggedDecision::from_edge).collect();
    let stored = match state.writer.events_and_decisions(accepted, decisions).await {
        Ok(o) => o,
        Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e.code(), "feedback", e.to_string()),
    };
    let mut stored_iter = stored.into_iter().zip(kinds);
    let mut counts = [0u64; 3];
    let results: Vec<Outcome> = results
        .into_iter()
        .map(|r| match r {
            Some(rejected) => rejected,
            None => {
                let (o, kind) = stored_iter.next().unwrap_or((Outcome::Rejected { reason: "not stored".into() }, "unknown"));
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
