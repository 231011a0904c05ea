//! Off-policy evaluation: how would a candidate policy have performed, judged only
//! from decisions the logging (production) policy made?
//!
//! Each [`Logged`] row carries the reward of the action actually shown, the
//! logging policy's probability of that action, the candidate's probability of the
//! same action, and a reward model's predictions. With importance weight
//! `w = target_probability / logged_probability`, [`evaluate`] reports:
//! - IPS: `mean(w·r)` — unbiased when the logged probabilities are right, but high
//!   variance when weights are large;
//! - self-normalised IPS: `Σ w·r / Σ w` — slightly biased, much steadier;
//! - doubly robust: `mean(q_target + w·(r − q_logged))` — unbiased if either the
//!   probabilities or the reward model are right, and low variance when the model
//!   is good;
//!
//! each with a bootstrap percentile 95% interval, plus the effective sample size
//! `(Σw)²/Σw²`, which says how many rows the weighted estimate is really worth.
use serde::{Deserialize, Serialize};

use vitrine_engine::policy::SplitMix64;

use super::stats::Interval;
use super::MeasureError;

/// Upper bound on bootstrap resamples accepted by [`evaluate`].
pub const MAX_RESAMPLES: usize = 10_000;

/// One logged decision: the action the logging policy took, with its probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Logged {
    /// Observed reward of the logged action (e.g. 1 click / 0, or revenue).
    pub reward: f64,
    /// Logging policy's probability of the logged action, in `(0, 1]`.
    pub logged_probability: f64,
    /// Candidate policy's probability of the same action, in `[0, 1]`.
    pub target_probability: f64,
    /// Reward model's prediction for the logged action.
    pub q_logged: f64,
    /// Reward model's expected reward under the candidate policy for this context
    /// (`Σ_a π(a|x) q(x,a)`).
    pub q_target: f64,
}

/// A point estimate with its bootstrap percentile 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// The estimate on the full sample.
    pub value: f64,
    /// 2.5th and 97.5th percentiles of the bootstrap distribution.
    pub ci95: Interval,
}

/// Off-policy evaluation of a candidate policy from logged decisions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OffPolicy {
    /// Number of logged rows.
    pub n: usize,
    /// Mean observed reward: the logging policy's own (on-policy) value.
    pub logged: Estimate,
    /// Inverse propensity scoring: `mean(w·r)`, `w = target / logged`.
    pub ips: Estimate,
    /// Self-normalised IPS: `Σ(w·r) / Σw`; 0 when `Σw == 0`.
    pub snips: Estimate,
    /// Doubly robust: `mean(q_target + w·(r − q_logged))`.
    pub dr: Estimate,
    /// `(Σw)² / Σw²` (0 when `Σw² == 0`); compare with `n`.
    pub effective_sample_size: f64,
    /// Largest importance weight.
    pub max_weight: f64,
}

/// Per-row terms, computed once so that each bootstrap resample only sums them.
#[derive(Debug, Clone, Copy, Default)]
struct Terms {
    reward: f64,
    weight: f64,
    weighted_reward: f64,
    dr: f64,
}

/// Running sums of [`Terms`] over a (re)sample.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    reward: f64,
    weight: f64,
    weighted_reward: f64,
    dr: f64,
}

impl Sums {
    fn add(&mut self, t: &Terms) {
        self.reward += t.reward;
        self.weight += t.weight;
        self.weighted_reward += t.weighted_reward;
        self.dr += t.dr;
    }

    /// (logged mean, IPS, SNIPS, DR) for a sample of `n` rows.
    fn estimates(&self, n: usize) -> [f64; 4] {
        let n = n as f64;
        let snips = if self.weight == 0.0 { 0.0 } else { self.weighted_reward / self.weight };
        [self.reward / n, self.weighted_reward / n, snips, self.dr / n]
    }
}

/// Checks one row and computes its terms; errors name the row index.
fn terms(row: usize, s: &Logged) -> Result<Terms, MeasureError> {
    let p = s.logged_probability;
    if !(p > 0.0 && p <= 1.0) {
        return Err(MeasureError::BadProbability { row, field: "logged_probability", value: p, range: "(0, 1]" });
    }
    let t = s.target_probability;
    if !(0.0..=1.0).contains(&t) {
        return Err(MeasureError::BadProbability { row, field: "target_probability", value: t, range: "[0, 1]" });
    }
    for (field, value) in [("reward", s.reward), ("q_logged", s.q_logged), ("q_target", s.q_target)] {
        if !value.is_finite() {
            return Err(MeasureError::NonFinite { row, field, value });
        }
    }
    let weight = t / p;
    Ok(Terms { reward: s.reward, weight, weighted_reward: weight * s.reward, dr: s.q_target + weight * (s.reward - s.q_logged) })
}

/// Linear-interpolation percentile (`q` in `[0, 1]`) of an ascending slice;
/// `None` when empty.
fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = last as f64 * q.clamp(0.0, 1.0);
    let lo = (h.floor() as usize).min(last);
    let hi = (lo + 1).min(last);
    let a = *sorted.get(lo)?;
    let b = *sorted.get(hi)?;
    Some(a + (b - a) * (h - lo as f64))
}

/// Sorts the bootstrap values (total order) and takes their 2.5th/97.5th percentiles.
fn percentile_interval(values: &mut [f64]) -> Option<Interval> {
    values.sort_unstable_by(f64::total_cmp);
    Some(Interval { low: percentile(values, 0.025)?, high: percentile(values, 0.975)? })
}

/// Evaluates the candidate policy on `samples`.
///
/// Bootstrap percentile 95% intervals (2.5th/97.5th percentiles, linearly
/// interpolated) from `resamples` resamples (clamped to `1..=10_000`), each drawing
/// `n` rows with replacement using a SplitMix64 generator seeded with `seed`, so
/// the same input and seed always give the same result.
///
/// Cost: per-row terms (`w`, `w·r`, DR term, `r`) are computed once in O(n); each
/// resample then draws n indices and sums those terms, so the whole run is
/// O(n + B·n + B·log B) time and O(n + B) memory for B resamples.
///
/// Returns `Ok(None)` for an empty slice. Errors, naming the row index, for a
/// `logged_probability` not in `(0, 1]` or a `target_probability` not in `[0, 1]`
/// (`measure_bad_probability`, NaN included), or a non-finite reward, `q_logged`
/// or `q_target` (`measure_non_finite`). Errors with `measure_overflow` when a
/// point estimate or interval bound leaves the finite range (e.g. a
/// `logged_probability` of 1e-300 times a large reward).
pub fn evaluate(samples: &[Logged], resamples: usize, seed: u64) -> Result<Option<OffPolicy>, MeasureError> {
    if samples.is_empty() {
        return Ok(None);
    }
    let n = samples.len();
    let rows = samples.iter().enumerate().map(|(i, s)| terms(i, s)).collect::<Result<Vec<_>, _>>()?;

    let mut full = Sums::default();
    let mut sum_w2 = 0.0;
    let mut max_weight = 0.0_f64;
    for t in &rows {
        full.add(t);
        sum_w2 += t.weight * t.weight;
        max_weight = max_weight.max(t.weight);
    }
    let effective_sample_size = if sum_w2 == 0.0 { 0.0 } else { full.weight * full.weight / sum_w2 };
    if !(effective_sample_size.is_finite() && full.weight.is_finite()) {
        return Err(MeasureError::Overflow { estimator: "weights" });
    }
    let point = full.estimates(n);

    let b = resamples.clamp(1, MAX_RESAMPLES);
    let mut rng = SplitMix64::new(seed);
    let mut boot: [Vec<f64>; 4] = std::array::from_fn(|_| Vec::with_capacity(b));
    for _ in 0..b {
        let mut sums = Sums::default();
        for _ in 0..n {
            if let Some(t) = rows.get(rng.below(n)) {
                sums.add(t);
            }
        }
        for (column, value) in boot.iter_mut().zip(sums.estimates(n)) {
            column.push(value);
        }
    }

    const NAMES: [&str; 4] = ["logged", "ips", "snips", "dr"];
    let mut estimates = [Estimate { value: 0.0, ci95: Interval { low: 0.0, high: 0.0 } }; 4];
    for (((slot, column), value), estimator) in estimates.iter_mut().zip(boot.iter_mut()).zip(point).zip(NAMES) {
        let ci95 = percentile_interval(column).ok_or(MeasureError::Overflow { estimator })?;
        if !(value.is_finite() && ci95.low.is_finite() && ci95.high.is_finite()) {
            return Err(MeasureError::Overflow { estimator });
        }
        *slot = Estimate { value, ci95 };
    }
    let [logged, ips, snips, dr] = estimates;
    Ok(Some(OffPolicy { n, logged, ips, snips, dr, effective_sample_size, max_weight }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(reward: f64, logged_probability: f64, target_probability: f64, q_logged: f64, q_target: f64) -> Logged {
        Logged { reward, logged_probability, target_probability, q_logged, q_target }
    }

    /// A deterministic, reasonably sized log: clicks with rate depending on the row.
    fn synthetic(n: usize) -> Vec<Logged> {
        let mut rng = SplitMix64::new(42);
        (0..n)
            .map(|_| {
                let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                let v = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                let p = 0.2 + 0.6 * u;
                let t = 0.1 + 0.8 * v;
                let reward = if (rng.next_u64() >> 11) as f64 / ((1u64 << 53) as f64) < 0.3 { 1.0 } else { 0.0 };
                row(reward, p, t, 0.3, 0.32)
            })
            .collect()
    }

    fn sum(xs: impl Iterator<Item = f64>) -> f64 {
        xs.fold(0.0, |a, x| a + x)
    }

    #[test]
    fn empty_is_none() {
        assert_eq!(evaluate(&[], 100, 1).unwrap(), None);
    }

    #[test]
    fn same_policy_gives_the_logged_mean() {
        let mut samples = synthetic(300);
        for s in &mut samples {
            s.target_probability = s.logged_probability;
        }
        let r = evaluate(&samples, 200, 7).unwrap().unwrap();
        let mean = sum(samples.iter().map(|s| s.reward)) / samples.len() as f64;
        assert_eq!(r.logged.value, mean);
        assert_eq!(r.ips.value, mean);
        assert_eq!(r.snips.value, mean);
        // Same resamples, identical terms: identical intervals.
        assert_eq!(r.ips.ci95, r.logged.ci95);
        assert_eq!(r.snips.ci95, r.logged.ci95);
        assert_eq!(r.effective_sample_size, 300.0);
        assert_eq!(r.max_weight, 1.0);
        assert_eq!(r.n, 300);
    }

    #[test]
    fn perfect_reward_model_makes_dr_the_model_mean() {
        let samples: Vec<Logged> = synthetic(200)
            .into_iter()
            .enumerate()
            .map(|(i, s)| row(s.reward, s.logged_probability, s.target_probability, s.reward, 0.1 + (i % 7) as f64 * 0.05))
            .collect();
        let r = evaluate(&samples, 50, 3).unwrap().unwrap();
        let mean_q = sum(samples.iter().map(|s| s.q_target)) / samples.len() as f64;
        assert_eq!(r.dr.value, mean_q);
    }

    #[test]
    fn hand_computed_three_rows() {
        // w = 2, 2, 0.25; w·r = 2, 0, 0.25; DR terms = 0.7 + 2·0.4 = 1.5,
        // 0.3 + 2·(−0.2) = −0.1, 0.4 + 0.25·0.5 = 0.525.
        let samples = [row(1.0, 0.5, 1.0, 0.6, 0.7), row(0.0, 0.25, 0.5, 0.2, 0.3), row(1.0, 0.8, 0.2, 0.5, 0.4)];
        let r = evaluate(&samples, 500, 11).unwrap().unwrap();
        let tol = 1e-12;
        assert!((r.logged.value - 2.0 / 3.0).abs() < tol);
        assert!((r.ips.value - 0.75).abs() < tol);
        assert!((r.snips.value - 2.25 / 4.25).abs() < tol);
        assert!((r.dr.value - 1.925 / 3.0).abs() < tol);
        assert!((r.effective_sample_size - 18.0625 / 8.0625).abs() < tol);
        assert_eq!(r.max_weight, 2.0);
        // Bootstrap bounds stay within the range of the per-row terms.
        assert!(r.ips.ci95.low >= 0.0 && r.ips.ci95.high <= 2.0);
        assert!(r.dr.ci95.low >= -0.1 - tol && r.dr.ci95.high <= 1.5 + tol);
    }

    #[test]
    fn zero_target_weights() {
        let samples = [row(1.0, 0.5, 0.0, 0.4, 0.2), row(0.0, 0.5, 0.0, 0.4, 0.2)];
        let r = evaluate(&samples, 20, 1).unwrap().unwrap();
        assert_eq!(r.snips.value, 0.0);
        assert_eq!(r.ips.value, 0.0);
        assert_eq!(r.effective_sample_size, 0.0);
        assert_eq!(r.max_weight, 0.0);
        assert!((r.dr.value - 0.2).abs() < 1e-15);
    }

    #[test]
    fn intervals_contain_the_estimates() {
        let samples = synthetic(500);
        let r = evaluate(&samples, 1000, 2024).unwrap().unwrap();
        for (name, e) in [("logged", r.logged), ("ips", r.ips), ("snips", r.snips), ("dr", r.dr)] {
            assert!(e.ci95.low <= e.value && e.value <= e.ci95.high, "{name}: {e:?}");
            assert!(e.ci95.low < e.ci95.high, "{name}: {e:?}");
        }
        assert!(r.effective_sample_size > 0.0 && r.effective_sample_size <= 500.0);
    }

    #[test]
    fn deterministic_per_seed() {
        let samples = synthetic(100);
        let a = evaluate(&samples, 300, 99).unwrap().unwrap();
        let b = evaluate(&samples, 300, 99).unwrap().unwrap();
        assert_eq!(a, b);
        let c = evaluate(&samples, 300, 100).unwrap().unwrap();
        assert_eq!(a.ips.value, c.ips.value);
        assert_ne!(a.ips.ci95, c.ips.ci95);
    }

    #[test]
    fn resamples_are_clamped() {
        let samples = synthetic(10);
        // 0 resamples behaves as 1: a degenerate but finite interval.
        let r = evaluate(&samples, 0, 5).unwrap().unwrap();
        assert_eq!(r.ips.ci95.low, r.ips.ci95.high);
        let one = evaluate(&samples, 1, 5).unwrap().unwrap();
        assert_eq!(r, one);
        // Above the cap behaves as the cap.
        let big = evaluate(&samples, usize::MAX, 5).unwrap().unwrap();
        let cap = evaluate(&samples, MAX_RESAMPLES, 5).unwrap().unwrap();
        assert_eq!(big, cap);
    }

    #[test]
    fn bad_probabilities_name_the_row() {
        let good = row(1.0, 0.5, 0.5, 0.5, 0.5);
        for bad in [0.0, 1.5, f64::NAN, -0.1, f64::INFINITY] {
            let samples = [good, good, row(1.0, bad, 0.5, 0.5, 0.5)];
            let e = evaluate(&samples, 10, 1).unwrap_err();
            assert_eq!(e.code(), "measure_bad_probability", "{bad}");
            match e {
                MeasureError::BadProbability { row, field, .. } => {
                    assert_eq!((row, field), (2, "logged_probability"));
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        for bad in [1.5, -0.1, f64::NAN] {
            let samples = [good, row(1.0, 0.5, bad, 0.5, 0.5)];
            let e = evaluate(&samples, 10, 1).unwrap_err();
            match e {
                MeasureError::BadProbability { row, field, .. } => {
                    assert_eq!((row, field), (1, "target_probability"));
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        // The edges are allowed.
        assert!(evaluate(&[row(1.0, 1.0, 0.0, 0.5, 0.5), row(0.0, 1e-9, 1.0, 0.0, 0.0)], 10, 1).is_ok());
    }

    #[test]
    fn non_finite_values_name_the_row() {
        let good = row(1.0, 0.5, 0.5, 0.5, 0.5);
        let cases = [
            (row(f64::NAN, 0.5, 0.5, 0.5, 0.5), "reward"),
            (row(1.0, 0.5, 0.5, f64::INFINITY, 0.5), "q_logged"),
            (row(1.0, 0.5, 0.5, 0.5, f64::NEG_INFINITY), "q_target"),
        ];
        for (bad, name) in cases {
            let e = evaluate(&[good, bad], 10, 1).unwrap_err();
            assert_eq!(e.code(), "measure_non_finite");
            match e {
                MeasureError::NonFinite { row, field, .. } => assert_eq!((row, field), (1, name)),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn overflow_is_an_error_not_a_nan() {
        let samples = [row(1e300, 1e-300, 1.0, 0.0, 0.0), row(1e300, 1e-300, 1.0, 0.0, 0.0)];
        let e = evaluate(&samples, 10, 1).unwrap_err();
        assert_eq!(e.code(), "measure_overflow");
    }

    #[test]
    fn percentile_interpolates() {
        let v = [0.0, 1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&v, 0.0), Some(0.0));
        assert_eq!(percentile(&v, 1.0), Some(4.0));
        assert_eq!(percentile(&v, 0.5), Some(2.0));
        assert_eq!(percentile(&v, 0.125), Some(0.5));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[7.0], 0.975), Some(7.0));
    }

    #[test]
    fn splitmix_reference_and_range() {
        // Reference outputs of SplitMix64 seeded with 0.
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        let mut r = SplitMix64::new(123);
        for n in [1usize, 2, 3, 1000] {
            for _ in 0..1000 {
                assert!(r.below(n) < n);
            }
        }
    }
}
