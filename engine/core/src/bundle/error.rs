/// Why a bundle was refused at load.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BundleError {
    #[error("bundle does not start with the magic bytes `VBND`")]
    BadMagic,
    #[error("bundle format version {0} is not supported (expected 3: rebuild the bundle with this host's `vitrine bundle build`)")]
    BadVersion(u8),
    #[error("bundle is truncated: {needed} bytes needed, {got} present")]
    Truncated { needed: usize, got: usize },
    #[error("bundle is {got} bytes, more than the limit of {limit}")]
    Oversized { got: usize, limit: usize },
    #[error("bundle public key must be 32 bytes of a valid Ed25519 point")]
    BadKey,
    /// A key given as text that is neither 64 hex digits nor a bundle key file's JSON.
    #[error("bundle public key: {0}")]
    KeyText(String),
    #[error("bundle signature does not verify")]
    BadSignature,
    #[error("bundle payload does not decode: {0}")]
    Decode(String),
    #[error("bundle is invalid: {0}")]
    Invalid(String),
    #[error("cannot encode bundle: {0}")]
    Encode(String),
}

impl BundleError {
    pub fn code(&self) -> &'static str {
        match self {
            BundleError::BadMagic => "bundle_bad_magic",
            BundleError::BadVersion(_) => "bundle_bad_version",
            BundleError::Truncated { .. } => "bundle_truncated",
            BundleError::Oversized { .. } => "bundle_oversized",
            BundleError::BadKey | BundleError::KeyText(_) => "bundle_bad_key",
            BundleError::BadSignature => "bundle_bad_signature",
            BundleError::Decode(_) => "bundle_decode",
            BundleError::Invalid(_) => "bundle_invalid",
            BundleError::Encode(_) => "bundle_encode",
        }
    }
}
