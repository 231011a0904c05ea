//! The top-level error and its JSON shape, shared by every face.
use serde::Serialize;

use crate::{
    bundle::BundleError, decision::RequestError, models::ModelError, rules::RuleError, schema::SchemaError, snapshot::SnapshotError,
};

/// Any error the engine reports. Each stage has its own enum; `code()` is stable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Request(#[from] RequestError),
    /// An error inside a named part of the bundle (keeps the inner code).
    #[error("{within}: {inner}")]
    Within { within: String, inner: Box<Error> },
    /// A face was called with an argument of the wrong type (not a request or a bundle
    /// problem: the call itself is wrong, e.g. an object passed where JSON text goes).
    #[error("{0}")]
    Argument(String),
    /// A panic was caught at a face (a bug, never expected on any input).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Stable machine-readable code, e.g. `snapshot_expired`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Schema(e) => e.code(),
            Error::Snapshot(e) => e.code(),
            Error::Rule(e) => e.code(),
            Error::Model(e) => e.code(),
            Error::Bundle(e) => e.code(),
            Error::Request(e) => e.code(),
            Error::Within { inner, .. } => inner.code(),
            Error::Argument(_) => "argument_type",
            Error::Internal(_) => "internal",
        }
    }

    /// The pipeline stage that raised it.
    pub fn stage(&self) -> &'static str {
        match self {
            Error::Schema(_) => "schema",
            Error::Snapshot(_) => "snapshot",
            Error::Rule(_) => "rules",
            Error::Model(_) => "models",
            Error::Bundle(_) => "bundle",
            Error::Request(_) => "request",
            Error::Within { inner, .. } => inner.stage(),
            Error::Argument(_) => "face",
            Error::Internal(_) => "internal",
        }
    }

    /// Wraps `self` with the name of the part it happened in.
    pub fn within(self, what: impl Into<String>) -> Error {
        Error::Within { within: what.into(), inner: Box::new(self) }
    }

    /// The serialisable body every face emits.
    pub fn body(&self) -> ErrorBody {
        ErrorBody { code: self.code().to_string(), stage: self.stage().to_string(), message: self.to_string() }
    }
}

/// `{"code": …, "stage": …, "message": …}`: the error object of every face.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub stage: String,
    pub message: String,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: &'a ErrorBody,
}

/// The HTTP status for an engine error code, the one rule every face that answers over
/// HTTP uses (the server, the edge worker): `internal` (or no code) is the host's fault,
/// 500; every other code names something wrong with the request, its snapshot or its
/// bundle as sent, 400.
pub fn http_status(code: &str) -> u16 {
    if code.is_empty() || code == "internal" {
        500
    } else {
        400
    }
}

impl ErrorBody {
    /// [`http_status`] of this error's code.
    pub fn http_status(&self) -> u16 {
        http_status(&self.code)
    }

    /// `{"error":{"code":…,"stage":…,"message":…}}` as bytes.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&Envelope { error: self }).unwrap_or_else(|_| b"{\"error\":{\"code\":\"internal\"}}".to_vec())
    }
}

#[cfg(test)]
mod http_status_tests {
    #[test]
    fn http_status_rule() {
        assert_eq!(super::http_status("internal"), 500);
        assert_eq!(super::http_status(""), 500);
        for code in ["request_malformed", "snapshot_expired", "request_unknown_slot", "bundle_bad_signature"] {
            assert_eq!(super::http_status(code), 400, "{code}");
        }
    }
}
