//! The API key as a route layer: snapshot and admin routes are wrapped in it, so no
//! handler can forget the check.
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::{error, Shared};

/// Lets the request through when the server has no API key or the request carries it
/// (`Authorization: Bearer <key>` or `X-Api-Key`); 401 otherwise.
pub async fn require_api_key(State(state): Shared, req: Request, next: Next) -> Response {
    match &state.api_key {
        Some(key) if !matches(key, req.headers()) => error(
            StatusCode::UNAUTHORIZED,
            "unauthorised",
            "http",
            "this route needs the API key (Authorization: Bearer <key> or X-Api-Key)",
        ),
        _ => next.run(req).await,
    }
}

fn matches(key: &str, headers: &HeaderMap) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()));
    // Constant-time comparison: the key must not leak through timing.
    given.is_some_and(|g| g.len() == key.len() && g.bytes().zip(key.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn bearer_or_x_api_key_and_nothing_else() {
        let mut h = HeaderMap::new();
        assert!(!matches("k1", &h));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer k1"));
        assert!(matches("k1", &h));
        assert!(!matches("k2", &h));
        assert!(!matches("k", &h), "a prefix is not the key");
        let mut h = HeaderMap::new();
        h.insert("x-api-key", HeaderValue::from_static("k1"));
        assert!(matches("k1", &h));
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic k1"));
        assert!(!matches("k1", &h), "only a bearer token is read from Authorization");
    }
}
