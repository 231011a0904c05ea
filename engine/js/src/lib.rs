//! The JS face: `Engine.load(bundleBytes, bundlePublicKey)`, `engine.decide(request)`,
//! `engine.decideJson(text)`, `engine.info()`, and `httpStatus(code)`. Errors are thrown as plain objects
//! `{ code, stage, message }`, the same body the raw ABI returns.
use serde::Serialize;
use vitrine_engine::decision::DecideRequest;
use vitrine_engine::{api, Error};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** A decide request; see engine/abi/README.md for every field. */
export interface DecideRequest {
  snapshot?: string | null;
  now: number;
  seed: number;
  context?: Record<string, number | string | boolean>;
  slots: { slot: string; k?: number | null }[];
  history?: { offer: string; channel?: string | null; kind: "impression" | "contact" | "click" | "conversion" | "dismiss"; at: number }[];
  explain?: boolean;
}
export interface Creative { title: string; text: string; image: string; url: string; price: number | null }
export interface Chosen {
  rank: number; offer: string; kind: "offer" | "service"; category: string; treatment: string; creative: Creative;
  /** The score: a propensity; for an uplift-scored offer P(sale | contacted) (or the uplift); 1 in the BAU ranking. */
  p: number; c: number; v: number; l: number;
  /** score × C × V × L − cost, or the fixed BAU priority. */
  priority: number;
  /** The contact's cost on this slot's channel (absent when 0). */
  cost?: number;
  /** Uplift-scored offers: P(sale | contacted), P(sale | not contacted) (when the model gives them) and their difference. */
  p_treated?: number; p_control?: number; uplift?: number;
  selection_probability: number; probability_kind: "exact" | "estimated";
}
export interface DecisionRecord {
  decision_id: string; bundle: string; bundle_version: number; bundle_hash: string;
  snapshot_hash: string | null; subject: string | null; seed: number; now: number;
  context: Record<string, number | string | boolean>; slots: { slot: string; k: number | null }[]; history_hash: string;
  consent: { profiling: boolean; channels: string[] };
  /** The experiment arm, a salted hash of the subject (recomputable from the pseudonym and the bundle's salt); null when anonymous. */
  arm: "personalised" | "bau" | "no_contact" | null;
  /** A no_contact client: the uplift-scored offers the personalised ranking would have shown. */
  withheld?: { slot: string; channel: string; offer: string; uplift: number }[];
  engine_version: string;
}
export interface DecideResponse {
  decision_id: string;
  mode: "personalised" | "anonymous" | "no_profiling_consent" | "bau" | "no_contact";
  slots: { slot: string; channel: string; offers: Chosen[] }[];
  record: DecisionRecord;
  explain?: { slot: string; offer: string; reason: string }[];
}
export interface EngineInfo {
  bundle: string; version: number; hash: string; schema_hash: string; offers: number;
  slots: string[]; channels: string[]; features: number; models: number; engine_version: string;
}
/** What every method throws. */
export interface EngineError { code: string; stage: string; message: string }
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "DecideRequest")]
    pub type DecideRequestJs;
    #[wasm_bindgen(typescript_type = "DecideResponse")]
    pub type DecideResponseJs;
    #[wasm_bindgen(typescript_type = "EngineInfo")]
    pub type EngineInfoJs;
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| throw(&Error::Internal(e.to_string())))
}

fn throw(error: &Error) -> JsValue {
    error.body().serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or_else(|_| JsValue::from_str(error.code()))
}

/// The HTTP status for an engine error code (500 for `internal`, else 400): the core's
/// rule, so an edge worker answers exactly as the server does.
#[wasm_bindgen(js_name = httpStatus)]
pub fn http_status(code: &str) -> u16 {
    vitrine_engine::error::http_status(code)
}

/// A loaded, verified bundle.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Engine(vitrine_engine::Engine);

#[wasm_bindgen]
impl Engine {
    /// Verifies the signed bundle with the bundle public key (32 bytes) and loads it.
    pub fn load(bundle: &[u8], public_key: &[u8]) -> Result<Engine, JsValue> {
        api::load(bundle, public_key).map(Engine).map_err(|e| throw(&e))
    }

    /// Decides a request given as a JS object; returns a plain JS object.
    pub fn decide(&mut self, request: DecideRequestJs) -> Result<DecideResponseJs, JsValue> {
        let req: DecideRequest = serde_wasm_bindgen::from_value(request.into())
            .map_err(|e| throw(&vitrine_engine::decision::RequestError::Malformed(e.to_string()).into()))?;
        let resp = self.0.decide(&req).map_err(|e| throw(&e))?;
        Ok(to_js(&resp)?.unchecked_into())
    }

    /// Decides a JSON request; returns the response JSON, byte-identical to the raw
    /// ABI's, or the error JSON `{"error":{…}}`.
    #[wasm_bindgen(js_name = decideJson)]
    pub fn decide_json(&mut self, request: &str) -> String {
        String::from_utf8(api::decide_json(&mut self.0, request.as_bytes())).unwrap_or_default()
    }

    /// A summary of the loaded bundle.
    pub fn info(&self) -> Result<EngineInfoJs, JsValue> {
        Ok(to_js(&self.0.info())?.unchecked_into())
    }
}
