//! The core's integration tests, one binary: property tests of bounds, consent and
//! determinism, limits, trusted profiles, the rules fast path, snapshot tampering, the
//! experiment arms and uplift scoring.
mod arms;
mod bounds;
mod consent;
mod determinism;
mod external;
mod limits;
mod profile;
mod rules_fast;
mod tamper;
mod uplift;
