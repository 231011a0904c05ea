//! `vitrine-base`: the small things every host crate needs, written once.
//!
//! - [`keys`]: Ed25519 key files with a role (bundle or snapshot), and "load key, read
//!   bundle, verify" ([`keys::verified_bundle`]).
//! - [`atomic`]: whole-or-nothing file and folder writes.
//! - [`duration`]: `90s`, `15m`, `36h`, `7d`.
//! - [`suggest`]: "did you mean …?" for unknown names.
//! - [`hex`]: lowercase hex, and strict decoding.
//! - [`clock`]: the host's wall clock (the engine reads none; the host passes it in).
pub mod atomic;
pub mod clock;
pub mod duration;
pub mod hex;
pub mod hours;
pub mod keys;
pub mod signed;
pub mod suggest;
