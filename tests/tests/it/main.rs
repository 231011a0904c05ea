//! The conformance suite, one binary: golden vectors natively and under Wasmtime, the
//! committed vectors against a fresh generation, and host → engine end to end.
mod abi_readme;
mod faces;
mod host_end_to_end;
mod native;
mod under_wasmtime;
mod vectors_current;
