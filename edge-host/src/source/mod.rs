//! A bundle source folder → a [`Bundle`](vitrine_engine::bundle::Bundle).
//!
//! The folder holds `bundle.toml` (schema, slots, offers with their treatments and
//! rules, policy, trusted snapshot key files) and any rule files it references as
//! `@rules/name.cel`. Names are checked with "did you mean" suggestions, rules are
//! compiled from CEL, and the result passes the engine's own validation before it is
//! signed. ONNX models listed under `[[models]]` are lowered and must pass the parity
//! gate against their reference outputs before an offer may use them.
mod error;
mod toml;

use std::path::{Path, PathBuf};

pub use error::SourceError;
use vitrine_engine::bundle::{Bundle, Creative, Offer, OfferKind, Propensity, SlotDef, Treatment};
use vitrine_engine::limits::Limits;
use vitrine_engine::policy::{Cap, CapScope, CategoryLever, ChannelCap, ContextWeight, Exploration, Holdout, Policy, Suppression, Thompson};
use vitrine_engine::rules::Program;
use vitrine_engine::schema::{ContextField, ContextKind, FeatureDef, FeatureKind, Quant, Schema};
use vitrine_engine::snapshot::TrustedKey;

use crate::keys::{load_public, Role};
use crate::onnx::{self, Lowered};
use crate::rules;

struct Ctx<'a> {
    dir: &'a Path,
    toml_path: PathBuf,
}

impl Ctx<'_> {
    fn invalid(&self, what: impl Into<String>, message: impl Into<String>) -> SourceError {
        SourceError::Invalid { path: self.toml_path.clone(), what: what.into(), message: message.into() }
    }

    fn unknown<'k>(&self, what: impl Into<String>, kind: &'static str, name: &str, known: impl Iterator<Item = &'k str>) -> SourceError {
        SourceError::Unknown { path: self.toml_path.clone(), what: what.into(), kind, name: name.to_string(), suggestion: rules::closest(name, known) }
    }

    fn duration(&self, what: &str, s: &str) -> Result<u64, SourceError> {
        rules::parse_duration(s).ok_or_else(|| self.invalid(what, format!("`{s}` is not a duration like 90s, 15m, 36h or 7d")))
    }

    /// Compiles an optional rule: inline CEL, or `@file` relative to the folder.
    fn rule(&self, what: &str, text: Option<&str>, schema: &Schema) -> Result<Program, SourceError> {
        let Some(text) = text else { return Ok(Program::always()) };
        let (file, source) = match text.strip_prefix('@') {
            Some(rel) => {
                let path = self.dir.join(rel);
                let source = std::fs::read_to_string(&path).map_err(|source| SourceError::Io { path: path.clone(), source })?;
                (rel.to_string(), source)
            }
            None => (format!("bundle.toml ({what})"), text.to_string()),
        };
        rules::compile(&file, &source, schema).map_err(|source| SourceError::Rule { what: what.to_string(), source })
    }
}

/// Reads and checks the bundle source folder `dir`.
pub fn load(dir: &Path) -> Result<Bundle, SourceError> {
    load_with_report(dir).map(|(bundle, _)| bundle)
}

/// As [`load`], also returning each model's parity measurement (name, parity).
pub fn load_with_report(dir: &Path) -> Result<(Bundle, Vec<(String, onnx::Parity)>), SourceError> {
    let toml_path = dir.join("bundle.toml");
    let text = std::fs::read_to_string(&toml_path).map_err(|source| SourceError::Io { path: toml_path.clone(), source })?;
    let file: toml::File = ::toml::from_str(&text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start).min(text.len());
        let line = text[..at].matches('\n').count() + 1;
        let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
        SourceError::Toml { path: toml_path.clone(), line, column, message: e.message().to_string() }
    })?;
    let cx = Ctx { dir, toml_path };
    let schema = schema(&cx, &file.schema)?;
    let slots = file
        .slots
        .iter()
        .map(|s| {
            let channel = schema.channel(&s.channel).ok_or_else(|| cx.unknown(format!("slot `{}`", s.id), "channel", &s.channel, schema.channels.iter().map(String::as_str)))?;
            Ok(SlotDef { id: s.id.clone(), channel: channel as u8, k: s.k })
        })
        .collect::<Result<Vec<_>, SourceError>>()?;
    let built = file.models.iter().map(|m| model(&cx, m, &schema)).collect::<Result<Vec<_>, _>>()?;
    let report = built.iter().map(|(n, _, p)| (n.clone(), p.clone())).collect();
    let lowered: Vec<(String, Lowered)> = built.into_iter().map(|(n, l, _)| (n, l)).collect();
    let offers = file.offers.iter().map(|o| offer(&cx, o, &schema, &file.slots, &lowered)).collect::<Result<Vec<_>, _>>()?;
    let policy = policy(&cx, &file.policy, &schema, &file.offers)?;
    let trusted_keys = file
        .trusted_snapshot_keys
        .iter()
        .map(|rel| {
            let path = dir.join(rel);
            let k = load_public(&path, Role::Snapshot)?;
            Ok(TrustedKey { public_key: k.bytes(&path)?, kid: k.kid })
        })
        .collect::<Result<Vec<_>, SourceError>>()?;
    let bundle = Bundle {
        name: file.bundle.name,
        version: file.bundle.version,
        created_at: file.bundle.created_at,
        schema,
        slots,
        offers,
        models: lowered.into_iter().map(|(_, l)| l.model).collect(),
        policy,
        posteriors: Vec::new(),
        trusted_keys,
        limits: Limits::default(),
    };
    bundle.validate().map_err(SourceError::Engine)?;
    Ok((bundle, report))
}

fn schema(cx: &Ctx<'_>, s: &toml::Schema) -> Result<Schema, SourceError> {
    let features = s
        .features
        .iter()
        .map(|f| {
            let what = format!("feature `{}`", f.name);
            let kind = match (f.kind, f.encoding.as_deref()) {
                (toml::FeatureType::Numeric, None | Some("f32")) => FeatureKind::Numeric { quant: Quant::F32 },
                (toml::FeatureType::Numeric, Some("u8")) => FeatureKind::Numeric { quant: Quant::U8 { scale: f.scale, offset: f.offset } },
                (toml::FeatureType::Numeric, Some("u16")) => FeatureKind::Numeric { quant: Quant::U16 { scale: f.scale, offset: f.offset } },
                (toml::FeatureType::Numeric, Some(other)) => return Err(cx.invalid(what, format!("encoding `{other}` is not one of f32, u8, u16"))),
                (toml::FeatureType::Boolean, None) => FeatureKind::Boolean,
                (toml::FeatureType::Categorical, None) => FeatureKind::Categorical { vocab: f.vocab.clone() },
                (_, Some(_)) => return Err(cx.invalid(what, "only numeric features take an encoding")),
            };
            if f.kind != toml::FeatureType::Categorical && !f.vocab.is_empty() {
                return Err(cx.invalid(what, "only categorical features take a vocab"));
            }
            Ok(FeatureDef { name: f.name.clone(), kind, personal: f.personal })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let context = s
        .context
        .iter()
        .map(|c| ContextField {
            name: c.name.clone(),
            kind: match c.kind {
                toml::FeatureType::Numeric => ContextKind::Number,
                toml::FeatureType::Boolean => ContextKind::Boolean,
                toml::FeatureType::Categorical => ContextKind::Category { vocab: c.vocab.clone() },
            },
        })
        .collect();
    let schema = Schema { features, context, channels: s.channels.clone() };
    schema.validate().map_err(|e| SourceError::Engine(e.into()))?;
    Ok(schema)
}

/// Lowers one `[[models]]` entry and runs the parity gate.
fn model(cx: &Ctx<'_>, m: &toml::ModelSource, schema: &Schema) -> Result<(String, Lowered, onnx::Parity), SourceError> {
    let what = format!("model `{}`", m.name);
    let slots = m
        .inputs
        .iter()
        .map(|f| schema.feature(f).map(|i| i as u16).ok_or_else(|| cx.unknown(what.clone(), "feature", f, schema.features.iter().map(|f| f.name.as_str()))))
        .collect::<Result<Vec<_>, _>>()?;
    let path = cx.dir.join(&m.file);
    let lowered = onnx::lower(&path, &m.name, &slots)?;
    let parity = onnx::check_parity(&path, &lowered, &slots, schema)?;
    Ok((m.name.clone(), lowered, parity))
}

fn propensity(cx: &Ctx<'_>, o: &toml::Offer, models: &[(String, Lowered)]) -> Result<Propensity, SourceError> {
    let what = format!("offer `{}` propensity", o.id);
    match &o.propensity {
        toml::PropensitySource::Constant(p) => Ok(Propensity::Constant(*p)),
        toml::PropensitySource::Model { model, output, column } => {
            let i = models.iter().position(|(n, _)| n == model).ok_or_else(|| cx.unknown(what.clone(), "model", model, models.iter().map(|(n, _)| n.as_str())))?;
            let outputs = &models[i].1.outputs;
            let o = outputs.iter().position(|(n, c)| n == output && c == column).ok_or_else(|| {
                let known: Vec<String> = outputs.iter().map(|(n, c)| format!("{n}[{c}]")).collect();
                cx.invalid(what.clone(), format!("model `{model}` has no output `{output}` column {column}; it has {}", known.join(", ")))
            })?;
            Ok(Propensity::Model { model: i as u16, output: o as u16 })
        }
    }
}

fn offer(cx: &Ctx<'_>, o: &toml::Offer, schema: &Schema, slots: &[toml::Slot], models: &[(String, Lowered)]) -> Result<Offer, SourceError> {
    let what = |part: &str| format!("offer `{}` {part}", o.id);
    let slot_idx = o
        .slots
        .iter()
        .map(|s| slots.iter().position(|d| d.id == *s).map(|i| i as u16).ok_or_else(|| cx.unknown(what("slots"), "slot", s, slots.iter().map(|d| d.id.as_str()))))
        .collect::<Result<Vec<_>, _>>()?;
    let caps = o
        .caps
        .iter()
        .map(|c| {
            let scope = match c.scope.as_str() {
                "offer" => CapScope::Offer,
                "category" => CapScope::Category,
                other => return Err(cx.invalid(what("caps"), format!("scope `{other}` is not `offer` or `category`"))),
            };
            Ok(Cap { scope, max: c.max, window_secs: cx.duration(&what("caps"), &c.window)? })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let treatments = o
        .treatments
        .iter()
        .map(|t| Treatment {
            id: t.id.clone(),
            weight: t.weight,
            creative: Creative { title: t.title.clone(), text: t.text.clone(), image: t.image.clone(), url: t.url.clone(), price: t.price },
        })
        .collect();
    Ok(Offer {
        id: o.id.clone(),
        name: o.name.clone().unwrap_or_else(|| o.id.replace('_', " ")),
        kind: if o.service { OfferKind::Service } else { OfferKind::Offer },
        category: o.category.clone(),
        slots: slot_idx,
        value: o.value,
        lever: o.lever,
        valid_from: o.valid_from,
        valid_until: o.valid_until,
        eligibility: cx.rule(&what("eligibility"), o.eligibility.as_deref(), schema)?,
        applicability: cx.rule(&what("applicability"), o.applicability.as_deref(), schema)?,
        suitability: cx.rule(&what("suitability"), o.suitability.as_deref(), schema)?,
        propensity: propensity(cx, o, models)?,
        baseline_propensity: o.baseline_propensity,
        treatments,
        caps,
    })
}

fn policy(cx: &Ctx<'_>, p: &toml::Policy, schema: &Schema, offers: &[toml::Offer]) -> Result<Policy, SourceError> {
    let exploration = match (p.exploration.as_deref(), p.epsilon, p.temperature) {
        (None | Some("none"), None, None) => Exploration::None,
        (Some("epsilon_greedy"), Some(epsilon), None) => Exploration::EpsilonGreedy { epsilon },
        (Some("softmax"), None, Some(temperature)) => Exploration::Softmax { temperature },
        _ => return Err(cx.invalid("policy.exploration", "use `none`, `epsilon_greedy` with `epsilon`, or `softmax` with `temperature`")),
    };
    let context_weights = p
        .context_weights
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let what = format!("policy.context_weights[{i}]");
            let offers = w
                .offers
                .iter()
                .map(|id| offers.iter().position(|o| o.id == *id).map(|i| i as u16).ok_or_else(|| cx.unknown(what.clone(), "offer", id, offers.iter().map(|o| o.id.as_str()))))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ContextWeight { when: cx.rule(&what, Some(&w.when), schema)?, offers, weight: w.weight })
        })
        .collect::<Result<Vec<_>, SourceError>>()?;
    let channel_caps = p
        .channel_caps
        .iter()
        .map(|c| {
            let channel = schema.channel(&c.channel).ok_or_else(|| cx.unknown("policy.channel_caps", "channel", &c.channel, schema.channels.iter().map(String::as_str)))?;
            Ok(ChannelCap { channel: channel as u8, max: c.max, window_secs: cx.duration("policy.channel_caps", &c.window)? })
        })
        .collect::<Result<Vec<_>, SourceError>>()?;
    let suppression = match &p.suppression {
        Some(s) => Some(Suppression { after_impressions: s.after_impressions, window_secs: cx.duration("policy.suppression", &s.window)? }),
        None => None,
    };
    let snapshot_skew_secs = match &p.snapshot_skew {
        Some(s) => cx.duration("policy.snapshot_skew", s)?,
        None => Policy::default().snapshot_skew_secs,
    };
    Ok(Policy {
        exploration,
        holdout: Holdout { share: p.holdout_share, salt: p.holdout_salt.clone() },
        max_per_category: p.max_per_category,
        context_weights,
        category_levers: p.category_levers.iter().map(|(category, lever)| CategoryLever { category: category.clone(), lever: *lever }).collect(),
        channel_caps,
        suppression,
        thompson: Thompson::default(),
        snapshot_skew_secs,
    })
}
