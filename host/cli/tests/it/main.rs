//! The `vitrine` command end to end, one test binary: the bundle compiler and feature
//! store through the CLI, the server over real HTTP on 127.0.0.1, durability under
//! kill -9, the closed loop, the planner, the demo world, and the binary on its own.
mod bundle_build;
mod bundle_models;
mod closed_loop;
mod common;
mod demo_world;
mod export_training;
mod feature_import_parquet;
mod feature_store;
mod feedback_crash;
mod learn_cli;
mod learn_truth;
mod learn_uplift_truth;
mod learning_loop;
mod ledger;
mod ope_cli;
mod plan;
mod plan_history;
mod plan_timing;
mod scenario;
mod serve_http;
mod standalone;
mod trigger_http;
mod uplift_policy;
