//! `POST /v1/admin/{bundle,engine,rollback}` (API key): hot swaps and rollback.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{error, json, Shared};
use crate::state::AppState;

fn deployed(state: &AppState, d: &vitrine_runtime::Deployment) -> Response {
    state.metrics.bundle_version(d.version());
    json(
        StatusCode::OK,
        &serde_json::json!({ "bundle": d.name(), "version": d.version(), "sha256": d.bundle_sha256, "engine": d.module.hash, "history": state.runtime.history() }),
    )
}

/// `POST /v1/admin/bundle` (API key): verify and hot-swap a signed bundle.
pub async fn admin_bundle(State(state): Shared, body: Bytes) -> Response {
    let runtime = state.runtime.clone();
    match tokio::task::spawn_blocking(move || runtime.swap_bundle(body.to_vec())).await {
        Ok(Ok(d)) => deployed(&state, &d),
        Ok(Err(e)) => error(StatusCode::UNPROCESSABLE_ENTITY, e.code(), "bundle", e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal", e.to_string()),
    }
}

/// `POST /v1/admin/engine` (API key): compile, check and hot-swap an engine module.
pub async fn admin_engine(State(state): Shared, body: Bytes) -> Response {
    let runtime = state.runtime.clone();
    match tokio::task::spawn_blocking(move || runtime.swap_module(&body)).await {
        Ok(Ok(d)) => deployed(&state, &d),
        Ok(Err(e)) => error(StatusCode::UNPROCESSABLE_ENTITY, e.code(), "runtime", e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal", e.to_string()),
    }
}

/// `POST /v1/admin/rollback` (API key): back to the previous deployment.
pub async fn admin_rollback(State(state): Shared) -> Response {
    let runtime = state.runtime.clone();
    match tokio::task::spawn_blocking(move || runtime.rollback()).await {
        Ok(Ok(d)) => deployed(&state, &d),
        Ok(Err(e)) => error(StatusCode::CONFLICT, e.code(), "runtime", e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal", e.to_string()),
    }
}
