//! # vitrine-engine
//!
//! The pure decision core of Vitrine. Given a signed [`bundle`] (schema, offers, rules,
//! models, policy) and one [`decision::DecideRequest`] (a signed per-client snapshot,
//! the page context, the slots to fill, the contact history, `now` and a seed), it
//! returns ranked offers per slot plus a decision record that is enough to replay the
//! decision exactly.
//!
//! The core does no I/O, reads no clock and draws no entropy: time and seeds come in
//! the request. It never panics on input and every loop over input is bounded by
//! [`limits::Limits`]. The two Wasm faces (`vitrine-engine-js`, `vitrine-engine-abi`)
//! are thin; everything they share, including the JSON error shape, lives in [`api`].
//!
//! ```
//! use vitrine_engine::{api, testkit};
//! let fx = testkit::Fixture::telco();
//! let mut engine = api::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
//! let request = fx.request_json(0, 1_800_000_000, 42);
//! let out = api::decide_json(&mut engine, request.as_bytes());
//! assert!(String::from_utf8(out).unwrap().starts_with("{\"decision_id\""));
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod api;
pub mod bundle;
pub mod decision;
pub mod engine;
pub mod error;
pub mod limits;
pub mod models;
pub mod policy;
pub mod rules;
pub mod schema;
pub mod snapshot;
/// Fixtures panic on their own programming errors (never on input), hence the allow.
#[cfg(feature = "testkit")]
#[allow(clippy::panic)]
pub mod testkit;

pub use engine::Engine;
pub use error::{Error, ErrorBody};

/// The engine's own version, written into every decision record.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// SHA-256 of `parts` with a domain-separation prefix.
pub(crate) fn sha256(domain: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(domain);
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Lower-case hex of `bytes` (short identifiers in JSON output).
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}
