//! Qini and uplift curves of a ranking on randomised data, as scikit-uplift defines
//! them (`sklift.metrics`: `qini_curve`, `perfect_qini_curve` with
//! `negative_effect=True`, `qini_auc_score`, `uplift_curve`, `perfect_uplift_curve`,
//! `uplift_auc_score`).
//!
//! Units are sorted by predicted uplift, descending; at each distinct score the curve
//! has a point at `n` = units so far:
//! - Qini: `Y_t(n) − Y_c(n) · N_t(n) / N_c(n)` (0 when `N_c(n)` is 0);
//! - uplift: `(Y_t(n)/N_t(n) − Y_c(n)/N_c(n)) · n` (a ratio with a zero count is 0);
//!
//! with `Y_t`, `Y_c` the responders and `N_t`, `N_c` the units of the treated and the
//! control group so far. The curve starts at (0, 0). An area is the trapezoidal area
//! under the points; a coefficient is `(area − baseline) / (perfect − baseline)`, where
//! the baseline is the straight line from (0, 0) to the perfect curve's last point and
//! the perfect curve ranks by the outcome itself (Qini: treated responders first,
//! control responders last; uplift: scikit-uplift's `perfect_uplift_curve`).
use serde::Serialize;

/// One unit: its predicted uplift, whether it was treated, and whether it responded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unit {
    pub score: f64,
    pub treated: bool,
    pub responded: bool,
}

/// Points `(n, value)` of a curve.
pub type Curve = Vec<(f64, f64)>;

/// Which curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Qini,
    Uplift,
}

/// The curve of `units` ranked by `score`.
pub fn curve(units: &[Unit], kind: Kind) -> Curve {
    let mut sorted: Vec<Unit> = units.to_vec();
    // Descending by score; ties are grouped below, so their order does not matter.
    sorted.sort_by(|a, b| b.score.total_cmp(&a.score));
    let (mut nt, mut nc, mut yt, mut yc) = (0f64, 0f64, 0f64, 0f64);
    let mut points: Curve = vec![(0.0, 0.0)];
    for (i, u) in sorted.iter().enumerate() {
        if u.treated {
            nt += 1.0;
            yt += f64::from(u8::from(u.responded));
        } else {
            nc += 1.0;
            yc += f64::from(u8::from(u.responded));
        }
        let last_of_tie = sorted.get(i + 1).is_none_or(|next| next.score != u.score);
        if last_of_tie {
            let n = (i + 1) as f64;
            let div = |a: f64, b: f64| if b != 0.0 { a / b } else { 0.0 };
            let value = match kind {
                Kind::Qini => yt - yc * div(nt, nc),
                Kind::Uplift => (div(yt, nt) - div(yc, nc)) * n,
            };
            points.push((n, value));
        }
    }
    points
}

/// Trapezoidal area under `curve`.
pub fn area(curve: &Curve) -> f64 {
    curve.windows(2).map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0).sum()
}

/// The perfect ranking's curve (see the module docs).
pub fn perfect(units: &[Unit], kind: Kind) -> Curve {
    let scored: Vec<Unit> = match kind {
        Kind::Qini => units
            .iter()
            .map(|u| {
                let y = f64::from(u8::from(u.responded));
                Unit { score: if u.treated { y } else { -y } + 0.0, ..*u }
            })
            .collect(),
        Kind::Uplift => {
            let control_responders = units.iter().filter(|u| u.responded && !u.treated).count();
            let treated_non_responders = units.iter().filter(|u| !u.responded && u.treated).count();
            units
                .iter()
                .map(|u| {
                    let summand = if control_responders > treated_non_responders { u.responded } else { u.treated };
                    let score = 2.0 * f64::from(u8::from(u.responded == u.treated)) + f64::from(u8::from(summand));
                    Unit { score, ..*u }
                })
                .collect()
        }
    };
    curve(&scored, kind)
}

/// A ranking's curve and its normalised area.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    pub treated: u64,
    pub control: u64,
    /// `(area − baseline) / (perfect − baseline)`; `None` when the perfect curve is no
    /// better than the baseline (e.g. no responders).
    pub coefficient: Option<f64>,
    /// The curve, thinned to at most 101 points.
    pub curve: Curve,
}

/// The Qini coefficient (`kind = Qini`) or AUUC (`kind = Uplift`) of `units`.
pub fn score(units: &[Unit], kind: Kind) -> Score {
    let actual = curve(units, kind);
    let best = perfect(units, kind);
    let end = best.last().copied().unwrap_or((0.0, 0.0));
    let baseline = end.0 * end.1 / 2.0;
    let denominator = area(&best) - baseline;
    let coefficient = (denominator.abs() > 1e-12).then(|| (area(&actual) - baseline) / denominator);
    let step = (actual.len() / 100).max(1);
    let mut thin: Curve = actual.iter().step_by(step).copied().collect();
    if let Some(last) = actual.last() {
        if thin.last() != Some(last) {
            thin.push(*last);
        }
    }
    Score {
        treated: units.iter().filter(|u| u.treated).count() as u64,
        control: units.iter().filter(|u| !u.treated).count() as u64,
        coefficient,
        curve: thin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(score: f64, treated: bool, responded: bool) -> Unit {
        Unit { score, treated, responded }
    }

    #[test]
    fn qini_by_hand() {
        // Ranked: (0.9, T, 1), (0.8, C, 0), (0.7, T, 0), (0.6, C, 1).
        let units = [u(0.6, false, true), u(0.9, true, true), u(0.7, true, false), u(0.8, false, false)];
        let c = curve(&units, Kind::Qini);
        // n=1: Yt=1, Nc=0 → 1. n=2: 1 − 0·1/1 = 1. n=3: 1 − 0·2/1 = 1. n=4: 1 − 1·2/2 = 0.
        assert_eq!(c, vec![(0.0, 0.0), (1.0, 1.0), (2.0, 1.0), (3.0, 1.0), (4.0, 0.0)]);
        assert!((area(&c) - 3.0).abs() < 1e-12);
        // Perfect: treated responder first (1), then the zero scores (a tie: the
        // treated and the control non-responder together), control responder last.
        let p = perfect(&units, Kind::Qini);
        assert_eq!(p, vec![(0.0, 0.0), (1.0, 1.0), (3.0, 1.0), (4.0, 0.0)]);
        assert!((area(&p) - 3.0).abs() < 1e-12);
        // Baseline ends at (4, 0): area 0. This ranking is perfect: coefficient 1.
        let s = score(&units, Kind::Qini);
        assert!((s.coefficient.unwrap() - 1.0).abs() < 1e-12, "{s:?}");
        assert_eq!((s.treated, s.control), (2, 2));
        // The reversed ranking: points 0, −1, −0.5, 0; area −1.5; coefficient −0.5.
        let reversed: Vec<Unit> = units.iter().map(|x| Unit { score: -x.score, ..*x }).collect();
        assert_eq!(curve(&reversed, Kind::Qini), vec![(0.0, 0.0), (1.0, 0.0), (2.0, -1.0), (3.0, -0.5), (4.0, 0.0)]);
        assert!((score(&reversed, Kind::Qini).coefficient.unwrap() + 0.5).abs() < 1e-12);
    }

    #[test]
    fn uplift_curve_by_hand_and_ties() {
        let units = [u(0.5, true, true), u(0.5, false, false), u(0.1, true, false), u(0.1, false, true)];
        let c = curve(&units, Kind::Uplift);
        // One point per distinct score: n=2: (1/1 − 0/1)·2 = 2; n=4: (1/2 − 1/2)·4 = 0.
        assert_eq!(c, vec![(0.0, 0.0), (2.0, 2.0), (4.0, 0.0)]);
        let s = score(&units, Kind::Uplift);
        assert!(s.coefficient.is_some());
        // No responders at all: no coefficient.
        let none = [u(0.5, true, false), u(0.1, false, false)];
        assert_eq!(score(&none, Kind::Qini).coefficient, None);
    }
}
