//! The signed envelope (all integers little-endian):
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `VBND` |
//! | 1 | version = 3 (2 was the payload before the timing model, 1 before experiment arms and uplift scores: both refused) |
//! | 1 | key id length `k` (1..=32) |
//! | k | key id (UTF-8) |
//! | 4 | payload length `n` |
//! | n | payload: `postcard` encoding of [`Bundle`] |
//! | 64 | Ed25519 signature over `"vitrine/bundle/v1\0"` ‖ all bytes above |
use ed25519_dalek::{Signature, VerifyingKey};

use super::{Bundle, BundleError};
use crate::limits::MAX_BUNDLE_BYTES;

pub const MAGIC: [u8; 4] = *b"VBND";
pub const VERSION: u8 = 3;
pub const SIGNING_DOMAIN: &[u8] = b"vitrine/bundle/v1\0";
const SIG: usize = 64;

/// Parsed envelope, signature not yet checked.
#[derive(Debug, Clone, Copy)]
pub struct UnverifiedBundle<'a> {
    bytes: &'a [u8],
    kid: &'a [u8],
    payload: &'a [u8],
    signature: [u8; SIG],
}

/// A bundle whose signature verified and whose contents passed validation; only
/// [`UnverifiedBundle::verify`] makes one.
#[derive(Debug, Clone)]
pub struct VerifiedBundle {
    bundle: Bundle,
    kid: String,
    hash: [u8; 32],
}

impl VerifiedBundle {
    /// The bundle.
    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }
    /// The key id it was signed under.
    pub fn kid(&self) -> &str {
        &self.kid
    }
    /// SHA-256 of the whole signed bytes.
    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }
    /// Takes the bundle out.
    pub fn into_bundle(self) -> Bundle {
        self.bundle
    }
}

impl<'a> UnverifiedBundle<'a> {
    /// Parses the envelope layout.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, BundleError> {
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(BundleError::Oversized { got: bytes.len(), limit: MAX_BUNDLE_BYTES });
        }
        let need = |n: usize| if bytes.len() < n { Err(BundleError::Truncated { needed: n, got: bytes.len() }) } else { Ok(()) };
        need(6)?;
        if bytes[..4] != MAGIC {
            return Err(BundleError::BadMagic);
        }
        if bytes[4] != VERSION {
            return Err(BundleError::BadVersion(bytes[4]));
        }
        let k = bytes[5] as usize;
        if k == 0 || k > 32 {
            return Err(BundleError::Decode(format!("key id length {k} is not 1..=32")));
        }
        need(6 + k + 4)?;
        let kid = &bytes[6..6 + k];
        let mut len = [0u8; 4];
        len.copy_from_slice(&bytes[6 + k..10 + k]);
        let n = u32::from_le_bytes(len) as usize;
        let body = 10 + k;
        need(body.saturating_add(n).saturating_add(SIG))?;
        if bytes.len() != body + n + SIG {
            return Err(BundleError::Decode(format!("{} bytes after the signature", bytes.len() - (body + n + SIG))));
        }
        let mut signature = [0u8; SIG];
        signature.copy_from_slice(&bytes[body + n..]);
        Ok(UnverifiedBundle { bytes, kid, payload: &bytes[body..body + n], signature })
    }

    /// Verifies the signature with `public_key`, decodes and validates the payload.
    pub fn verify(self, public_key: &[u8]) -> Result<VerifiedBundle, crate::Error> {
        let key: [u8; 32] = public_key.try_into().map_err(|_| BundleError::BadKey)?;
        let key = VerifyingKey::from_bytes(&key).map_err(|_| BundleError::BadKey)?;
        let signed = &self.bytes[..self.bytes.len() - SIG];
        let message = [SIGNING_DOMAIN, signed].concat();
        key.verify_strict(&message, &Signature::from_bytes(&self.signature)).map_err(|_| BundleError::BadSignature)?;
        let bundle: Bundle = postcard::from_bytes(self.payload).map_err(|e| BundleError::Decode(e.to_string()))?;
        bundle.validate()?;
        let hash = crate::sha256(b"", &[self.bytes]);
        Ok(VerifiedBundle { bundle, kid: String::from_utf8_lossy(self.kid).into_owned(), hash })
    }
}

/// Validates, encodes and signs `bundle` (host side).
#[cfg(feature = "signing")]
pub fn sign(bundle: &Bundle, kid: &str, key: &ed25519_dalek::SigningKey) -> Result<Vec<u8>, crate::Error> {
    bundle.validate()?;
    sign_unvalidated(bundle, kid, key)
}

/// Encodes and signs `bundle` without validating it: for tests that need a validly
/// signed but invalid bundle. Hosts use [`sign`].
#[cfg(feature = "signing")]
pub fn sign_unvalidated(bundle: &Bundle, kid: &str, key: &ed25519_dalek::SigningKey) -> Result<Vec<u8>, crate::Error> {
    use ed25519_dalek::Signer;
    if kid.is_empty() || kid.len() > 32 {
        return Err(BundleError::Encode(format!("key id `{kid}` must be 1 to 32 bytes")).into());
    }
    let payload = postcard::to_allocvec(bundle).map_err(|e| BundleError::Encode(e.to_string()))?;
    let mut out = Vec::with_capacity(payload.len() + 128);
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.push(kid.len() as u8);
    out.extend_from_slice(kid.as_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&payload);
    let message = [SIGNING_DOMAIN, &out].concat();
    out.extend_from_slice(&key.sign(&message).to_bytes());
    if out.len() > MAX_BUNDLE_BYTES {
        return Err(BundleError::Oversized { got: out.len(), limit: MAX_BUNDLE_BYTES }.into());
    }
    Ok(out)
}
