//! Profiles: what a host that reads its own feature store (the campaign planner) hands
//! the engine in place of a signed snapshot. A profile goes through the very encoding
//! and quantisation of a snapshot, so the engine sees the same features; it carries no
//! signature, so only the plan entry point ([`crate::Engine::plan`]) takes one, never a
//! decide request.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::format::{decode_features, encode_features, SUBJECT_LEN};
use super::{channel_consent_bit, CONSENT_PROFILING};
use crate::decision::{ContextValue, RequestError};
use crate::schema::{FeatureKind, Schema};

/// One client's features and consents, trusted because the host read them itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The client's pseudonym (the feature store's salted hash of the client id).
    pub subject: [u8; SUBJECT_LEN],
    /// Consent bits: bit 0 profiling, bit `i + 1` channel `i`.
    pub consent: u16,
    /// One value per schema feature (`None` = missing); categoricals as vocabulary index.
    pub values: Vec<Option<f32>>,
}

/// The JSON form of a profile (the raw ABI's `vitrine_plan`, the Spark job).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProfileWire {
    /// 32 hex digits.
    pub subject: String,
    /// `profiling` and the channels the client consented to.
    #[serde(default)]
    pub consent: Vec<String>,
    /// Feature values by name: numbers, booleans, category labels; absent or `null` = missing.
    #[serde(default)]
    pub features: BTreeMap<String, Option<ContextValue>>,
}

impl ProfileWire {
    /// Checks every field against `schema`.
    pub fn resolve(&self, schema: &Schema) -> Result<Profile, RequestError> {
        let bad = |m: String| RequestError::BadProfile(m);
        let mut subject = [0u8; SUBJECT_LEN];
        let hex = self.subject.as_bytes();
        if hex.len() != 2 * SUBJECT_LEN {
            return Err(bad(format!("subject must be {} hex digits, got {}", 2 * SUBJECT_LEN, hex.len())));
        }
        for (i, pair) in hex.chunks(2).enumerate() {
            let digit = |c: u8| (c as char).to_digit(16);
            match (digit(pair[0]), digit(pair[1])) {
                (Some(h), Some(l)) => subject[i] = (h * 16 + l) as u8,
                _ => return Err(bad(format!("subject `{}` is not hex", self.subject))),
            }
        }
        let mut consent = 0u16;
        for c in &self.consent {
            consent |= if c == "profiling" {
                CONSENT_PROFILING
            } else {
                let i = schema.channel(c).ok_or_else(|| {
                    bad(format!("consent `{c}` is neither `profiling` nor a channel of the schema ({})", schema.channels.join(", ")))
                })?;
                channel_consent_bit(i)
            };
        }
        let mut values = vec![None; schema.features.len()];
        for (name, value) in &self.features {
            let i = schema.feature(name).ok_or_else(|| bad(format!("feature `{name}` is not in the schema")))?;
            let Some(value) = value else { continue };
            let f = &schema.features[i];
            values[i] = Some(match (&f.kind, value) {
                (FeatureKind::Numeric { .. }, ContextValue::Num(x)) if x.is_finite() && x.abs() <= f32::MAX as f64 => *x as f32,
                (FeatureKind::Boolean, ContextValue::Bool(b)) => f32::from(u8::from(*b)),
                (FeatureKind::Categorical { vocab }, ContextValue::Label(l)) => match vocab.iter().position(|v| v == l) {
                    Some(p) => p as f32,
                    None => return Err(bad(format!("feature `{name}`: `{l}` is not one of {vocab:?}"))),
                },
                (kind, v) => {
                    let want = match kind {
                        FeatureKind::Numeric { .. } => "a finite number",
                        FeatureKind::Boolean => "a boolean",
                        FeatureKind::Categorical { .. } => "a category label",
                    };
                    return Err(bad(format!("feature `{name}`: expected {want}, got {v:?}")));
                }
            });
        }
        Ok(Profile { subject, consent, values })
    }
}

impl Profile {
    /// The JSON form of this profile ([`ProfileWire::resolve`] reverses it).
    pub fn to_wire(&self, schema: &Schema) -> ProfileWire {
        let mut consent = Vec::new();
        if self.consent & CONSENT_PROFILING != 0 {
            consent.push("profiling".to_string());
        }
        consent.extend(
            schema.channels.iter().enumerate().filter(|(i, _)| self.consent & channel_consent_bit(*i) != 0).map(|(_, c)| c.clone()),
        );
        let features = schema
            .features
            .iter()
            .zip(&self.values)
            .filter_map(|(f, v)| {
                let x = (*v)?;
                let value = match &f.kind {
                    FeatureKind::Numeric { .. } => ContextValue::Num(x as f64),
                    FeatureKind::Boolean => ContextValue::Bool(x != 0.0),
                    FeatureKind::Categorical { vocab } => ContextValue::Label(vocab.get(x as usize)?.clone()),
                };
                Some((f.name.clone(), Some(value)))
            })
            .collect();
        ProfileWire { subject: crate::hex(&self.subject), consent, features }
    }

    /// The profile's identity (its decision records' `snapshot_hash`) and its values as
    /// the engine reads them (quantised exactly as a snapshot carries them; `None` =
    /// missing): what the host's ledger keeps for a planned decision.
    pub fn carried(&self, schema: &Schema) -> Result<([u8; 16], Vec<Option<f32>>), RequestError> {
        let (mut buf, mut features) = (Vec::new(), Vec::new());
        let id = self.decode(schema, &mut buf, &mut features)?;
        Ok((id, features.into_iter().map(|x| (!x.is_nan()).then_some(x)).collect()))
    }

    /// Encodes the values exactly as a snapshot would and decodes them into `features`
    /// (`NaN` = missing); returns the profile's identity for decision records.
    pub(crate) fn decode(&self, schema: &Schema, buf: &mut Vec<u8>, features: &mut Vec<f32>) -> Result<[u8; 16], RequestError> {
        buf.clear();
        encode_features(&self.values, schema, buf).map_err(|e| RequestError::BadProfile(e.to_string()))?;
        decode_features(buf, schema.features.len() as u16, schema, features).map_err(|e| RequestError::BadProfile(e.to_string()))?;
        let full = crate::sha256(b"vitrine/profile-id/v1\0", &[&self.subject, &self.consent.to_le_bytes(), &schema.hash(), buf]);
        let mut h = [0u8; 16];
        h.copy_from_slice(&full[..16]);
        Ok(h)
    }
}
