//! Stage 1: the typed schema of per-client features and request-context fields.
//!
//! Every value the engine works on is an `f32` in a slot, `NaN` meaning missing:
//! numerics as themselves (after de-quantisation), booleans as 0/1, categoricals as
//! the index of their vocabulary entry. Rules know each slot's type from the typed
//! bytecode; models read the floats directly.
mod error;

pub use error::SchemaError;
use serde::{Deserialize, Serialize};

use crate::limits::{MAX_CHANNELS, MAX_CONTEXT_FIELDS, MAX_FEATURES, MAX_VOCAB};

/// The bundle's schema. Its [`Schema::hash`] is carried in every snapshot.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Schema {
    pub features: Vec<FeatureDef>,
    pub context: Vec<ContextField>,
    /// Channel names (`web`, `email`, `sms`, `push`, …); channel `i` has consent bit `i + 1`.
    pub channels: Vec<String>,
}

/// One per-client feature.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FeatureDef {
    pub name: String,
    pub kind: FeatureKind,
    /// Personal features are masked (read as missing) without profiling consent.
    pub personal: bool,
}

/// A feature's type and wire encoding.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    Numeric { quant: Quant },
    Categorical { vocab: Vec<String> },
    Boolean,
}

/// How a numeric feature travels in a snapshot: value = offset + scale × stored.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Quant {
    F32,
    U8 { scale: f32, offset: f32 },
    U16 { scale: f32, offset: f32 },
}

/// A request-context field (page, channel, device, hour, …).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ContextField {
    pub name: String,
    pub kind: ContextKind,
}

/// A context field's type.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum ContextKind {
    Number,
    Category { vocab: Vec<String> },
    Boolean,
}

/// Scalar type of a slot, as rules see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotType {
    Num,
    Bool,
    /// A categorical with this many vocabulary entries.
    Cat(u16),
}

impl FeatureDef {
    pub fn slot_type(&self) -> SlotType {
        match &self.kind {
            FeatureKind::Numeric { .. } => SlotType::Num,
            FeatureKind::Boolean => SlotType::Bool,
            FeatureKind::Categorical { vocab } => SlotType::Cat(vocab.len() as u16),
        }
    }
}

impl ContextField {
    pub fn slot_type(&self) -> SlotType {
        match &self.kind {
            ContextKind::Number => SlotType::Num,
            ContextKind::Boolean => SlotType::Bool,
            ContextKind::Category { vocab } => SlotType::Cat(vocab.len() as u16),
        }
    }
}

impl Schema {
    /// 8-byte identity of this schema: SHA-256 over its canonical binary encoding.
    pub fn hash(&self) -> [u8; 8] {
        let bytes = postcard::to_allocvec(self).unwrap_or_default();
        let full = crate::sha256(b"vitrine/schema/v1\0", &[&bytes]);
        let mut out = [0u8; 8];
        out.copy_from_slice(&full[..8]);
        out
    }

    /// Index of a feature by name.
    pub fn feature(&self, name: &str) -> Option<usize> {
        self.features.iter().position(|f| f.name == name)
    }

    /// Index of a context field by name.
    pub fn context_field(&self, name: &str) -> Option<usize> {
        self.context.iter().position(|f| f.name == name)
    }

    /// Index of a channel by name.
    pub fn channel(&self, name: &str) -> Option<usize> {
        self.channels.iter().position(|c| c == name)
    }

    /// Checks sizes, names and encodings.
    pub fn validate(&self) -> Result<(), SchemaError> {
        check_len("features", self.features.len(), MAX_FEATURES)?;
        check_len("context fields", self.context.len(), MAX_CONTEXT_FIELDS)?;
        check_len("channels", self.channels.len(), MAX_CHANNELS)?;
        unique("feature", self.features.iter().map(|f| f.name.as_str()))?;
        unique("context field", self.context.iter().map(|f| f.name.as_str()))?;
        unique("channel", self.channels.iter().map(String::as_str))?;
        for f in &self.features {
            let bad = |reason: &str| SchemaError::BadFeature { name: f.name.clone(), reason: reason.to_string() };
            match &f.kind {
                FeatureKind::Numeric { quant: Quant::U8 { scale, offset } | Quant::U16 { scale, offset } } => {
                    if !(scale.is_finite() && *scale > 0.0 && offset.is_finite()) {
                        return Err(bad("quantisation scale must be finite and > 0, offset finite"));
                    }
                }
                FeatureKind::Numeric { quant: Quant::F32 } | FeatureKind::Boolean => {}
                FeatureKind::Categorical { vocab } => {
                    if vocab.is_empty() || vocab.len() > MAX_VOCAB {
                        return Err(bad("vocabulary must have 1 to 4096 entries"));
                    }
                    unique("vocabulary entry", vocab.iter().map(String::as_str))?;
                }
            }
        }
        for c in &self.context {
            if let ContextKind::Category { vocab } = &c.kind {
                if vocab.is_empty() || vocab.len() > MAX_VOCAB {
                    return Err(SchemaError::BadFeature { name: c.name.clone(), reason: "vocabulary must have 1 to 4096 entries".into() });
                }
                unique("vocabulary entry", vocab.iter().map(String::as_str))?;
            }
        }
        Ok(())
    }
}

fn check_len(what: &'static str, count: usize, limit: usize) -> Result<(), SchemaError> {
    if count > limit {
        return Err(SchemaError::TooLarge { what, count, limit });
    }
    Ok(())
}

fn unique<'a>(what: &'static str, names: impl Iterator<Item = &'a str>) -> Result<(), SchemaError> {
    let mut seen: Vec<&str> = names.collect();
    seen.sort_unstable();
    for w in seen.windows(2) {
        if w[0] == w[1] {
            return Err(SchemaError::Duplicate { what, name: w[0].to_string() });
        }
    }
    Ok(())
}
