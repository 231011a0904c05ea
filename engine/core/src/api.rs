//! What every face shares: loading, JSON in and out, and the error JSON shape
//! `{"error":{"code":…,"stage":…,"message":…}}`.
use crate::bundle::BundleError;
use crate::decision::{DecideRequest, DecideResponse, PlanRequest, RequestError};
use crate::limits::MAX_REQUEST_BYTES;
use crate::{Engine, Error};

/// Verifies and loads a signed bundle.
pub fn load(bundle: &[u8], public_key: &[u8]) -> Result<Engine, Error> {
    Engine::load(bundle, public_key)
}

/// The 32 bytes of a bundle public key given as text: 64 hex digits, or the JSON of a
/// key file as `vitrine keys new` writes it (`{"kid", "role": "bundle", "public_key"}`;
/// a key of another role is refused).
pub fn bundle_key_from_text(text: &str) -> Result<[u8; 32], Error> {
    let bad = |why: String| Error::from(BundleError::KeyText(why));
    let text = text.trim();
    let hex = if text.starts_with('{') {
        let file: KeyFile = serde_json::from_str(text).map_err(|e| bad(format!("not a key file: {e}")))?;
        if let Some(role) = file.role.filter(|r| r != "bundle") {
            return Err(bad(format!("this is a `{role}` key; the bundle is verified with the `bundle` key")));
        }
        file.public_key
    } else {
        text.to_string()
    };
    let digits = hex.as_bytes();
    if digits.len() != 64 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(bad(format!("expected 64 hex digits (32 bytes), got {} characters", digits.len())));
    }
    let mut key = [0u8; 32];
    for (i, pair) in digits.chunks(2).enumerate() {
        let nibble = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
        key[i] = nibble(pair[0]) << 4 | nibble(pair[1]);
    }
    Ok(key)
}

#[derive(serde::Deserialize)]
struct KeyFile {
    #[serde(default)]
    role: Option<String>,
    public_key: String,
}

/// Parses a decide request from JSON bytes, with a size cap.
pub fn parse_request(bytes: &[u8]) -> Result<DecideRequest, Error> {
    parse_capped(bytes)
}

/// Parses a plan request (a trusted profile + a decide request) from JSON bytes.
pub fn parse_plan(bytes: &[u8]) -> Result<PlanRequest, Error> {
    parse_capped(bytes)
}

fn parse_capped<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    if bytes.len() > MAX_REQUEST_BYTES {
        return Err(RequestError::TooLarge { got: bytes.len(), limit: MAX_REQUEST_BYTES }.into());
    }
    serde_json::from_slice(bytes).map_err(|e| RequestError::Malformed(e.to_string()).into())
}

/// Decides a JSON request; returns the response JSON or the error JSON.
pub fn decide_json(engine: &mut Engine, request: &[u8]) -> Vec<u8> {
    respond(parse_request(request).and_then(|req| engine.decide(&req)))
}

/// Decides a JSON plan request; returns the response JSON or the error JSON. Only
/// hosts that read their own feature store call this (no signature is checked).
pub fn plan_json(engine: &mut Engine, request: &[u8]) -> Vec<u8> {
    respond(parse_plan(request).and_then(|req| engine.plan(&req)))
}

fn respond(result: Result<DecideResponse, Error>) -> Vec<u8> {
    match result {
        Ok(resp) => serde_json::to_vec(&resp).unwrap_or_else(|e| error_json(&Error::Internal(e.to_string()))),
        Err(e) => error_json(&e),
    }
}

/// The bundle summary as JSON.
pub fn info_json(engine: &Engine) -> Vec<u8> {
    serde_json::to_vec(&engine.info()).unwrap_or_else(|e| error_json(&Error::Internal(e.to_string())))
}

/// The error JSON shape of every face.
pub fn error_json(error: &Error) -> Vec<u8> {
    error.body().to_json()
}
