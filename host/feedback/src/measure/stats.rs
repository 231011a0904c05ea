//! Rates, uplift and sample-ratio checks on feedback counts (impressions, clicks,
//! conversions).
//!
//! - [`wilson`] / [`rate`]: a proportion with its Wilson score interval, which
//!   behaves well at 0 and 1 and for small samples (unlike the Wald interval).
//! - [`uplift`]: treated vs control — absolute difference with an
//!   unpooled normal interval, relative uplift with a delta-method interval.
//! - [`sample_ratio`]: chi-square test that the control/treated split matches the
//!   configured share; a mismatch means the assignment is broken and uplift
//!   numbers should not be trusted.
use serde::Serialize;

use super::MeasureError;

/// Two-sided 95% standard normal quantile (Φ⁻¹(0.975)).
pub const Z95: f64 = 1.959963984540054;

/// p-value below which [`sample_ratio`] flags a mismatch.
pub const SRM_ALPHA: f64 = 0.001;

/// A closed interval `[low, high]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// Wilson score interval for `successes`/`trials` at multiplier `z` (e.g. [`Z95`]).
///
/// Bounds are clamped to `[0, 1]`; the lower bound is exactly 0 when there are no
/// successes and the upper bound exactly 1 when every trial succeeded.
/// `None` when `trials == 0`. Errors when `successes > trials` (`measure_bad_count`)
/// or when `z` is negative or not finite (`measure_bad_z`).
pub fn wilson(successes: u64, trials: u64, z: f64) -> Result<Option<Interval>, MeasureError> {
    if successes > trials {
        return Err(MeasureError::BadCount { count: successes, total: trials });
    }
    if !(z.is_finite() && z >= 0.0) {
        return Err(MeasureError::BadZ { z });
    }
    if trials == 0 {
        return Ok(None);
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let low = if successes == 0 { 0.0 } else { (center - half).clamp(0.0, 1.0) };
    let high = if successes == trials { 1.0 } else { (center + half).clamp(0.0, 1.0) };
    Ok(Some(Interval { low, high }))
}

/// A proportion (e.g. click-through or conversion rate) with its 95% interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rate {
    /// Number of successes (clicks, conversions).
    pub successes: u64,
    /// Number of trials (impressions, clicks).
    pub trials: u64,
    /// `successes / trials`; `None` when there are no trials.
    pub rate: Option<f64>,
    /// Wilson 95% interval; `None` when there are no trials.
    pub ci95: Option<Interval>,
}

/// `successes / trials` with its Wilson 95% interval. Errors when
/// `successes > trials` (`measure_bad_count`).
pub fn rate(successes: u64, trials: u64) -> Result<Rate, MeasureError> {
    let ci95 = wilson(successes, trials, Z95)?;
    let rate = (trials > 0).then(|| successes as f64 / trials as f64);
    Ok(Rate { successes, trials, rate, ci95 })
}

/// Treated vs control comparison of one rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Uplift {
    /// The treated group's rate.
    pub treated: Rate,
    /// The control group's rate.
    pub control: Rate,
    /// `p_t - p_c`.
    pub absolute: f64,
    /// 95% interval of the difference of proportions with the unpooled normal
    /// (Wald) standard error `sqrt(p_t(1-p_t)/n_t + p_c(1-p_c)/n_c)`.
    pub absolute_ci95: Interval,
    /// `(p_t - p_c) / p_c`; `None` when `p_c == 0`.
    pub relative: Option<f64>,
    /// 95% interval of the relative uplift: the delta-method interval of the ratio
    /// `r = p_t/p_c` (`Var(r) ≈ r² (Var_t/p_t² + Var_c/p_c²)`) minus 1.
    /// `None` when `p_c == 0` or `p_t == 0`.
    pub relative_ci95: Option<Interval>,
}

/// Uplift of the treated group over the control group. `None` when either group
/// has zero trials. Errors when successes exceed trials in either group
/// (`measure_bad_count`).
pub fn uplift(
    treated_successes: u64,
    treated_trials: u64,
    control_successes: u64,
    control_trials: u64,
) -> Result<Option<Uplift>, MeasureError> {
    let treated = rate(treated_successes, treated_trials)?;
    let control = rate(control_successes, control_trials)?;
    let (Some(p_t), Some(p_c)) = (treated.rate, control.rate) else {
        return Ok(None);
    };
    let var_t = p_t * (1.0 - p_t) / treated_trials as f64;
    let var_c = p_c * (1.0 - p_c) / control_trials as f64;
    let absolute = p_t - p_c;
    let se = (var_t + var_c).sqrt();
    let absolute_ci95 = Interval { low: absolute - Z95 * se, high: absolute + Z95 * se };
    let relative = (p_c > 0.0).then(|| (p_t - p_c) / p_c);
    let relative_ci95 = if p_c > 0.0 && p_t > 0.0 {
        let ratio = p_t / p_c;
        let se_ratio = ratio * (var_t / (p_t * p_t) + var_c / (p_c * p_c)).sqrt();
        Some(Interval { low: ratio - Z95 * se_ratio - 1.0, high: ratio + Z95 * se_ratio - 1.0 })
    } else {
        None
    };
    Ok(Some(Uplift { treated, control, absolute, absolute_ci95, relative, relative_ci95 }))
}

/// Result of the sample-ratio-mismatch check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleRatio {
    /// Configured share of units assigned to control.
    pub expected_share: f64,
    /// Observed share `control / total`.
    pub observed_share: f64,
    /// Units observed in control.
    pub control: u64,
    /// Units observed in total (control + treated).
    pub total: u64,
    /// Chi-square statistic (1 degree of freedom).
    pub chi2: f64,
    /// p-value `erfc(sqrt(chi2 / 2))`.
    pub p_value: f64,
    /// `p_value < 0.001` ([`SRM_ALPHA`]): the split is not what was configured.
    pub mismatch: bool,
}

/// Chi-square goodness-of-fit test (1 df) of control vs treated counts against
/// `expected_share` of control; `p = erfc(sqrt(chi2/2))`, mismatch when
/// `p < 0.001`. `None` when `total == 0`. Errors when `control > total`
/// (`measure_bad_count`) or `expected_share` is not in `(0, 1)` (`measure_bad_share`).
pub fn sample_ratio(control: u64, total: u64, expected_share: f64) -> Result<Option<SampleRatio>, MeasureError> {
    if control > total {
        return Err(MeasureError::BadCount { count: control, total });
    }
    if !(expected_share > 0.0 && expected_share < 1.0) {
        return Err(MeasureError::BadShare { share: expected_share });
    }
    if total == 0 {
        return Ok(None);
    }
    let n = total as f64;
    let observed_control = control as f64;
    let observed_treated = (total - control) as f64;
    let expected_control = n * expected_share;
    let expected_treated = n * (1.0 - expected_share);
    let chi2 =
        (observed_control - expected_control).powi(2) / expected_control + (observed_treated - expected_treated).powi(2) / expected_treated;
    let p_value = libm::erfc((chi2 / 2.0).sqrt());
    Ok(Some(SampleRatio {
        expected_share,
        observed_share: observed_control / n,
        control,
        total,
        chi2,
        p_value,
        mismatch: p_value < SRM_ALPHA,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn wilson_half() {
        let i = wilson(50, 100, Z95).unwrap().unwrap();
        assert!(close(i.low, 0.4038, 1e-4), "{i:?}");
        assert!(close(i.high, 0.5962, 1e-4), "{i:?}");
        // Symmetric around one half.
        assert!(close(i.low + i.high, 1.0, 1e-12));
    }

    #[test]
    fn wilson_edges() {
        let zero = wilson(0, 10, Z95).unwrap().unwrap();
        assert_eq!(zero.low, 0.0);
        assert!(close(zero.high, 0.2775, 1e-4), "{zero:?}");
        let all = wilson(10, 10, Z95).unwrap().unwrap();
        assert_eq!(all.high, 1.0);
        assert!(close(all.low, 0.7225, 1e-4), "{all:?}");
        assert_eq!(wilson(0, 0, Z95).unwrap(), None);
        // z = 0 collapses to the point estimate.
        let point = wilson(3, 10, 0.0).unwrap().unwrap();
        assert!(close(point.low, 0.3, 1e-15) && close(point.high, 0.3, 1e-15));
    }

    #[test]
    fn wilson_rejects_bad_input() {
        let e = wilson(11, 10, Z95).unwrap_err();
        assert_eq!(e.code(), "measure_bad_count");
        assert_eq!(e, MeasureError::BadCount { count: 11, total: 10 });
        assert_eq!(wilson(1, 0, Z95).unwrap_err().code(), "measure_bad_count");
        assert_eq!(wilson(1, 2, f64::NAN).unwrap_err().code(), "measure_bad_z");
        assert_eq!(wilson(1, 2, -1.0).unwrap_err().code(), "measure_bad_z");
        assert_eq!(wilson(1, 2, f64::INFINITY).unwrap_err().code(), "measure_bad_z");
    }

    #[test]
    fn wilson_huge_counts_stay_in_range() {
        let i = wilson(u64::MAX / 2, u64::MAX, Z95).unwrap().unwrap();
        assert!(i.low >= 0.0 && i.high <= 1.0 && i.low <= i.high);
        let i = wilson(1, u64::MAX, Z95).unwrap().unwrap();
        assert!(i.low >= 0.0 && i.high <= 1.0 && i.low <= i.high);
    }

    #[test]
    fn rate_basic() {
        let r = rate(25, 100).unwrap();
        assert_eq!(r.rate, Some(0.25));
        let ci = r.ci95.unwrap();
        assert!(ci.low < 0.25 && 0.25 < ci.high);
        let empty = rate(0, 0).unwrap();
        assert_eq!(empty, Rate { successes: 0, trials: 0, rate: None, ci95: None });
        assert_eq!(rate(3, 2).unwrap_err().code(), "measure_bad_count");
    }

    #[test]
    fn uplift_known_numbers() {
        let u = uplift(120, 1000, 100, 1000).unwrap().unwrap();
        assert!(close(u.absolute, 0.02, 1e-12));
        let se = (0.12 * 0.88 / 1000.0 + 0.1 * 0.9 / 1000.0_f64).sqrt();
        assert!(close(u.absolute_ci95.low, 0.02 - Z95 * se, 1e-9), "{u:?}");
        assert!(close(u.absolute_ci95.high, 0.02 + Z95 * se, 1e-9), "{u:?}");
        // Hand value: se ≈ 0.0139857, half-width ≈ 0.0274115.
        assert!(close(u.absolute_ci95.low, -0.0074115, 1e-6), "{u:?}");
        assert!(close(u.absolute_ci95.high, 0.0474115, 1e-6), "{u:?}");

        let rel = u.relative.unwrap();
        assert!(close(rel, 0.2, 1e-12));
        // Delta method: r = 1.2, Var(r) = r²(Var_t/p_t² + Var_c/p_c²).
        let var_t: f64 = 0.12 * 0.88 / 1000.0;
        let var_c = 0.1 * 0.9 / 1000.0;
        let se_r = 1.2 * (var_t / (0.12 * 0.12) + var_c / (0.1 * 0.1)).sqrt();
        let ci = u.relative_ci95.unwrap();
        assert!(close(ci.low, 0.2 - Z95 * se_r, 1e-9), "{ci:?}");
        assert!(close(ci.high, 0.2 + Z95 * se_r, 1e-9), "{ci:?}");
        // Hand value: se_r ≈ 0.153362, so the interval is about [-0.100585, 0.500585].
        assert!(close(ci.low, -0.100585, 1e-6), "{ci:?}");
        assert!(close(ci.high, 0.500585, 1e-6), "{ci:?}");
        assert_eq!(u.treated.successes, 120);
        assert_eq!(u.control.trials, 1000);
    }

    #[test]
    fn uplift_zero_rates_and_empty_groups() {
        let u = uplift(5, 100, 0, 100).unwrap().unwrap();
        assert_eq!(u.relative, None);
        assert_eq!(u.relative_ci95, None);
        assert!(close(u.absolute, 0.05, 1e-15));

        let u = uplift(0, 100, 5, 100).unwrap().unwrap();
        assert!(close(u.relative.unwrap(), -1.0, 1e-15));
        assert_eq!(u.relative_ci95, None);

        assert_eq!(uplift(0, 0, 5, 100).unwrap(), None);
        assert_eq!(uplift(5, 100, 0, 0).unwrap(), None);
        assert_eq!(uplift(101, 100, 5, 100).unwrap_err().code(), "measure_bad_count");
        assert_eq!(uplift(1, 100, 6, 5).unwrap_err().code(), "measure_bad_count");
    }

    #[test]
    fn srm_balanced() {
        let s = sample_ratio(500, 1000, 0.5).unwrap().unwrap();
        assert_eq!(s.chi2, 0.0);
        assert_eq!(s.p_value, 1.0);
        assert!(!s.mismatch);
        assert_eq!(s.observed_share, 0.5);
    }

    #[test]
    fn srm_borderline_and_mismatch() {
        let s = sample_ratio(450, 1000, 0.5).unwrap().unwrap();
        assert!(close(s.chi2, 10.0, 1e-12), "{s:?}");
        assert!(close(s.p_value, 0.0015654, 1e-7), "{s:?}");
        assert!(!s.mismatch);

        let s = sample_ratio(400, 1000, 0.5).unwrap().unwrap();
        assert!(close(s.chi2, 40.0, 1e-12), "{s:?}");
        assert!(s.p_value < 1e-9);
        assert!(s.mismatch);

        // Uneven split: 10% holdout, exactly on target.
        let s = sample_ratio(100, 1000, 0.1).unwrap().unwrap();
        assert!(close(s.chi2, 0.0, 1e-12));
        assert!(!s.mismatch);
    }

    #[test]
    fn srm_rejects_bad_input() {
        assert_eq!(sample_ratio(0, 0, 0.5).unwrap(), None);
        assert_eq!(sample_ratio(11, 10, 0.5).unwrap_err().code(), "measure_bad_count");
        for share in [0.0, 1.0, -0.5, 2.0, f64::NAN, f64::INFINITY] {
            assert_eq!(sample_ratio(5, 10, share).unwrap_err().code(), "measure_bad_share", "{share}");
        }
        // All units in one arm: a large but finite statistic.
        let s = sample_ratio(1000, 1000, 0.5).unwrap().unwrap();
        assert!(s.chi2.is_finite() && s.mismatch);
    }
}
