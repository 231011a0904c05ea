//! Parsing and encoding of the binary snapshot layout (see `FORMAT.md`).
use base64::Engine as _;

use super::SnapshotError;
use crate::limits::MAX_SNAPSHOT_BYTES;
use crate::schema::{FeatureKind, Quant, Schema};

/// `VSNP`.
pub const MAGIC: [u8; 4] = *b"VSNP";
/// Format version written and accepted.
pub const VERSION: u8 = 1;
pub(crate) const SIGNATURE_LEN: usize = 64;
pub(crate) const SUBJECT_LEN: usize = 16;

/// A parsed but not yet verified snapshot: nothing in it may be trusted.
#[derive(Debug, Clone, Copy)]
pub struct UnverifiedSnapshot<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) kid: &'a [u8],
    pub(crate) subject: [u8; SUBJECT_LEN],
    pub(crate) issued_at: u64,
    pub(crate) expires_at: u64,
    pub(crate) schema_hash: [u8; 8],
    pub(crate) consent: u16,
    pub(crate) n_features: u16,
    /// Presence bitmap followed by the present values.
    pub(crate) body: &'a [u8],
    pub(crate) signature: [u8; SIGNATURE_LEN],
}

/// Base64url (no padding) text form → bytes.
pub fn decode_text(text: &str) -> Result<Vec<u8>, SnapshotError> {
    if text.len() > MAX_SNAPSHOT_BYTES * 4 / 3 + 4 {
        return Err(SnapshotError::Oversized { got: text.len() * 3 / 4, limit: MAX_SNAPSHOT_BYTES });
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|e| SnapshotError::BadEncoding(e.to_string()))
}

/// Bytes → base64url (no padding), the cookie form.
pub fn encode_text(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Length available to the header and body (signature excluded).
    end: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        let stop = self
            .pos
            .checked_add(n)
            .filter(|&s| s <= self.end)
            .ok_or(SnapshotError::Truncated { needed: self.pos.saturating_add(n).saturating_add(SIGNATURE_LEN), got: self.bytes.len() })?;
        let out = &self.bytes[self.pos..stop];
        self.pos = stop;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, SnapshotError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, SnapshotError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u64(&mut self) -> Result<u64, SnapshotError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }
}

impl<'a> UnverifiedSnapshot<'a> {
    /// Parses the layout; checks magic, version and lengths only.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, SnapshotError> {
        if bytes.len() > MAX_SNAPSHOT_BYTES {
            return Err(SnapshotError::Oversized { got: bytes.len(), limit: MAX_SNAPSHOT_BYTES });
        }
        if bytes.len() < 5 {
            return Err(SnapshotError::Truncated { needed: 5, got: bytes.len() });
        }
        if bytes[..4] != MAGIC {
            return Err(SnapshotError::BadMagic);
        }
        if bytes[4] != VERSION {
            return Err(SnapshotError::BadVersion(bytes[4]));
        }
        let end = bytes.len().checked_sub(SIGNATURE_LEN).ok_or(SnapshotError::Truncated { needed: 5 + SIGNATURE_LEN, got: bytes.len() })?;
        let mut r = Reader { bytes, pos: 5, end };
        let kid_len = r.u8()? as usize;
        if kid_len == 0 || kid_len > 32 {
            return Err(SnapshotError::Malformed(format!("key id length {kid_len} is not 1..=32")));
        }
        let kid = r.take(kid_len)?;
        let mut subject = [0u8; SUBJECT_LEN];
        subject.copy_from_slice(r.take(SUBJECT_LEN)?);
        let issued_at = r.u64()?;
        let expires_at = r.u64()?;
        let mut schema_hash = [0u8; 8];
        schema_hash.copy_from_slice(r.take(8)?);
        let consent = r.u16()?;
        let n_features = r.u16()?;
        let body = &bytes[r.pos..end];
        let mut signature = [0u8; SIGNATURE_LEN];
        signature.copy_from_slice(&bytes[end..]);
        Ok(UnverifiedSnapshot { bytes, kid, subject, issued_at, expires_at, schema_hash, consent, n_features, body, signature })
    }

    /// The key id this snapshot claims to be signed with.
    pub fn kid(&self) -> &str {
        core::str::from_utf8(self.kid).unwrap_or("<not utf-8>")
    }

    /// The subject, as claimed (unverified).
    pub fn subject(&self) -> [u8; SUBJECT_LEN] {
        self.subject
    }

    /// Issue and expiry times (unix seconds), as claimed (unverified).
    pub fn issued_at(&self) -> u64 {
        self.issued_at
    }

    /// See [`UnverifiedSnapshot::issued_at`].
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// Consent bits, as claimed (unverified).
    pub fn consent(&self) -> u16 {
        self.consent
    }

    /// The hash of the schema the values were encoded for, as claimed (unverified).
    pub fn schema_hash(&self) -> [u8; 8] {
        self.schema_hash
    }

    /// The snapshot's identity in decision records: the first 16 bytes of
    /// `SHA-256("vitrine/snapshot-id/v1\0" ‖ all bytes, signature included)`.
    pub fn id(&self) -> [u8; 16] {
        snapshot_id(self.bytes)
    }

    /// What a host that signed these bytes itself recorded: the feature values as carried
    /// (quantised, `None` = missing). Never used to decide: decisions read features only
    /// from a verified [`super::Snapshot`].
    #[cfg(feature = "signing")]
    pub fn carried_values(&self, schema: &Schema) -> Result<Vec<Option<f32>>, SnapshotError> {
        let mut out = Vec::new();
        decode_features(self.body, self.n_features, schema, &mut out)?;
        Ok(out.into_iter().map(|x| (!x.is_nan()).then_some(x)).collect())
    }

    /// The bytes covered by the signature (everything before it).
    pub(crate) fn signed_part(&self) -> &'a [u8] {
        &self.bytes[..self.bytes.len() - SIGNATURE_LEN]
    }
}

/// The identity of snapshot `bytes` (see [`UnverifiedSnapshot::id`]).
pub fn snapshot_id(bytes: &[u8]) -> [u8; 16] {
    let full = crate::sha256(b"vitrine/snapshot-id/v1\0", &[bytes]);
    let mut h = [0u8; 16];
    h.copy_from_slice(&full[..16]);
    h
}

/// Width in bytes of one present value of this feature.
fn value_width(kind: &FeatureKind) -> usize {
    match kind {
        FeatureKind::Numeric { quant: Quant::F32 } => 4,
        FeatureKind::Numeric { quant: Quant::U8 { .. } } | FeatureKind::Boolean => 1,
        FeatureKind::Numeric { quant: Quant::U16 { .. } } => 2,
        FeatureKind::Categorical { vocab } if vocab.len() <= 256 => 1,
        FeatureKind::Categorical { .. } => 2,
    }
}

/// Decodes the body into `out` (one `f32` per feature, `NaN` = missing).
pub(crate) fn decode_features(body: &[u8], n_features: u16, schema: &Schema, out: &mut Vec<f32>) -> Result<(), SnapshotError> {
    let n = schema.features.len();
    if n_features as usize != n {
        return Err(SnapshotError::Malformed(format!("{n_features} features, schema has {n}")));
    }
    let bitmap_len = n.div_ceil(8);
    if body.len() < bitmap_len {
        return Err(SnapshotError::Truncated { needed: bitmap_len, got: body.len() });
    }
    let (bitmap, mut values) = body.split_at(bitmap_len);
    out.clear();
    out.reserve(n);
    for (i, f) in schema.features.iter().enumerate() {
        if bitmap[i / 8] & (1 << (i % 8)) == 0 {
            out.push(f32::NAN);
            continue;
        }
        let w = value_width(&f.kind);
        if values.len() < w {
            return Err(SnapshotError::Truncated { needed: w, got: values.len() });
        }
        let (v, rest) = values.split_at(w);
        values = rest;
        let x = match &f.kind {
            FeatureKind::Numeric { quant: Quant::F32 } => {
                let x = f32::from_le_bytes([v[0], v[1], v[2], v[3]]);
                if !x.is_finite() {
                    return Err(SnapshotError::Malformed(format!("feature `{}` is not finite", f.name)));
                }
                x
            }
            FeatureKind::Numeric { quant: Quant::U8 { scale, offset } } => offset + scale * v[0] as f32,
            FeatureKind::Numeric { quant: Quant::U16 { scale, offset } } => offset + scale * u16::from_le_bytes([v[0], v[1]]) as f32,
            FeatureKind::Boolean => match v[0] {
                0 => 0.0,
                1 => 1.0,
                b => return Err(SnapshotError::Malformed(format!("feature `{}`: boolean byte {b}", f.name))),
            },
            FeatureKind::Categorical { vocab } => {
                let idx = if w == 1 { v[0] as usize } else { u16::from_le_bytes([v[0], v[1]]) as usize };
                if idx >= vocab.len() {
                    return Err(SnapshotError::Malformed(format!("feature `{}`: category {idx} outside vocabulary", f.name)));
                }
                idx as f32
            }
        };
        out.push(x);
    }
    if !values.is_empty() {
        return Err(SnapshotError::Malformed(format!("{} trailing bytes after the features", values.len())));
    }
    Ok(())
}

/// Encodes the feature body (bitmap + present values) for `values` (`None`/NaN = missing).
pub(crate) fn encode_features(values: &[Option<f32>], schema: &Schema, out: &mut Vec<u8>) -> Result<(), SnapshotError> {
    let n = schema.features.len();
    if values.len() != n {
        return Err(SnapshotError::Encode(format!("{} values for {n} features", values.len())));
    }
    let start = out.len();
    out.resize(start + n.div_ceil(8), 0);
    for (i, (f, v)) in schema.features.iter().zip(values).enumerate() {
        let Some(x) = v.filter(|x| !x.is_nan()) else { continue };
        out[start + i / 8] |= 1 << (i % 8);
        let bad = |why: &str| SnapshotError::Encode(format!("feature `{}` = {x}: {why}", f.name));
        match &f.kind {
            FeatureKind::Numeric { quant: Quant::F32 } => {
                if !x.is_finite() {
                    return Err(bad("not finite"));
                }
                out.extend_from_slice(&x.to_le_bytes());
            }
            FeatureKind::Numeric { quant: Quant::U8 { scale, offset } } => {
                let q = libm::roundf((x - offset) / scale);
                if !(0.0..=255.0).contains(&q) {
                    return Err(bad("outside the u8 quantisation range"));
                }
                out.push(q as u8);
            }
            FeatureKind::Numeric { quant: Quant::U16 { scale, offset } } => {
                let q = libm::roundf((x - offset) / scale);
                if !(0.0..=65535.0).contains(&q) {
                    return Err(bad("outside the u16 quantisation range"));
                }
                out.extend_from_slice(&(q as u16).to_le_bytes());
            }
            FeatureKind::Boolean => match x {
                0.0 => out.push(0),
                1.0 => out.push(1),
                _ => return Err(bad("a boolean must be 0 or 1")),
            },
            FeatureKind::Categorical { vocab } => {
                if x < 0.0 || x.fract() != 0.0 || x as usize >= vocab.len() {
                    return Err(bad("not a vocabulary index"));
                }
                if vocab.len() <= 256 {
                    out.push(x as u8);
                } else {
                    out.extend_from_slice(&(x as u16).to_le_bytes());
                }
            }
        }
    }
    Ok(())
}
