//! The send-time model: a bundle's timing outputs scored for one client (the host's
//! planner picks the best hour or weekday). Personal data: scored only for a client the
//! engine personalises (profiling consent, the `personalised` arm); the `bau` arm keeps
//! business as usual, its send time included.
use super::{Engine, Workspace};
use crate::bundle::TimingKind;
use crate::decision::DecideRequest;
use crate::snapshot::Profile;
use crate::Error;

impl Engine {
    /// The timing model's scores for the client of `profile` (one per hour, hour 0 first,
    /// or per weekday, Monday first), with `req`'s context; `None` when the bundle declares
    /// no timing model or the client is not personalised (no profiling consent, or the
    /// `bau` or `no_contact` arm).
    pub fn timing_scores(&mut self, req: &DecideRequest, profile: &Profile) -> Result<Option<(TimingKind, Vec<f32>)>, Error> {
        if self.bundle.timing.is_none() || profile.consent & crate::snapshot::CONSENT_PROFILING == 0 {
            return Ok(None);
        }
        if self.prepare(req, Some(profile))?.mode != crate::decision::Mode::Personalised {
            return Ok(None);
        }
        let Engine { bundle, ws, .. } = self;
        let Some(timing) = &bundle.timing else { return Ok(None) };
        let Workspace { features, context, models, scratch, .. } = ws;
        models.iter_mut().for_each(crate::models::Lazy::reset);
        let scores = timing
            .outputs
            .iter()
            .map(|m| {
                let (k, o) = (m.model as usize, m.output as usize);
                let x = bundle.models[k].output(o, features, context, 1.0, &mut models[k], scratch);
                if x.is_finite() {
                    x
                } else {
                    0.0
                }
            })
            .collect();
        Ok(Some((timing.kind, scores)))
    }
}

/// The best of `scores` (the first on ties).
pub fn best(scores: &[f32]) -> Option<usize> {
    scores
        .iter()
        .enumerate()
        .fold(None, |best: Option<(usize, f32)>, (i, &x)| match best {
            Some((_, b)) if b >= x => best,
            _ => Some((i, x)),
        })
        .map(|(i, _)| i)
}
