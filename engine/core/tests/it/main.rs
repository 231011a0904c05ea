//! The core's integration tests, one binary: property tests of bounds, consent and
//! determinism, limits, trusted profiles, the rules fast path, and snapshot tampering.
mod bounds;
mod consent;
mod determinism;
mod limits;
mod profile;
mod rules_fast;
mod tamper;
