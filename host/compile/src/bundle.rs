//! A bundle source folder → a [`Bundle`](vitrine_engine::bundle::Bundle).
//!
//! The folder holds `bundle.toml` (schema, slots, offers with their treatments and
//! rules, policy, trusted snapshot key files) and any rule files it references as
//! `@rules/name.cel`. Names are checked with "did you mean" suggestions, rules are
//! compiled from CEL, and the result passes the engine's own validation before it is
//! signed. ONNX models listed under `[[models]]` are lowered and must pass the parity
//! gate against their reference outputs before an offer may use them.

use std::path::Path;

use vitrine_engine::bundle::{Bundle, Creative, ModelOutput, Offer, OfferKind, Propensity, Score, SlotDef, Treatment, Uplift};
use vitrine_engine::limits::Limits;
use vitrine_engine::policy::{
    Arms, Cap, CapScope, CategoryLever, ChannelCap, ChannelCost, ContextWeight, Exploration, Policy, Suppression, Thompson,
};
use vitrine_engine::rules::Program;
use vitrine_engine::schema::Schema;
use vitrine_engine::snapshot::TrustedKey;

use vitrine_base::keys::{load_public, Role};
use vitrine_source::{format, Ctx, SourceError};

pub use crate::bundle_error::BuildError;
use crate::onnx::{self, Lowered};
use crate::rules;

/// Compiles an optional rule: inline CEL, or `@file` relative to the folder.
fn rule(cx: &Ctx<'_>, what: &str, text: Option<&str>, schema: &Schema) -> Result<Program, BuildError> {
    let Some(text) = text else { return Ok(Program::always()) };
    let (file, source) = match text.strip_prefix('@') {
        Some(rel) => {
            let path = cx.dir.join(rel);
            let source = std::fs::read_to_string(&path).map_err(|source| SourceError::Io { path: path.clone(), source })?;
            (rel.to_string(), source)
        }
        None => (format!("bundle.toml ({what})"), text.to_string()),
    };
    rules::compile(&file, &source, schema).map_err(|source| BuildError::Rule { what: what.to_string(), source })
}

/// Reads and checks the bundle source folder `dir`.
pub fn load(dir: &Path) -> Result<Bundle, BuildError> {
    load_with_report(dir).map(|(bundle, _)| bundle)
}

/// As [`load`], also returning each model's parity measurement (name, parity). Stops at
/// the first problem ([`check`] reports them all).
pub fn load_with_report(dir: &Path) -> Result<(Bundle, Vec<(String, onnx::Parity)>), BuildError> {
    check(dir).map_err(|mut errors| errors.remove(0))
}

/// Every check of a build (rules, models and their parity gate, references, policy,
/// timing, keys, the engine's validation), without a signing key, reporting every
/// problem rather than the first: a part that depends on a broken one (an offer scored by
/// a model that did not lower) is reported once, through the part that broke. On success,
/// the bundle and each model's parity measurement.
#[allow(clippy::type_complexity)]
pub fn check(dir: &Path) -> Result<(Bundle, Vec<(String, onnx::Parity)>), Vec<BuildError>> {
    let (file, cx) = vitrine_source::read(dir).map_err(|e| vec![e.into()])?;
    let schema = vitrine_source::schema(&cx, &file.schema).map_err(|e| vec![e.into()])?;
    let mut errors: Vec<BuildError> = Vec::new();
    fn keep<T>(r: Result<T, BuildError>, errors: &mut Vec<BuildError>) -> Option<T> {
        r.map_err(|e| errors.push(e)).ok()
    }
    let slots: Vec<SlotDef> =
        file.slots
            .iter()
            .filter_map(|s| {
                let r = schema.channel(&s.channel).map(|channel| SlotDef { id: s.id.clone(), channel: channel as u8, k: s.k }).ok_or_else(
                    || cx.unknown(format!("slot `{}`", s.id), "channel", &s.channel, schema.channels.iter().map(String::as_str)).into(),
                );
                keep(r, &mut errors)
            })
            .collect();
    let mut report = Vec::new();
    let mut lowered: Vec<(String, Lowered)> = Vec::new();
    let mut broken_models: Vec<&str> = Vec::new();
    for m in &file.models {
        match model(&cx, m, &schema) {
            Ok((n, l, p)) => {
                report.push((n.clone(), p));
                lowered.push((n, l));
            }
            Err(e) => {
                errors.push(e);
                broken_models.push(m.name.as_str());
            }
        }
    }
    // An offer or timing that names a broken model would only repeat its error.
    let names_broken = |o: &format::Offer| {
        let refs: Vec<&str> = match (&o.propensity, &o.uplift) {
            (Some(format::PropensitySource::Model { model, .. }), _) => vec![model.as_str()],
            (_, Some(format::UpliftSource::TwoModel { treated, control })) => vec![treated.model.as_str(), control.model.as_str()],
            (_, Some(format::UpliftSource::SLearner { s_learner })) => vec![s_learner.model.as_str()],
            (_, Some(format::UpliftSource::Direct { direct })) => vec![direct.model.as_str()],
            _ => vec![],
        };
        refs.iter().any(|r| broken_models.contains(r))
    };
    let offers: Vec<_> = file
        .offers
        .iter()
        .filter(|o| !names_broken(o))
        .filter_map(|o| keep(offer(&cx, o, &schema, &file.slots, &lowered), &mut errors))
        .collect();
    let policy = keep(policy(&cx, &file.policy, &schema, &file.offers), &mut errors);
    let timing = match &file.timing {
        Some(t) if broken_models.contains(&t.model.as_str()) => None,
        Some(t) => keep(timing(&cx, t, &lowered), &mut errors).map(Some),
        None => Some(None),
    };
    let trusted_keys: Vec<TrustedKey> = file
        .trusted_snapshot_keys
        .iter()
        .filter_map(|rel| {
            let path = dir.join(rel);
            let r = load_public(&path, Role::Snapshot).map_err(BuildError::from).and_then(|k| {
                let public_key = k.bytes(&path)?;
                Ok(TrustedKey { public_key, kid: k.kid })
            });
            keep(r, &mut errors)
        })
        .collect();
    let (Some(policy), Some(timing)) = (policy, timing) else { return Err(errors) };
    if !errors.is_empty() {
        return Err(errors);
    }
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
        timing,
    };
    bundle.validate().map_err(|e| vec![BuildError::Source(SourceError::Engine(e))])?;
    Ok((bundle, report))
}

/// Lowers one `[[models]]` entry and runs the parity gate.
fn model(cx: &Ctx<'_>, m: &format::ModelSource, schema: &Schema) -> Result<(String, Lowered, onnx::Parity), BuildError> {
    let what = format!("model `{}`", m.name);
    let treatment = match &m.treatment {
        None => None,
        Some(t) => Some(m.inputs.iter().position(|i| i == t).ok_or_else(|| BuildError::Uplift {
            what: what.clone(),
            message: format!("treatment input `{t}` is not one of the model's inputs {:?}", m.inputs),
        })?),
    };
    let slots = m
        .inputs
        .iter()
        .enumerate()
        .map(|(j, f)| {
            if Some(j) == treatment {
                return Ok(0);
            }
            schema
                .feature(f)
                .map(|i| i as u16)
                .ok_or_else(|| cx.unknown(what.clone(), "feature", f, schema.features.iter().map(|f| f.name.as_str())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let path = cx.dir.join(&m.file);
    let lowered = onnx::lower(&path, &m.name, &slots, treatment)?;
    let parity = onnx::check_parity(&path, &lowered, &slots, treatment, schema)?;
    Ok((m.name.clone(), lowered, parity))
}

/// One model output column by name; a missing one is `uplift_declaration` in an uplift,
/// `source_invalid` in a propensity.
fn output(cx: &Ctx<'_>, what: &str, r: &format::OutputRef, models: &[(String, Lowered)], uplift: bool) -> Result<ModelOutput, BuildError> {
    let (model, output) = (&r.model, &r.output);
    let i = models
        .iter()
        .position(|(n, _)| n == model)
        .ok_or_else(|| cx.unknown(what.to_string(), "model", model, models.iter().map(|(n, _)| n.as_str())))?;
    let outputs = &models[i].1.outputs;
    let fail = |message: String| {
        if uplift {
            BuildError::Uplift { what: what.to_string(), message }
        } else {
            BuildError::from(cx.invalid(what.to_string(), message))
        }
    };
    let columns: Vec<usize> = outputs.iter().filter(|(n, _)| n == output).map(|(_, c)| *c).collect();
    // More than two columns are a multiclass model's classes: column 1 would be one class
    // among several, silently; the bundle must say which.
    let column = match r.column {
        Some(c) => c,
        None if columns.len() > 2 => {
            let list: Vec<String> = columns.iter().map(usize::to_string).collect();
            return Err(fail(format!(
                "model `{model}` output `{output}` has {} columns ({}): say which class this offer's score is with `column = …`",
                columns.len(),
                list.join(", ")
            )));
        }
        None => 1,
    };
    let o = outputs.iter().position(|(n, c)| n == output && *c == column).ok_or_else(|| {
        let known: Vec<String> = outputs.iter().map(|(n, c)| format!("{n}[{c}]")).collect();
        fail(format!("model `{model}` has no output `{output}` column {column}; it has {}", known.join(", ")))
    })?;
    Ok(ModelOutput { model: i as u16, output: o as u16 })
}

/// `[timing]`: the send-time model's outputs, one per hour or weekday, in order.
fn timing(cx: &Ctx<'_>, t: &format::Timing, models: &[(String, Lowered)]) -> Result<vitrine_engine::bundle::Timing, BuildError> {
    use vitrine_engine::bundle::TimingKind;
    let what = "timing";
    let kind = match t.kind.as_str() {
        "hour" => TimingKind::Hour,
        "weekday" => TimingKind::Weekday,
        other => return Err(cx.invalid(what, format!("kind `{other}` is neither `hour` nor `weekday`")).into()),
    };
    let n = kind.outputs();
    let unit = if kind == TimingKind::Hour { "hour (0 to 23, UTC)" } else { "weekday (Monday to Sunday)" };
    let outputs = match (&t.outputs[..], &t.output) {
        (names, None) if !names.is_empty() => {
            if names.len() != n {
                return Err(cx
                    .invalid(what, format!("a `{}` model needs {n} outputs, one per {unit}; {} given", t.kind, names.len()))
                    .into());
            }
            names
                .iter()
                .map(|o| output(cx, what, &format::OutputRef { model: t.model.clone(), output: o.clone(), column: None }, models, false))
                .collect::<Result<Vec<_>, _>>()?
        }
        ([], Some(name)) => {
            let Some((_, lowered)) = models.iter().find(|(m, _)| *m == t.model) else {
                return Err(cx.unknown(what.to_string(), "model", &t.model, models.iter().map(|(n, _)| n.as_str())).into());
            };
            let columns = lowered.outputs.iter().filter(|(o, _)| o == name).count();
            if columns != n {
                return Err(cx
                    .invalid(
                        what,
                        format!(
                            "model `{}` output `{name}` has {columns} columns: a `{}` model needs {n}, one per {unit}",
                            t.model, t.kind
                        ),
                    )
                    .into());
            }
            (0..n)
                .map(|c| {
                    output(cx, what, &format::OutputRef { model: t.model.clone(), output: name.clone(), column: Some(c) }, models, false)
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        _ => return Err(cx.invalid(what, "give either `outputs` (one per hour or weekday) or `output` (one column each)").into()),
    };
    Ok(vitrine_engine::bundle::Timing { kind, outputs })
}

/// The offer's score: exactly one of `propensity` and `uplift`.
fn score(cx: &Ctx<'_>, o: &format::Offer, models: &[(String, Lowered)]) -> Result<Score, BuildError> {
    let what = |part: &str| format!("offer `{}` {part}", o.id);
    match (&o.propensity, &o.uplift) {
        (Some(format::PropensitySource::Constant(p)), None) => Ok(Score::Propensity(Propensity::Constant(*p))),
        (Some(format::PropensitySource::Model { model, output: out, column }), None) => {
            let r = format::OutputRef { model: model.clone(), output: out.clone(), column: *column };
            let m = output(cx, &what("propensity"), &r, models, false)?;
            Ok(Score::Propensity(Propensity::Model { model: m.model, output: m.output }))
        }
        (None, Some(u)) => {
            let what = what("uplift");
            let uplift = match u {
                format::UpliftSource::TwoModel { treated, control } => Uplift::TwoModel {
                    treated: output(cx, &what, treated, models, true)?,
                    control: output(cx, &what, control, models, true)?,
                },
                format::UpliftSource::SLearner { s_learner } => {
                    let m = output(cx, &what, s_learner, models, true)?;
                    if !models[m.model as usize].1.model.has_treatment_input() {
                        return Err(BuildError::Uplift {
                            what,
                            message: format!(
                                "model `{}` has no treatment input; name the flag column with `treatment = \"…\"` on its [[models]] entry",
                                s_learner.model
                            ),
                        });
                    }
                    Uplift::Treatment(m)
                }
                format::UpliftSource::Direct { direct } => Uplift::Direct(output(cx, &what, direct, models, true)?),
            };
            Ok(Score::Uplift(uplift))
        }
        (None, None) | (Some(_), Some(_)) => {
            Err(BuildError::from(cx.invalid(what("score"), "give exactly one of `propensity` and `uplift`")))
        }
    }
}

fn offer(
    cx: &Ctx<'_>,
    o: &format::Offer,
    schema: &Schema,
    slots: &[format::Slot],
    models: &[(String, Lowered)],
) -> Result<Offer, BuildError> {
    let what = |part: &str| format!("offer `{}` {part}", o.id);
    let slot_idx = o
        .slots
        .iter()
        .map(|s| {
            slots
                .iter()
                .position(|d| d.id == *s)
                .map(|i| i as u16)
                .ok_or_else(|| cx.unknown(what("slots"), "slot", s, slots.iter().map(|d| d.id.as_str())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let caps = o
        .caps
        .iter()
        .map(|c| {
            let scope = match c.scope.as_str() {
                "offer" => CapScope::Offer,
                "category" => CapScope::Category,
                other => return Err(BuildError::from(cx.invalid(what("caps"), format!("scope `{other}` is not `offer` or `category`")))),
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
        eligibility: rule(cx, &what("eligibility"), o.eligibility.as_deref(), schema)?,
        applicability: rule(cx, &what("applicability"), o.applicability.as_deref(), schema)?,
        suitability: rule(cx, &what("suitability"), o.suitability.as_deref(), schema)?,
        score: score(cx, o, models)?,
        bau_priority: o.bau_priority.or(o.baseline_propensity.map(|p| p * o.value * o.lever)),
        attribution_secs: match &o.attribution_window {
            Some(w) => cx.duration(&what("attribution_window"), w)?,
            None => 7 * 86_400,
        },
        treatments,
        caps,
    })
}

fn policy(cx: &Ctx<'_>, p: &format::Policy, schema: &Schema, offers: &[format::Offer]) -> Result<Policy, BuildError> {
    let exploration = match (p.exploration.as_deref(), p.epsilon, p.temperature) {
        (None | Some("none"), None, None) => Exploration::None,
        (Some("epsilon_greedy"), Some(epsilon), None) => Exploration::EpsilonGreedy { epsilon },
        (Some("softmax"), None, Some(temperature)) => Exploration::Softmax { temperature },
        _ => {
            return Err(BuildError::from(
                cx.invalid("policy.exploration", "use `none`, `epsilon_greedy` with `epsilon`, or `softmax` with `temperature`"),
            ))
        }
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
                .map(|id| {
                    offers
                        .iter()
                        .position(|o| o.id == *id)
                        .map(|i| i as u16)
                        .ok_or_else(|| cx.unknown(what.clone(), "offer", id, offers.iter().map(|o| o.id.as_str())))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ContextWeight { when: rule(cx, &what, Some(&w.when), schema)?, offers, weight: w.weight })
        })
        .collect::<Result<Vec<_>, BuildError>>()?;
    let channel_caps = p
        .channel_caps
        .iter()
        .map(|c| {
            let channel = schema
                .channel(&c.channel)
                .ok_or_else(|| cx.unknown("policy.channel_caps", "channel", &c.channel, schema.channels.iter().map(String::as_str)))?;
            Ok(ChannelCap { channel: channel as u8, max: c.max, window_secs: cx.duration("policy.channel_caps", &c.window)? })
        })
        .collect::<Result<Vec<_>, BuildError>>()?;
    let suppression = match &p.suppression {
        Some(s) => Some(Suppression { after_impressions: s.after_impressions, window_secs: cx.duration("policy.suppression", &s.window)? }),
        None => None,
    };
    let snapshot_skew_secs = match &p.snapshot_skew {
        Some(s) => cx.duration("policy.snapshot_skew", s)?,
        None => Policy::default().snapshot_skew_secs,
    };
    let arms = match (&p.arms, p.holdout_share, &p.holdout_salt) {
        (Some(a), None, None) => {
            Arms { salt: a.salt.clone(), bau: a.bau, no_contact: a.no_contact, no_contact_services: a.no_contact_services }
        }
        (None, share, salt) => Arms { salt: salt.clone().unwrap_or_default(), bau: share.unwrap_or(0.0), ..Arms::default() },
        (Some(_), _, _) => return Err(BuildError::from(cx.invalid("policy.arms", "give `arms` or the older `holdout_share`, not both"))),
    };
    let bad_share = |x: f32| !(0.0..=1.0).contains(&x);
    if bad_share(arms.bau) || bad_share(arms.no_contact) || arms.bau + arms.no_contact > 1.0 {
        return Err(BuildError::ArmShares { bau: arms.bau, no_contact: arms.no_contact });
    }
    let channel_costs = p
        .channel_costs
        .iter()
        .map(|(c, cost)| {
            let channel = schema
                .channel(c)
                .ok_or_else(|| cx.unknown("policy.channel_costs", "channel", c, schema.channels.iter().map(String::as_str)))?;
            Ok(ChannelCost { channel: channel as u8, cost: *cost })
        })
        .collect::<Result<Vec<_>, BuildError>>()?;
    Ok(Policy {
        exploration,
        arms,
        channel_costs,
        max_per_category: p.max_per_category,
        context_weights,
        category_levers: p
            .category_levers
            .iter()
            .map(|(category, lever)| CategoryLever { category: category.clone(), lever: *lever })
            .collect(),
        channel_caps,
        suppression,
        thompson: Thompson::default(),
        snapshot_skew_secs,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// A committed binary logistic model whose `probabilities` output is given a third
    /// column, as a three-class model's would have.
    fn three_class() -> Vec<(String, Lowered)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/out");
        let slots: Vec<u16> = (0..8).collect();
        let mut lowered = onnx::lower(&dir.join("scaled_logit.onnx"), "m", &slots, None).expect("lowers");
        lowered.outputs.push(("probabilities".into(), 2));
        vec![("m".into(), lowered)]
    }

    fn reference(column: Option<usize>) -> format::OutputRef {
        format::OutputRef { model: "m".into(), output: "probabilities".into(), column }
    }

    #[test]
    fn a_multiclass_output_needs_its_column_and_a_binary_one_defaults_to_column_1() {
        let dir = Path::new("/src");
        let cx = Ctx { dir, toml_path: dir.join("bundle.toml") };
        let models = three_class();
        let err = output(&cx, "offer `x` propensity", &reference(None), &models, false).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("has 3 columns (0, 1, 2)") && text.contains("`column = …`"), "{text}");
        let two = output(&cx, "x", &reference(Some(2)), &models, false).unwrap();
        assert_eq!(models[0].1.outputs[two.output as usize], ("probabilities".into(), 2));
        let err = output(&cx, "offer `x` uplift", &reference(None), &models, true).unwrap_err();
        assert_eq!(err.code(), "uplift_declaration", "{err}");

        let mut binary = three_class();
        binary[0].1.outputs.pop();
        let one = output(&cx, "x", &reference(None), &binary, false).unwrap();
        assert_eq!(binary[0].1.outputs[one.output as usize], ("probabilities".into(), 1));
    }
}
