//! The statistics of the per-offer champion/challenger gate: held-out log-loss, the
//! paired improvement test and Holm's step-down procedure over a round's offers.

/// The family-wise rate of false promotions per round: the held-out log-loss
/// improvements of all offers compared in a round are tested together (Holm's step-down
/// procedure), so a round with many offers does not promote a worse model by chance.
pub const FAMILY_WISE_ALPHA: f64 = 0.05;

/// The one-sided p-value of a standard normal statistic `z`.
pub(crate) fn p_value(z: f64) -> f64 {
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

/// Holm's step-down levels: for p-values `p`, the level each is held to (`None` once an
/// earlier, smaller p-value failed its level, as the procedure stops there).
pub(crate) fn holm(p: &[f64], alpha: f64) -> Vec<Option<f64>> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut levels = vec![None; m];
    for (rank, &i) in order.iter().enumerate() {
        let level = alpha / (m - rank) as f64;
        levels[i] = Some(level);
        if p[i] > level {
            break;
        }
    }
    levels
}

/// The paired z statistic of the held-out log-loss improvement `before − after`, per row
/// weighted (`wᵢ·(ℓᵢ(before) − ℓᵢ(after))`, mean over its standard error); 0 when undefined.
pub(crate) fn improvement_z(before: &[f64], after: &[f64], labels: &[bool], weights: &[f64]) -> f64 {
    let ll = |q: f64, y: bool| {
        let q = q.clamp(1e-6, 1.0 - 1e-6);
        -if y { q.ln() } else { (1.0 - q).ln() }
    };
    let mean_w = weights.iter().sum::<f64>() / weights.len().max(1) as f64;
    let d: Vec<f64> = (0..labels.len()).map(|i| weights[i] / mean_w * (ll(before[i], labels[i]) - ll(after[i], labels[i]))).collect();
    let n = d.len() as f64;
    if n < 2.0 || mean_w <= 0.0 {
        return 0.0;
    }
    let mean = d.iter().sum::<f64>() / n;
    let var = d.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    let se = (var / n).sqrt();
    if se > 0.0 {
        mean / se
    } else {
        0.0
    }
}

/// Weighted mean log-loss of probabilities `p` against `labels` (clamped away from 0 and 1).
pub(crate) fn log_loss(p: &[f64], labels: &[bool], weights: &[f64]) -> Option<f64> {
    let total: f64 = weights.iter().sum();
    if p.is_empty() || total <= 0.0 {
        return None;
    }
    let sum: f64 = p
        .iter()
        .zip(labels)
        .zip(weights)
        .map(|((&q, &y), w)| {
            let q = q.clamp(1e-6, 1.0 - 1e-6);
            -w * if y { q.ln() } else { (1.0 - q).ln() }
        })
        .sum();
    Some(sum / total)
}

/// Kish's effective sample size of weighted rows: `(Σw)² / Σw²` (the row count when all
/// weights are equal; far fewer when a few rows carry most of the weight).
pub(crate) fn effective_rows(weights: &[f64]) -> f64 {
    let (sum, squares) = weights.iter().fold((0.0, 0.0), |(s, q), w| (s + w, q + w * w));
    if squares > 0.0 {
        sum * sum / squares
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_match_the_normal_tail() {
        assert!((p_value(1.644_853_6) - 0.05).abs() < 1e-7);
        assert!((p_value(0.0) - 0.5).abs() < 1e-12);
        assert!((p_value(-1.959_964) - 0.975).abs() < 1e-6);
    }

    #[test]
    fn holm_steps_down_and_stops_at_the_first_failure() {
        // Sorted: 0.001 ≤ 0.05/4, 0.013 ≤ 0.05/3 (0.0167), 0.03 > 0.05/2: stop; 0.04 untested.
        let levels = holm(&[0.03, 0.001, 0.04, 0.013], 0.05);
        assert_eq!(levels[1], Some(0.05 / 4.0));
        assert_eq!(levels[3], Some(0.05 / 3.0));
        assert_eq!(levels[0], Some(0.05 / 2.0));
        assert_eq!(levels[2], None);
        // A lone hypothesis is held to alpha itself.
        assert_eq!(holm(&[0.04], 0.05), vec![Some(0.05)]);
        assert!(holm(&[], 0.05).is_empty());
    }

    #[test]
    fn effective_rows_count_what_the_weights_leave() {
        assert_eq!(effective_rows(&[2.0; 50]), 50.0);
        // One row of weight 100 among 99 of weight 1: about 4 rows' worth.
        assert!((effective_rows(&[[100.0].as_slice(), &[1.0; 99]].concat()) - 39_601.0 / 10_099.0).abs() < 1e-9);
        assert_eq!(effective_rows(&[]), 0.0);
    }

    #[test]
    fn improvement_z_is_positive_when_the_challenger_is_better() {
        let labels = [true, false, false, true, false, false, false, true];
        let before = [0.5; 8];
        let after: Vec<f64> = labels.iter().map(|&y| if y { 0.8 } else { 0.2 }).collect();
        let w = [1.0; 8];
        assert!(improvement_z(&before, &after, &labels, &w) > 3.0);
        assert!(improvement_z(&after, &before, &labels, &w) < -3.0);
        assert_eq!(improvement_z(&before, &before, &labels, &w), 0.0);
    }
}
