//! Area under the ROC curve: the probability that a random positive scores above a
//! random negative, ties counting one half (Mann–Whitney U over average ranks).

/// AUC of `scores` against `labels`; `None` without both a positive and a negative.
pub fn auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    weighted_auc(scores, labels, &vec![1.0; scores.len()])
}

/// AUC with sample weights: each (positive, negative) pair counts `wᵢ·wⱼ` (ties one
/// half); with inverse-propensity weights it estimates the AUC over everyone the
/// logging policy could have shown the offer to, not only those it did.
pub fn weighted_auc(scores: &[f64], labels: &[bool], weights: &[f64]) -> Option<f64> {
    let n = scores.len().min(labels.len()).min(weights.len());
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Walk groups of tied scores upwards: each positive beats the negatives' weight below
    // its group and ties with half of its group's.
    let (mut below, mut pairs, mut pos, mut neg) = (0.0, 0.0, 0.0, 0.0);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let (mut gp, mut gn) = (0.0, 0.0);
        for &k in &order[i..=j] {
            if labels[k] {
                gp += weights[k];
            } else {
                gn += weights[k];
            }
        }
        pairs += gp * (below + 0.5 * gn);
        below += gn;
        pos += gp;
        neg += gn;
        i = j + 1;
    }
    (pos > 0.0 && neg > 0.0).then(|| pairs / (pos * neg))
}

#[cfg(test)]
mod tests {
    use super::{auc, weighted_auc};

    #[test]
    fn perfect_inverted_tied_and_hand_computed() {
        assert_eq!(auc(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]), Some(1.0));
        assert_eq!(auc(&[0.9, 0.8, 0.2, 0.1], &[false, false, true, true]), Some(0.0));
        assert_eq!(auc(&[0.5; 4], &[false, true, false, true]), Some(0.5));
        // pairs (pos, neg): (0.4 vs 0.1 ✓, 0.4 vs 0.6 ✗, 0.7 vs 0.1 ✓, 0.7 vs 0.6 ✓) = 3/4
        assert_eq!(auc(&[0.1, 0.4, 0.6, 0.7], &[false, true, false, true]), Some(0.75));
        assert_eq!(auc(&[0.1, 0.2], &[true, true]), None);
        // Weight 2 on the positive at 0.4: pairs (0.4 vs 0.1 ✓ ×2, 0.4 vs 0.6 ✗, 0.7 vs both ✓) = 4 of 3 × 2
        let w = weighted_auc(&[0.1, 0.4, 0.6, 0.7], &[false, true, false, true], &[1.0, 2.0, 1.0, 1.0]).unwrap();
        assert!((w - 4.0 / 6.0).abs() < 1e-12, "{w}");
    }
}
