//! `POST /v1/decide`: a decision under Wasmtime, logged with its request and what it showed.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use vitrine_engine::decision::DecideResponse;
use vitrine_feedback::LoggedDecision;

use super::{error, malformed, now, parse_with_path, Shared};

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
