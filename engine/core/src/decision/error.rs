/// Errors in a decide request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    #[error("request is not valid JSON for a decide request: {0}")]
    Malformed(String),
    #[error("request is {got} bytes, more than the limit of {limit}")]
    TooLarge { got: usize, limit: usize },
    #[error("request has {count} {what}, more than the bundle's limit of {limit}")]
    TooMany { what: &'static str, count: usize, limit: usize },
    #[error("slot `{0}` is not defined by this bundle")]
    UnknownSlot(String),
    #[error("context field `{0}` is not defined by this bundle's schema")]
    UnknownContext(String),
    #[error("context field `{field}`: {reason}")]
    ContextType { field: String, reason: String },
    #[error("channel `{0}` is not defined by this bundle's schema")]
    UnknownChannel(String),
    #[error("`{field}`: {reason}")]
    BadValue { field: &'static str, reason: String },
    #[error("profile: {0}")]
    BadProfile(String),
    #[error("`now` is {0}, which looks like milliseconds: `now` is unix seconds (in JS, Math.floor(Date.now() / 1000))")]
    NowInMilliseconds(u64),
}

impl RequestError {
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::Malformed(_) => "request_malformed",
            RequestError::TooLarge { .. } => "request_too_large",
            RequestError::TooMany { .. } => "request_too_many",
            RequestError::UnknownSlot(_) => "request_unknown_slot",
            RequestError::UnknownContext(_) => "request_unknown_context",
            RequestError::ContextType { .. } => "request_context_type",
            RequestError::UnknownChannel(_) => "request_unknown_channel",
            RequestError::BadValue { .. } => "request_bad_value",
            RequestError::BadProfile(_) => "request_bad_profile",
            RequestError::NowInMilliseconds(_) => "request_now_in_milliseconds",
        }
    }
}
