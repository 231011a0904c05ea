//! `GET /metrics` (Prometheus), `GET /healthz`, `GET /openapi.json`.
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{json, Shared};

/// `GET /metrics`.
pub async fn metrics(State(state): Shared) -> Response {
    state.metrics.bundle_version(state.runtime.current().version());
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

/// `GET /healthz`.
pub async fn healthz(State(state): Shared) -> Response {
    let d = state.runtime.current();
    json(StatusCode::OK, &serde_json::json!({ "status": "ok", "bundle": d.name(), "bundle_version": d.version(), "engine": d.module.hash }))
}

/// `GET /openapi.json`.
pub async fn openapi() -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], include_str!("../openapi.json")).into_response()
}
