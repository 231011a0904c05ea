//! `GET /v1/report[?from=&to=&format=csv&table=rows|arms|offers]`: measured performance.
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
    /// CSV only: `rows` (default), `arms` or `offers`.
    table: Option<String>,
}

/// `GET /v1/report[?from=&to=&format=csv&table=rows|arms|offers]`.
pub async fn report(State(state): Shared, Query(q): Query<ReportQuery>) -> Response {
    let to = q.to.unwrap_or_else(|| now() + 1);
    let range = Range { from: q.from.unwrap_or(to.saturating_sub(30 * 86_400)), to };
    let facts = &state.runtime.current().facts;
    let setup = report::Setup {
        arms: facts.arms.clone(),
        windows: facts.offers.clone(),
        maturity: facts.bundle.as_deref().map(report::maturity).unwrap_or_default(),
    };
    let path = state.feedback_path.clone();
    let built = tokio::task::spawn_blocking(move || {
        vitrine_feedback::SqliteStore::open_reader(&path).and_then(|store| report::report(&store, range, &setup))
    })
    .await;
    let r = match built {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.code(), "feedback", e.to_string()),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal", e.to_string()),
    };
    match q.format.as_deref() {
        None | Some("json") => json(StatusCode::OK, &r),
        Some("csv") => {
            let body = match q.table.as_deref() {
                None | Some("rows") => report::to_csv(&r),
                Some("arms") => report::arms_csv(&r),
                Some("offers") => report::offers_csv(&r),
                Some(other) => return malformed(format!("table `{other}`: expected rows, arms or offers")),
            };
            (StatusCode::OK, [(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response()
        }
        Some(other) => malformed(format!("format `{other}`: expected json or csv")),
    }
}
