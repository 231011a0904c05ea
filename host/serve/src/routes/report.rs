//! `GET /v1/report[?from=&to=&format=csv]`: measured performance.
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use vitrine_feedback::report::{self, Range};

use super::{error, json, malformed, now, Shared};

#[derive(Deserialize)]
pub struct ReportQuery {
    from: Option<u64>,
    to: Option<u64>,
    format: Option<String>,
}

/// `GET /v1/report[?from=&to=&format=csv]`.
pub async fn report(State(state): Shared, Query(q): Query<ReportQuery>) -> Response {
    let to = q.to.unwrap_or_else(|| now() + 1);
    let range = Range { from: q.from.unwrap_or(to.saturating_sub(30 * 86_400)), to };
    let share = state.runtime.current().facts.holdout_share;
    let path = state.feedback_path.clone();
    let built = tokio::task::spawn_blocking(move || {
        vitrine_feedback::SqliteStore::open_reader(&path).and_then(|store| report::report(&store, range, share))
    })
    .await;
    let r = match built {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.code(), "feedback", e.to_string()),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal", e.to_string()),
    };
    match q.format.as_deref() {
        None | Some("json") => json(StatusCode::OK, &r),
        Some("csv") => (StatusCode::OK, [(header::CONTENT_TYPE, "text/csv; charset=utf-8")], report::to_csv(&r)).into_response(),
        Some(other) => malformed(format!("format `{other}`: expected json or csv")),
    }
}
