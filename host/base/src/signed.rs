//! "Load the key, read the bundle, verify": written once for every command and the
//! server.
use std::path::{Path, PathBuf};

use vitrine_engine::bundle::{Bundle, UnverifiedBundle};

use crate::keys::{load_public, KeyError, Role};

/// A signed bundle file, verified with a bundle-role public key file.
#[derive(Debug, Clone)]
pub struct SignedBundle {
    /// The file's exact bytes (what the engine loads).
    pub bytes: Vec<u8>,
    /// The signer's public key.
    pub key: [u8; 32],
    /// The signer's key id.
    pub kid: String,
    /// The verified content.
    pub bundle: Bundle,
}

/// Why a signed bundle could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SignedBundleError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message} ({code})")]
    Refused { path: PathBuf, code: &'static str, message: String },
}

impl SignedBundleError {
    /// Stable code: the key's or the engine's own code, or `bundle_io`.
    pub fn code(&self) -> &'static str {
        match self {
            SignedBundleError::Key(e) => e.code(),
            SignedBundleError::Io { .. } => "bundle_io",
            SignedBundleError::Refused { code, .. } => code,
        }
    }
}

/// Reads `bundle` and verifies it with the bundle-role public key file `key`.
pub fn read(bundle: &Path, key: &Path) -> Result<SignedBundle, SignedBundleError> {
    let public = load_public(key, Role::Bundle)?.bytes(key)?;
    let bytes = std::fs::read(bundle).map_err(|source| SignedBundleError::Io { path: bundle.to_path_buf(), source })?;
    let refused =
        |e: vitrine_engine::Error| SignedBundleError::Refused { path: bundle.to_path_buf(), code: e.code(), message: e.to_string() };
    let verified = UnverifiedBundle::parse(&bytes).map_err(|e| refused(e.into()))?.verify(&public).map_err(refused)?;
    let kid = verified.kid().to_string();
    Ok(SignedBundle { key: public, kid, bundle: verified.into_bundle(), bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_signed_by_another_key_is_refused_with_the_engine_code() {
        let dir = tempfile::tempdir().unwrap();
        crate::keys::generate("a", Role::Bundle, dir.path()).unwrap();
        crate::keys::generate("b", Role::Bundle, dir.path()).unwrap();
        let secret = crate::keys::load_secret(&dir.path().join("a.key"), Role::Bundle).unwrap();
        let bundle = vitrine_engine::testkit::Fixture::telco().bundle;
        let bytes = vitrine_engine::bundle::envelope::sign(&bundle, &secret.kid, &secret.key).unwrap();
        let path = dir.path().join("x.vbundle");
        std::fs::write(&path, &bytes).unwrap();
        let ok = read(&path, &dir.path().join("a.pub")).unwrap();
        assert_eq!((ok.bytes, ok.kid.as_str(), ok.bundle.name), (bytes, "a", bundle.name));
        let err = read(&path, &dir.path().join("b.pub")).unwrap_err();
        assert!(err.code().starts_with("bundle_"), "{err}");
        assert_eq!(read(&dir.path().join("none"), &dir.path().join("a.pub")).unwrap_err().code(), "bundle_io");
        assert_eq!(read(&path, &dir.path().join("a.key")).unwrap_err().code(), "key_malformed");
    }
}
