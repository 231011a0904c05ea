//! The HTTP handlers, one file per resource; what they share is here.
mod admin;
mod auth;
mod bundle;
mod decide;
mod events;
mod health;
mod report;
mod snapshot;
mod trigger;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use vitrine_engine::decision::RequestError;

pub use admin::{admin_bundle, admin_engine, admin_rollback};
pub use auth::require_api_key;
pub use bundle::{bundle, bundle_key};
pub use decide::decide;
pub use events::events;
pub use health::{healthz, metrics, openapi};
pub use report::report;
pub use snapshot::{demo_login, snapshot};
pub use trigger::trigger;

use crate::state::AppState;

pub(crate) type Shared = State<Arc<AppState>>;

pub fn now() -> u64 {
    vitrine_base::clock::now()
}

/// The core's error JSON with an HTTP status.
pub fn error(status: StatusCode, code: &str, stage: &str, message: impl Into<String>) -> Response {
    let body = vitrine_engine::ErrorBody { code: code.to_string(), stage: stage.to_string(), message: message.into() };
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_json()).into_response()
}

/// Parses JSON, naming the field at fault (`events[2].at: invalid type: …`).
pub(crate) fn parse_with_path<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.into_inner().to_string()
        } else {
            format!("`{path}`: {}", e.into_inner())
        }
    })
}

/// 400 with the core's `request_malformed` code and a message naming the field.
pub(crate) fn malformed(message: impl std::fmt::Display) -> Response {
    let e = vitrine_engine::Error::from(RequestError::Malformed(String::new()));
    error(StatusCode::BAD_REQUEST, e.code(), e.stage(), message.to_string())
}

pub(crate) fn json(status: StatusCode, value: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(v) => (status, [(header::CONTENT_TYPE, "application/json")], v).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal", e.to_string()),
    }
}

/// Request counts and latency per matched route.
pub async fn observe(State(state): Shared, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let started = Instant::now();
    let res = next.run(req).await;
    state.metrics.request(&route, res.status().as_u16(), started.elapsed());
    res
}
