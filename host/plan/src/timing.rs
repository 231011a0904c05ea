//! Send time from the bundle's timing model (`[timing]`): each client's best hour of the
//! day, or best weekday, scored natively by the core on its profile (whichever engine
//! decides, so a plan under Wasmtime equals the native one). Without profiling consent
//! the model is not read and the client's history or the default decides.
use std::sync::Mutex;

use vitrine_engine::bundle::TimingKind;
use vitrine_engine::engine::timing::best;
use vitrine_engine::Engine;

use crate::decide::request;
use crate::{Client, PlanConfig, PlanError};

/// One engine per worker thread, to score the timing model.
#[allow(missing_debug_implementations)]
pub struct Timing {
    engines: Vec<Mutex<Engine>>,
}

/// What the timing model says of one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Preferred {
    pub hour: Option<u8>,
    /// 0 = Monday.
    pub weekday: Option<u8>,
}

impl Timing {
    /// Engines for `threads` workers, if the bundle of `load` declares a timing model.
    pub fn new(threads: usize, load: impl Fn() -> Result<Engine, PlanError>) -> Result<Option<Timing>, PlanError> {
        let first = load()?;
        if first.bundle().timing.is_none() {
            return Ok(None);
        }
        let mut engines = vec![Mutex::new(first)];
        for _ in 1..threads {
            engines.push(Mutex::new(load()?));
        }
        Ok(Some(Timing { engines }))
    }

    /// The client's best hour or weekday by the model.
    pub fn preferred(&self, config: &PlanConfig, client: &Client) -> Result<Preferred, PlanError> {
        let slot = rayon::current_thread_index().unwrap_or(0) % self.engines.len().max(1);
        let mut engine = self.engines[slot].lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let scores = engine.timing_scores(&request(config, &client.id), &client.profile).map_err(|e| PlanError::Decision {
            client: client.id.clone(),
            code: e.code().to_string(),
            message: e.to_string(),
        })?;
        Ok(match scores {
            Some((TimingKind::Hour, s)) => Preferred { hour: best(&s).map(|h| h as u8), weekday: None },
            Some((TimingKind::Weekday, s)) => Preferred { hour: None, weekday: best(&s).map(|d| d as u8) },
            None => Preferred::default(),
        })
    }
}
