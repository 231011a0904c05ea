//! The Wasm half of the JS face: `EngineCore`, text and bytes in and out, every answer
//! and every error made by the core (`api.rs`). The public API, `Engine` with
//! `load / decide / decideAsync / decideJson / info`, is the thin JS module
//! `engine/js/js/vitrine_engine.js` over it: it turns objects into JSON text and back,
//! throws `VitrineError`s, and runs WebCrypto. Crossing the boundary as text costs less
//! in V8 than converting objects field by field (BENCHMARKS.md), and gives every face one
//! parser and so one semantics.
use vitrine_engine::{api, Error};
use wasm_bindgen::prelude::*;

/// The error JSON `{"error":{code,stage,message}}` as a thrown JS string.
fn throw(error: &Error) -> JsValue {
    JsValue::from_str(&text(api::error_json(error)))
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_default()
}

/// The HTTP status for an engine error code (500 for `internal`, else 400): the core's
/// rule, so an edge worker answers exactly as the server does.
#[wasm_bindgen(js_name = httpStatus)]
pub fn http_status(code: &str) -> u16 {
    vitrine_engine::error::http_status(code)
}

/// The error JSON of a malformed request (`request_malformed`), for what the JS side
/// refuses before any text reaches the parser (not a string, not an object).
#[wasm_bindgen(js_name = malformedJson)]
pub fn malformed_json(message: &str) -> String {
    text(api::error_json(&vitrine_engine::decision::RequestError::Malformed(message.to_string()).into()))
}

/// The error JSON of a call with an argument of the wrong type (`argument_type`), e.g.
/// an object passed to `decideJson`.
#[wasm_bindgen(js_name = argumentJson)]
pub fn argument_json(message: &str) -> String {
    text(api::error_json(&Error::Argument(message.to_string())))
}

/// A loaded, verified bundle (used through `Engine` in vitrine_engine.js).
#[wasm_bindgen]
#[derive(Debug)]
pub struct EngineCore(vitrine_engine::Engine);

#[wasm_bindgen]
impl EngineCore {
    /// Verifies the signed bundle with the 32-byte bundle public key and loads it;
    /// throws the error JSON.
    pub fn load(bundle: &[u8], public_key: &[u8]) -> Result<EngineCore, JsValue> {
        api::load(bundle, public_key).map(EngineCore).map_err(|e| throw(&e))
    }

    /// The same with the key as text: 64 hex digits or a bundle key file's JSON.
    #[wasm_bindgen(js_name = loadKeyText)]
    pub fn load_key_text(bundle: &[u8], public_key: &str) -> Result<EngineCore, JsValue> {
        let key = api::bundle_key_from_text(public_key).map_err(|e| throw(&e))?;
        Self::load(bundle, &key)
    }

    /// Resizes the verified-snapshot cache (emptying it); throws the error JSON for a
    /// number that is not a whole count (`argument_type`) or is past the limit.
    #[wasm_bindgen(js_name = setSnapshotCacheEntries)]
    pub fn set_snapshot_cache_entries(&mut self, entries: f64) -> Result<(), JsValue> {
        if !(entries.is_finite() && entries >= 0.0 && entries.fract() == 0.0) {
            return Err(throw(&Error::Argument(format!("Engine.load: snapshotCacheEntries must be a whole number ≥ 0, got {entries}"))));
        }
        self.0.set_snapshot_cache_entries(entries as u64).map_err(|e| throw(&e))
    }

    /// Decides a JSON request; returns the response JSON (byte-identical to the raw ABI's)
    /// or the error JSON.
    #[wasm_bindgen(js_name = decideJson)]
    pub fn decide_json(&mut self, request: &str) -> String {
        text(api::decide_json(&mut self.0, request.as_bytes()))
    }

    /// The bundle summary and the snapshot cache's counters as JSON.
    #[wasm_bindgen(js_name = infoJson)]
    pub fn info_json(&self) -> String {
        text(api::info_json(&self.0))
    }

    /// For an outside Ed25519 verifier: key (32 bytes) ‖ signature (64) ‖ signed message,
    /// or `undefined` when there is nothing to verify outside (see the core's
    /// `Engine::snapshot_signing_input`).
    #[wasm_bindgen(js_name = signingInput)]
    pub fn signing_input(&self, snapshot: &str) -> Option<Vec<u8>> {
        self.0.snapshot_signing_input(snapshot).map(|s| [&s.public_key[..], &s.signature[..], &s.message[..]].concat())
    }

    /// Caches `snapshot` as verified after WebCrypto accepted [`Self::signing_input`];
    /// called only by `decideAsync` in vitrine_engine.js, right after that check.
    #[wasm_bindgen(js_name = admitVerified)]
    pub fn admit_verified(&mut self, snapshot: &str) -> bool {
        self.0.admit_externally_verified(snapshot)
    }
}
