//! Request resolution: limits, slots, context, history and the snapshot.
use super::Engine;
use crate::decision::{ContextValue, DecideRequest, Mode, RequestError};
use crate::limits::{MAX_K, MAX_SEED};
use crate::policy::Arm;
use crate::schema::ContextKind;
use crate::snapshot::{channel_consent_bit, decode_text, Profile, Snapshot, UnverifiedSnapshot, VerifyContext, CONSENT_PROFILING};
use crate::Error;

/// A request resolved against the bundle.
#[derive(Debug)]
pub(super) struct Prepared {
    /// (slot index, k) in page order.
    pub slots: Vec<(u16, usize)>,
    pub client: Option<Client>,
    pub mode: Mode,
    /// The subject's arm (none when anonymous).
    pub arm: Option<Arm>,
    /// Bit `i` set: channel `i` may be used.
    pub channels: u16,
}

/// Who the request is about: from a verified snapshot or a host's trusted profile.
#[derive(Debug, Clone, Copy)]
pub(super) struct Client {
    pub subject: [u8; 16],
    pub consent: u16,
    /// The snapshot's (or profile's) identity in the decision record.
    pub hash: [u8; 16],
}

impl From<Snapshot> for Client {
    fn from(s: Snapshot) -> Self {
        Client { subject: s.subject(), consent: s.consent(), hash: s.hash() }
    }
}

fn too_many(what: &'static str, count: usize, limit: u32) -> Result<(), RequestError> {
    if count > limit as usize {
        return Err(RequestError::TooMany { what, count, limit: limit as usize });
    }
    Ok(())
}

/// A `now` at or above this (unix seconds in the year 5138) is refused as milliseconds.
pub const NOW_LOOKS_LIKE_MILLISECONDS: u64 = 100_000_000_000;

impl Engine {
    /// Resolves `req`; `profile` (the plan entry point only) stands in for a snapshot.
    pub(super) fn prepare(&mut self, req: &DecideRequest, profile: Option<&Profile>) -> Result<Prepared, Error> {
        let limits = &self.bundle.limits;
        too_many("slots", req.slots.len(), limits.max_slots)?;
        too_many("history entries", req.history.len(), limits.max_history)?;
        too_many("context entries", req.context.len(), limits.max_context)?;
        // Unix seconds reach 10^11 in the year 5138; a `now` from `Date.now()` is ~1.8 × 10^12.
        if req.now >= NOW_LOOKS_LIKE_MILLISECONDS {
            return Err(RequestError::NowInMilliseconds(req.now).into());
        }
        if req.seed > MAX_SEED {
            return Err(RequestError::BadValue { field: "seed", reason: format!("{} is above 2^53 - 1", req.seed) }.into());
        }
        let mut slots = Vec::with_capacity(req.slots.len());
        for s in &req.slots {
            let i = self.slot_index(&s.slot).ok_or_else(|| RequestError::UnknownSlot(s.slot.clone()))?;
            let k = s.k.unwrap_or(self.bundle.slots[i as usize].k) as usize;
            if k == 0 || k > MAX_K {
                return Err(RequestError::BadValue { field: "slots[].k", reason: format!("{k} is not in 1..={MAX_K}") }.into());
            }
            slots.push((i, k));
        }
        self.resolve_context(req)?;
        self.resolve_history(req)?;
        let client = match (&req.snapshot, profile) {
            (Some(_), Some(_)) => {
                return Err(RequestError::BadValue {
                    field: "request.snapshot",
                    reason: "a plan request carries a profile, not a snapshot".into(),
                }
                .into())
            }
            (None, Some(p)) => {
                let hash = p.decode(&self.bundle.schema, &mut self.ws.profile_bytes, &mut self.ws.features)?;
                Some(Client { subject: p.subject, consent: p.consent, hash })
            }
            (None, None) => None,
            // An empty snapshot is an anonymous visitor (a cookie that is not set yet).
            (Some(text), None) if text.is_empty() => None,
            (Some(text), None) => {
                let bytes = decode_text(text)?;
                let cx = VerifyContext {
                    keys: &self.keys,
                    schema_hash: self.schema_hash,
                    now: req.now,
                    skew_secs: self.bundle.policy.snapshot_skew_secs,
                };
                let unverified = UnverifiedSnapshot::parse(&bytes)?;
                Some(unverified.verify(&cx, &self.bundle.schema, &mut self.cache, &mut self.ws.features)?.into())
            }
        };
        let n_channels = self.bundle.schema.channels.len();
        let (mode, arm, channels) = match &client {
            None => {
                self.ws.features.clear();
                self.ws.features.resize(self.bundle.schema.features.len(), f32::NAN);
                (Mode::Anonymous, None, (1u16 << n_channels) - 1)
            }
            Some(s) => {
                let channels = (0..n_channels).filter(|&i| s.consent & channel_consent_bit(i) != 0).fold(0u16, |m, i| m | (1 << i));
                // Intention to treat: the arm is the subject's whatever its consent.
                let arm = self.arm(&s.subject);
                let profiling = s.consent & CONSENT_PROFILING != 0;
                let mode = match arm {
                    Arm::NoContact => Mode::NoContact,
                    _ if !profiling => Mode::NoProfilingConsent,
                    Arm::Bau => Mode::Bau,
                    Arm::Personalised => Mode::Personalised,
                };
                (mode, Some(arm), channels)
            }
        };
        let profiling = client.as_ref().is_some_and(|s| s.consent & CONSENT_PROFILING != 0);
        if mode.is_bau() || !profiling {
            // The business-as-usual ranking reads no personal feature.
            for (x, f) in self.ws.features.iter_mut().zip(&self.bundle.schema.features) {
                if f.personal {
                    *x = f32::NAN;
                }
            }
        }
        Ok(Prepared { slots, client, mode, arm, channels })
    }

    /// The arm of `subject`, memoised for the last subject seen.
    fn arm(&mut self, subject: &[u8; 16]) -> Arm {
        if let Some((s, a)) = self.ws.arm_memo {
            if s == *subject {
                return a;
            }
        }
        let a = self.bundle.policy.arms.assign(subject);
        self.ws.arm_memo = Some((*subject, a));
        a
    }

    fn resolve_context(&mut self, req: &DecideRequest) -> Result<(), RequestError> {
        let schema = &self.bundle.schema;
        let ctx = &mut self.ws.context;
        ctx.clear();
        ctx.resize(schema.context.len(), f32::NAN);
        for (name, value) in &req.context {
            let i = schema.context_field(name).ok_or_else(|| RequestError::UnknownContext(name.clone()))?;
            let bad = |reason: String| RequestError::ContextType { field: name.clone(), reason };
            ctx[i] = match (&schema.context[i].kind, value) {
                (ContextKind::Number, ContextValue::Num(x)) if x.is_finite() && x.abs() <= f32::MAX as f64 => *x as f32,
                (ContextKind::Boolean, ContextValue::Bool(b)) => f32::from(u8::from(*b)),
                (ContextKind::Category { vocab }, ContextValue::Label(l)) => match vocab.iter().position(|v| v == l) {
                    Some(p) => p as f32,
                    None => return Err(bad(format!("`{l}` is not one of {vocab:?}"))),
                },
                (kind, v) => return Err(bad(format!("expected {}, got {v:?}", kind_name(kind)))),
            };
        }
        Ok(())
    }

    fn resolve_history(&mut self, req: &DecideRequest) -> Result<(), RequestError> {
        let mut book = std::mem::take(&mut self.ws.book);
        book.clear(req.now);
        for h in &req.history {
            let channel = match &h.channel {
                None => None,
                Some(c) => Some(self.bundle.schema.channel(c).ok_or_else(|| RequestError::UnknownChannel(c.clone()))? as u8),
            };
            let offer = self.offer_index(&h.offer);
            let category = offer.map(|o| self.offer_category[o as usize]);
            book.push(offer, category, channel, h.kind, h.at);
        }
        self.ws.book = book;
        Ok(())
    }
}

fn kind_name(k: &ContextKind) -> &'static str {
    match k {
        ContextKind::Number => "a finite number",
        ContextKind::Boolean => "a boolean",
        ContextKind::Category { .. } => "a category label (string)",
    }
}
