//! Planner errors.
use std::path::PathBuf;

use vitrine_runtime::RuntimeError;
use vitrine_store::table::TableError;
use vitrine_store::StoreError;

/// Why a plan could not be made. On any error no output is left behind.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{path}: {reason}")]
    Config { path: PathBuf, reason: String },
    #[error("channel `{channel}` is not a channel of the bundle's schema (channels: {known})")]
    UnknownChannel { channel: String, known: String },
    #[error("channel `{channel}`: capacity {capacity} is negative")]
    NegativeCapacity { channel: String, capacity: i64 },
    #[error("channel `{channel}`: {reason}")]
    Slot { channel: String, reason: String },
    #[error("infeasible plan: `{constraint}`: {reason}")]
    Infeasible { constraint: String, reason: String },
    #[error("history store {path}: {reason}")]
    History { path: PathBuf, reason: String },
    #[error("{path}, line {line}: {reason}")]
    Proposals { path: PathBuf, line: u64, reason: String },
    #[error("scenario: {0}")]
    Scenario(String),
    #[error("the bundle does not load: {0}")]
    Bundle(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("logging the plan's decisions: {0}")]
    Feedback(#[from] vitrine_feedback::FeedbackError),
    #[error("client `{client}`: the engine refused the decision: {code}: {message}")]
    Decision { client: String, code: String, message: String },
    #[error("client `{0}` appears more than once in the input: each client is planned once")]
    DuplicateClient(String),
    #[error("client id `{0}…` is longer than 65,535 bytes")]
    ClientIdTooLong(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("recording the plan's profiles in the snapshot ledger: {0}")]
    Ledger(String),
    #[error("{path} exists: pass --force to replace it")]
    OutputExists { path: PathBuf },
}

impl PlanError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            PlanError::Config { .. } => "plan_config",
            PlanError::UnknownChannel { .. } => "plan_unknown_channel",
            PlanError::NegativeCapacity { .. } => "plan_negative_capacity",
            PlanError::Slot { .. } => "plan_slot",
            PlanError::Infeasible { .. } => "plan_infeasible",
            PlanError::History { .. } => "plan_history",
            PlanError::Scenario(_) => "plan_scenario",
            PlanError::Proposals { .. } => "plan_proposals",
            PlanError::Bundle(_) => "plan_bundle",
            PlanError::Store(e) => e.code(),
            PlanError::Runtime(e) => e.code(),
            PlanError::Table(e) => e.code(),
            PlanError::Feedback(e) => e.code(),
            PlanError::Decision { .. } => "plan_decision",
            PlanError::DuplicateClient(_) => "plan_duplicate_client",
            PlanError::ClientIdTooLong(_) => "plan_client_id_too_long",
            PlanError::Io { .. } => "plan_io",
            PlanError::Ledger(_) => "plan_ledger",
            PlanError::OutputExists { .. } => "plan_output_exists",
        }
    }
}
