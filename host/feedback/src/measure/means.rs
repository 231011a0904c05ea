//! Per-client means (sales per client, revenue per client, contacts per client) and
//! the difference between two arms.
//!
//! - [`mean`]: the sample mean with the normal 95% interval `x̄ ± z·s/√n` (`s` the
//!   unbiased sample standard deviation).
//! - [`lift`]: arm A vs arm B: `x̄_A − x̄_B` with the Welch (unpooled) interval
//!   `± z·√(s_A²/n_A + s_B²/n_B)`, and the relative lift `x̄_A/x̄_B − 1` with the
//!   delta-method interval of the ratio (as [`super::stats::uplift`]).
use serde::Serialize;

use super::stats::{Interval, Z95};

/// A mean over units (clients) with its 95% interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mean {
    pub n: u64,
    pub mean: f64,
    /// Variance of the mean (`s²/n`).
    #[serde(skip)]
    pub var_of_mean: f64,
    /// `None` with fewer than two units.
    pub ci95: Option<Interval>,
}

/// The mean of `values` with its interval.
pub fn mean(values: impl IntoIterator<Item = f64>) -> Mean {
    let (mut n, mut sum, mut sum2) = (0u64, 0.0f64, 0.0f64);
    for x in values {
        n += 1;
        sum += x;
        sum2 += x * x;
    }
    if n == 0 {
        return Mean { n, mean: 0.0, var_of_mean: 0.0, ci95: None };
    }
    let m = sum / n as f64;
    if n < 2 {
        return Mean { n, mean: m, var_of_mean: 0.0, ci95: None };
    }
    let var = ((sum2 - n as f64 * m * m) / (n as f64 - 1.0)).max(0.0);
    let var_of_mean = var / n as f64;
    let half = Z95 * var_of_mean.sqrt();
    Mean { n, mean: m, var_of_mean, ci95: Some(Interval { low: m - half, high: m + half }) }
}

/// Arm A against arm B on one per-client measure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lift {
    /// `mean_A − mean_B`.
    pub absolute: f64,
    pub absolute_ci95: Interval,
    /// `mean_A / mean_B − 1`; `None` when `mean_B` is 0.
    pub relative: Option<f64>,
    pub relative_ci95: Option<Interval>,
}

/// `a` against `b`; `None` when either has fewer than two units.
pub fn lift(a: &Mean, b: &Mean) -> Option<Lift> {
    if a.n < 2 || b.n < 2 {
        return None;
    }
    let absolute = a.mean - b.mean;
    let half = Z95 * (a.var_of_mean + b.var_of_mean).sqrt();
    let (relative, relative_ci95) = if b.mean > 0.0 {
        let r = a.mean / b.mean;
        let rel_var = if a.mean > 0.0 { a.var_of_mean / (a.mean * a.mean) } else { 0.0 } + b.var_of_mean / (b.mean * b.mean);
        let se = r * rel_var.sqrt();
        (Some(r - 1.0), Some(Interval { low: r - Z95 * se - 1.0, high: r + Z95 * se - 1.0 }))
    } else {
        (None, None)
    };
    Some(Lift { absolute, absolute_ci95: Interval { low: absolute - half, high: absolute + half }, relative, relative_ci95 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_welch_interval_by_hand() {
        // a = 1, 2, 3, 4: mean 2.5, s² = 5/3; b = 0, 0, 1, 1: mean 0.5, s² = 1/3.
        let a = mean([1.0, 2.0, 3.0, 4.0]);
        let b = mean([0.0, 0.0, 1.0, 1.0]);
        assert!((a.mean - 2.5).abs() < 1e-12 && (a.var_of_mean - 5.0 / 12.0).abs() < 1e-12);
        let l = lift(&a, &b).unwrap();
        assert!((l.absolute - 2.0).abs() < 1e-12);
        let half = Z95 * (5.0f64 / 12.0 + 1.0 / 12.0).sqrt();
        assert!((l.absolute_ci95.low - (2.0 - half)).abs() < 1e-12 && (l.absolute_ci95.high - (2.0 + half)).abs() < 1e-12);
        assert!((l.relative.unwrap() - 4.0).abs() < 1e-12);
        assert!(lift(&a, &mean([1.0])).is_none());
        assert_eq!(mean([]).n, 0);
    }
}
