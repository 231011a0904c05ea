//! `GET /v1/bundle` (the signed bundle, revalidated by `ETag`) and `GET /v1/bundle/key`.
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{json, Shared};

/// `GET /v1/bundle`: the signed bundle, `ETag` = its SHA-256; `If-None-Match` → 304.
pub async fn bundle(State(state): Shared, headers: HeaderMap) -> Response {
    let d = state.runtime.current();
    let etag = format!("\"{}\"", d.bundle_sha256);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let version = d.version().to_string();
    let mut res = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, Body::from(d.bundle.as_ref().clone())).into_response()
    };
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
