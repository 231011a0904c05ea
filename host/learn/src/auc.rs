//! Area under the ROC curve: the probability that a random positive scores above a
//! random negative, ties counting one half (Mann–Whitney U over average ranks).

/// AUC of `scores` against `labels`; `None` without both a positive and a negative.
pub fn auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let n = scores.len().min(labels.len());
    let positives = labels[..n].iter().filter(|&&l| l).count();
    let negatives = n - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the positives' ranks (1-based), ties sharing their average rank.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let average = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += average * order[i..=j].iter().filter(|&&k| labels[k]).count() as f64;
        i = j + 1;
    }
    let (p, q) = (positives as f64, negatives as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * q))
}

#[cfg(test)]
mod tests {
    use super::auc;

    #[test]
    fn perfect_inverted_tied_and_hand_computed() {
        assert_eq!(auc(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]), Some(1.0));
        assert_eq!(auc(&[0.9, 0.8, 0.2, 0.1], &[false, false, true, true]), Some(0.0));
        assert_eq!(auc(&[0.5; 4], &[false, true, false, true]), Some(0.5));
        // pairs (pos, neg): (0.4 vs 0.1 ✓, 0.4 vs 0.6 ✗, 0.7 vs 0.1 ✓, 0.7 vs 0.6 ✓) = 3/4
        assert_eq!(auc(&[0.1, 0.4, 0.6, 0.7], &[false, true, false, true]), Some(0.75));
        assert_eq!(auc(&[0.1, 0.2], &[true, true]), None);
    }
}
