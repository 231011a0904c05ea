//! The HTTP handlers.
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use vitrine_engine::decision::{DecideResponse, RequestError};
use vitrine_engine::snapshot::encode_text;

use super::state::AppState;
use crate::feedback::report::{self, Range};
use crate::feedback::{Event, LoggedDecision, Outcome, Shown};

type Shared = State<Arc<AppState>>;

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The core's error JSON with an HTTP status.
pub fn error(status: StatusCode, code: &str, stage: &str, message: impl Into<String>) -> Response {
    let body = vitrine_engine::ErrorBody { code: code.to_string(), stage: stage.to_string(), message: message.into() };
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_json()).into_response()
}

/// Parses JSON, naming the field at fault (`events[2].at: invalid type: …`).
fn parse_with_path<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        if path == "." { e.into_inner().to_string() } else { format!("`{path}`: {}", e.into_inner()) }
    })
}

/// 400 with the core's `request_malformed` code and a message naming the field.
fn malformed(message: impl std::fmt::Display) -> Response {
    let e = vitrine_engine::Error::from(RequestError::Malformed(String::new()));
    error(StatusCode::BAD_REQUEST, e.code(), e.stage(), message.to_string())
}

fn json(status: StatusCode, value: &impl serde::Serialize) -> Response {
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

fn authorised(state: &AppState, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let Some(key) = &state.api_key else { return Ok(()) };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()));
    // Constant-time comparison: the key must not leak through timing.
    let ok = given.is_some_and(|g| g.len() == key.len() && g.bytes().zip(key.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0);
    if ok {
        Ok(())
    } else {
        Err(Box::new(error(StatusCode::UNAUTHORIZED, "unauthorised", "http", "this route needs the API key (Authorization: Bearer <key> or X-Api-Key)")))
    }
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
    let request = match serde_json::to_vec(&request) {
        Ok(r) => r,
        Err(e) => return malformed(e),
    };
    let out = match state.runtime.decide(&request) {
        Ok((out, _)) => out,
        Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e.code(), "runtime", e.to_string()),
    };
    match serde_json::from_slice::<DecideResponse>(&out) {
        Ok(resp) => {
            state.metrics.decided(resp.slots.iter().flat_map(|s| s.offers.iter().map(|o| o.offer.as_str())));
            let shown = resp
                .slots
                .iter()
                .flat_map(|s| s.offers.iter().map(move |o| Shown { slot: s.slot.clone(), channel: s.channel.clone(), rank: o.rank, offer: o.offer.clone(), treatment: o.treatment.clone(), selection_probability: o.selection_probability }))
                .collect();
            let mode = serde_json::to_value(resp.mode).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            let logged = LoggedDecision { record: resp.record, mode, shown, request: String::from_utf8(request).ok(), source: "server".into() };
            if let Err(e) = state.writer.decision(logged) {
                tracing::warn!(error = %e, "decision not logged");
            }
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], out).into_response()
        }
        Err(_) => {
            // The guest's error JSON: input errors are the caller's (400), `internal` is ours.
            let code = serde_json::from_slice::<serde_json::Value>(&out).ok().and_then(|v| v["error"]["code"].as_str().map(str::to_string)).unwrap_or_default();
            if code == "request_malformed" {
                // Name the field: the same parse natively, with its path (error path only).
                if let Err(message) = parse_with_path::<vitrine_engine::decision::DecideRequest>(&request) {
                    return malformed(message);
                }
            }
            let status = if code == "internal" || code.is_empty() { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::BAD_REQUEST };
            (status, [(header::CONTENT_TYPE, "application/json")], out).into_response()
        }
    }
}

/// `GET /v1/bundle`: the signed bundle, `ETag` = its SHA-256; `If-None-Match` → 304.
pub async fn bundle(State(state): Shared, headers: HeaderMap) -> Response {
    let d = state.runtime.current();
    let etag = format!("\"{}\"", d.bundle_sha256);
    let matches = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let version = d.version().to_string();
    let mut res = if matches { StatusCode::NOT_MODIFIED.into_response() } else { (StatusCode::OK, Body::from(d.bundle.as_ref().clone())).into_response() };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if !matches {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    }
    if let Ok(v) = HeaderValue::from_str(&version) {
        h.insert("x-vitrine-bundle-version", v);
    }
    res
}

/// `GET /v1/bundle/key`: the bundle signer's public key that edges and browsers verify
/// bundles with (in production, pin it in the page or worker config instead).
pub async fn bundle_key(State(state): Shared) -> Response {
    json(StatusCode::OK, &serde_json::json!({ "public_key": state.bundle_key_hex }))
}

/// `GET /demo/login/{client}` (demo only, off by default): the client's snapshot without
/// the API key, as a simulated login would hand it to the page.
pub async fn demo_login(state: Shared, Path(client): Path<String>) -> Response {
    signed_snapshot(&state, client)
}

/// `GET /v1/snapshot/{client}` (API key): a freshly signed snapshot.
pub async fn snapshot(State(state): Shared, headers: HeaderMap, Path(client): Path<String>) -> Response {
    if let Err(r) = authorised(&state, &headers) {
        return *r;
    }
    signed_snapshot(&State(state), client)
}

fn signed_snapshot(State(state): &Shared, client: String) -> Response {
    let (Some(store), Some(signer)) = (&state.features, &state.signer) else {
        return error(StatusCode::NOT_FOUND, "snapshot_unavailable", "http", "this server has no feature store or snapshot key");
    };
    let issued = now();
    let signed = {
        let store = store.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        store.snapshot_content(&client, issued, state.snapshot_ttl).map(|content| signer.sign(store.schema(), &content))
    };
    match signed {
        Ok(Ok(bytes)) => json(StatusCode::OK, &serde_json::json!({ "client_id": client, "snapshot": encode_text(&bytes), "expires_at": issued + state.snapshot_ttl })),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.code(), "snapshot", e.to_string()),
        Err(e @ crate::store::StoreError::UnknownClient(_)) => error(StatusCode::NOT_FOUND, e.code(), "store", e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.code(), "store", e.to_string()),
    }
}

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
        return error(StatusCode::PAYLOAD_TOO_LARGE, "request_too_many", "request", format!("{} events in one batch; at most {}", batch.events.len(), state.limits.max_batch));
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
    json(StatusCode::ACCEPTED, &serde_json::json!({ "stored": counts[0], "duplicates": counts[1], "rejected": counts[2], "results": results }))
}

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
    let share = *state.holdout_share.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let path = state.feedback_path.clone();
    let built = tokio::task::spawn_blocking(move || crate::feedback::SqliteStore::open_reader(&path).and_then(|c| report::report(&c, range, share))).await;
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

/// `GET /metrics`.
pub async fn metrics(State(state): Shared) -> Response {
    state.metrics.bundle_version(state.runtime.current().version());
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

/// `GET /healthz`.
pub async fn healthz(State(state): Shared) -> Response {
    let d = state.runtime.current();
    json(StatusCode::OK, &serde_json::json!({ "status": "ok", "bundle": d.info["bundle"], "bundle_version": d.version(), "engine": d.module.hash }))
}

/// `GET /openapi.json`.
pub async fn openapi() -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], include_str!("openapi.json")).into_response()
}

fn deployed(state: &AppState, d: &crate::runtime::Deployment) -> Response {
    if let Some(share) = super::holdout_share(&d.bundle, &state.runtime.key()) {
        *state.holdout_share.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = share;
    }
    state.metrics.bundle_version(d.version());
    json(StatusCode::OK, &serde_json::json!({ "bundle": d.info["bundle"], "version": d.version(), "sha256": d.bundle_sha256, "engine": d.module.hash, "history": state.runtime.history() }))
}

/// `POST /v1/admin/bundle` (API key): verify and hot-swap a signed bundle.
pub async fn admin_bundle(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authorised(&state, &headers) {
        return *r;
    }
    let runtime = state.runtime.clone();
    match tokio::task::spawn_blocking(move || runtime.swap_bundle(body.to_vec())).await {
        Ok(Ok(d)) => deployed(&state, &d),
        Ok(Err(e)) => error(StatusCode::UNPROCESSABLE_ENTITY, e.code(), "bundle", e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal", e.to_string()),
    }
}

/// `POST /v1/admin/engine` (API key): compile, check and hot-swap an engine module.
pub async fn admin_engine(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authorised(&state, &headers) {
        return *r;
    }
    let runtime = state.runtime.clone();
    match tokio::task::spawn_blocking(move || runtime.swap_module(&body)).await {
        Ok(Ok(d)) => deployed(&state, &d),
        Ok(Err(e)) => error(StatusCode::UNPROCESSABLE_ENTITY, e.code(), "runtime", e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal", e.to_string()),
    }
}

/// `POST /v1/admin/rollback` (API key): back to the previous deployment.
pub async fn admin_rollback(State(state): Shared, headers: HeaderMap) -> Response {
    if let Err(r) = authorised(&state, &headers) {
        return *r;
    }
    let runtime = state.runtime.clone();
    match tokio::task::spawn_blocking(move || runtime.rollback()).await {
        Ok(Ok(d)) => deployed(&state, &d),
        Ok(Err(e)) => error(StatusCode::CONFLICT, e.code(), "runtime", e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal", e.to_string()),
    }
}
