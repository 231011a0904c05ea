//! One decision per client through the engine: natively (the core linked in) or under
//! Wasmtime (`engine-abi.wasm`'s `vitrine_plan`), both from the same request.
use std::sync::Mutex;

use vitrine_engine::decision::{DecideRequest, DecideResponse, DecisionRecord, HistoryEntry, Mode, PlanRequest, SlotRequest};
use vitrine_engine::Engine;

use crate::config::PlanConfig;
use crate::input::Client;
use crate::PlanError;
use vitrine_runtime::Runtime;

/// Which engine decides.
#[allow(missing_debug_implementations)]
pub enum Deciders {
    /// The core, one loaded engine (and a reusable request) per worker thread.
    Native(Vec<Mutex<(Engine, DecideRequest)>>),
    /// `engine-abi.wasm` under Wasmtime (warm instances from the runtime's pool).
    Wasm(Runtime),
}

/// Why a client gets no contact before allocation, or that it has candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Candidates,
    /// In the `no_contact` arm with no service action to send.
    NoContact,
    NoChannelConsent,
    NoEligibleOffer,
}

/// One offer the engine proposed on one planned channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// Index of the channel in the plan (preference order).
    pub channel: u8,
    pub rank: u8,
    pub offer: String,
    pub treatment: String,
    pub priority: f64,
    pub selection_probability: f64,
    /// The predicted uplift (uplift-scored offers).
    pub uplift: Option<f32>,
}

/// A client's decision, reduced to what planning needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub id: String,
    pub decision_id: String,
    pub status: Status,
    pub proposals: Vec<Proposal>,
    /// The decision record, when asked for (logged to the feedback store with `--feedback`).
    pub record: Option<DecisionRecord>,
}

/// The exploration seed of `client` in a plan seeded `seed`: SHA-256 of
/// `"vitrine/plan-seed/v1\0" ‖ seed (u64 LE) ‖ client id`, first 8 bytes LE, 53 bits.
pub fn client_seed(seed: u64, client: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"vitrine/plan-seed/v1\0");
    h.update(seed.to_le_bytes());
    h.update(client.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_le_bytes(b) & vitrine_engine::limits::MAX_SEED
}

/// The decide request the planner makes for `client` (no snapshot: the profile stands in).
pub fn request(config: &PlanConfig, client: &str) -> DecideRequest {
    DecideRequest {
        snapshot: None,
        now: config.now(),
        seed: client_seed(config.seed, client),
        context: config.context.clone(),
        slots: config.channels.iter().map(|c| SlotRequest { slot: c.slot.clone(), k: Some(c.k) }).collect(),
        history: Vec::new(),
        explain: false,
    }
}

/// The JSON plan request for `client` with its contact `history` (what the Wasm engine
/// and the Spark job take).
pub fn plan_json(config: &PlanConfig, schema: &vitrine_engine::schema::Schema, client: &Client, history: &[HistoryEntry]) -> Vec<u8> {
    let mut request = request(config, &client.id);
    request.history = history.to_vec();
    let req = PlanRequest { profile: client.profile.to_wire(schema), request };
    serde_json::to_vec(&req).unwrap_or_default()
}

impl Deciders {
    /// Decides for `client` with its contact `history`; keeps the decision record if
    /// `keep_record`.
    pub fn decide(
        &self,
        config: &PlanConfig,
        schema: &vitrine_engine::schema::Schema,
        client: &Client,
        history: Vec<HistoryEntry>,
        keep_record: bool,
    ) -> Result<Outcome, PlanError> {
        let refused = |code: String, message: String| PlanError::Decision { client: client.id.clone(), code, message };
        let response: DecideResponse = match self {
            Deciders::Native(engines) => {
                let slot = rayon::current_thread_index().unwrap_or(0) % engines.len().max(1);
                let mut worker = engines[slot].lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let (engine, req) = &mut *worker;
                // Only the seed differs between two clients' requests.
                req.seed = client_seed(config.seed, &client.id);
                req.history = history;
                let r = engine.decide_profile(req, &client.profile);
                req.history.clear();
                r.map_err(|e| refused(e.code().to_string(), e.to_string()))?
            }
            Deciders::Wasm(runtime) => {
                let out = runtime.plan(&plan_json(config, schema, client, &history))?;
                return match vitrine_runtime::reply::<GuestResponse>(&out) {
                    Ok(r) => Ok(outcome(config, client, r.into_response(), keep_record)),
                    Err(e) => Err(refused(e.code, e.message)),
                };
            }
        };
        Ok(outcome(config, client, Response::from(response), keep_record))
    }
}

/// (rank, offer, treatment, priority, selection probability, uplift) of one chosen offer.
type Pick = (u8, String, String, f64, f64, Option<f32>);

/// What planning reads of a response (native or from the guest's JSON).
struct Response {
    decision_id: String,
    mode: Mode,
    /// Per slot: (rank, offer, treatment, priority, selection probability).
    slots: Vec<Vec<Pick>>,
    record: DecisionRecord,
}

impl From<DecideResponse> for Response {
    fn from(r: DecideResponse) -> Self {
        Response {
            decision_id: r.decision_id,
            mode: r.mode,
            slots: r
                .slots
                .into_iter()
                .map(|s| {
                    s.offers.into_iter().map(|o| (o.rank, o.offer, o.treatment, o.priority, o.selection_probability, o.uplift)).collect()
                })
                .collect(),
            record: r.record,
        }
    }
}

// The guest's JSON, with the two numbers planning sorts and writes kept as text and
// parsed by `str::parse` (correctly rounded): serde_json's own float parsing (without
// `float_roundtrip`, which the engine does not carry, for size) can be one ulp off, and
// a plan under Wasmtime must equal the native one bit for bit.
#[derive(serde::Deserialize)]
struct GuestResponse {
    decision_id: String,
    mode: Mode,
    slots: Vec<GuestSlot>,
    record: DecisionRecord,
}

#[derive(serde::Deserialize)]
struct GuestSlot {
    offers: Vec<GuestChosen>,
}

#[derive(serde::Deserialize)]
struct GuestChosen {
    rank: u8,
    offer: String,
    treatment: String,
    priority: Box<serde_json::value::RawValue>,
    selection_probability: Box<serde_json::value::RawValue>,
    #[serde(default)]
    uplift: Option<f32>,
}

impl GuestResponse {
    fn into_response(self) -> Response {
        let num = |r: &serde_json::value::RawValue| r.get().parse::<f64>().unwrap_or(f64::NAN);
        Response {
            decision_id: self.decision_id,
            mode: self.mode,
            slots: self
                .slots
                .into_iter()
                .map(|s| {
                    s.offers
                        .into_iter()
                        .map(|o| (o.rank, o.offer, o.treatment, num(&o.priority), num(&o.selection_probability), o.uplift))
                        .collect()
                })
                .collect(),
            record: self.record,
        }
    }
}

fn outcome(config: &PlanConfig, client: &Client, r: Response, keep_record: bool) -> Outcome {
    let planned_consent = config.channels.iter().any(|c| r.record.consent.channels.contains(&c.name));
    let mut proposals = Vec::new();
    // A `no_contact` client's decision holds service actions only (the engine withholds
    // every commercial offer), so whatever it proposes may be sent.
    for (ch, slot) in r.slots.into_iter().enumerate() {
        for (rank, offer, treatment, priority, selection_probability, uplift) in slot {
            proposals.push(Proposal { channel: ch as u8, rank, offer, treatment, priority, selection_probability, uplift });
        }
    }
    let status = if r.mode == Mode::NoContact && proposals.is_empty() {
        Status::NoContact
    } else if !planned_consent {
        Status::NoChannelConsent
    } else if proposals.is_empty() {
        Status::NoEligibleOffer
    } else {
        Status::Candidates
    };
    Outcome { id: client.id.clone(), decision_id: r.decision_id, status, proposals, record: keep_record.then_some(r.record) }
}
