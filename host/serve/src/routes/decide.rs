//! `POST /v1/decide`: a decision under Wasmtime, logged with its request and what it showed.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use vitrine_engine::decision::DecideResponse;
use vitrine_feedback::LoggedDecision;

use super::{error, malformed, now, parse_with_path, Shared};

/// `serve --fill-history`: a request with a snapshot and no `history` gets the client's
/// contact history from the feedback store (the last `window` seconds up to `now`: page
/// impressions, planned and triggered sends, clicks), so caps and suppression hold across
/// channels. The subject is read from the snapshot before the engine verifies it; a
/// forged snapshot is refused by the engine, so nothing is answered from its history.
fn fill_history(
    state: &crate::state::AppState,
    request: &mut serde_json::Map<String, serde_json::Value>,
    window: u64,
) -> Result<(), vitrine_feedback::FeedbackError> {
    use vitrine_feedback::FeedbackRead;
    if request.contains_key("history") {
        return Ok(());
    }
    let Some(serde_json::Value::String(text)) = request.get("snapshot") else { return Ok(()) };
    let Ok(bytes) = vitrine_engine::snapshot::decode_text(text) else { return Ok(()) };
    let Ok(snapshot) = vitrine_engine::snapshot::UnverifiedSnapshot::parse(&bytes) else { return Ok(()) };
    let Some(now) = request.get("now").and_then(serde_json::Value::as_u64) else { return Ok(()) };
    let deployment = state.runtime.current();
    let Some(bundle) = deployment.facts.bundle.as_deref() else { return Ok(()) };
    let store = vitrine_feedback::SqliteStore::open_reader(&state.feedback_path)?;
    let rows = store.client_history(&vitrine_base::hex::encode(&snapshot.subject()), now.saturating_sub(window), now.saturating_add(1))?;
    let entries = vitrine_feedback::history_entries(&rows, now, bundle.limits.max_history as usize, |c| bundle.schema.channel(c).is_some());
    if !entries.is_empty() {
        request.insert("history".into(), serde_json::to_value(entries).unwrap_or_default());
    }
    Ok(())
}

/// `POST /v1/decide`.
pub async fn decide(State(state): Shared, body: Bytes) -> Response {
    let mut request: serde_json::Map<String, serde_json::Value> = match serde_json::from_slice(&body) {
        Ok(serde_json::Value::Object(m)) => m,
        Ok(_) => return malformed("the request must be a JSON object"),
        Err(e) => return malformed(format!("invalid JSON: {e}")),
    };
    // Time and seed come in the request; the server supplies them when the caller does not.
    request.entry("now").or_insert_with(|| now().into());
    if !request.contains_key("seed") {
        let mut seed = [0u8; 8];
        if getrandom::fill(&mut seed).is_err() {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal", "no entropy for the decision seed");
        }
        // Seeds stay below 2^53 so every face (JS numbers included) can replay them.
        request.insert("seed".into(), (u64::from_le_bytes(seed) >> 11).into());
    }
    if let Some(window) = state.fill_history {
        if let Err(e) = fill_history(&state, &mut request, window) {
            return error(StatusCode::SERVICE_UNAVAILABLE, e.code(), "feedback", e.to_string());
        }
    }
    let request = match serde_json::to_vec(&request) {
        Ok(r) => r,
        Err(e) => return malformed(e),
    };
    let out = match state.runtime.decide(&request) {
        Ok((out, _)) => out,
        Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e.code(), "runtime", e.to_string()),
    };
    match vitrine_runtime::reply::<DecideResponse>(&out) {
        Ok(resp) => {
            state.metrics.decided(resp.slots.iter().flat_map(|s| s.offers.iter().map(|o| o.offer.as_str())));
            let logged = LoggedDecision::from_response(resp, String::from_utf8(request).ok(), "server");
            if let Err(e) = state.writer.decision(logged) {
                tracing::warn!(error = %e, "decision not logged");
            }
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], out).into_response()
        }
        Err(e) => {
            // The guest's error JSON, with the core's status rule (input errors are the
            // caller's, `internal` is ours).
            if e.code == "request_malformed" {
                // Name the field: the same parse natively, with its path (error path only).
                if let Err(message) = parse_with_path::<vitrine_engine::decision::DecideRequest>(&request) {
                    return malformed(message);
                }
            }
            let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, [(header::CONTENT_TYPE, "application/json")], out).into_response()
        }
    }
}
