//! Logged rounds in the shape Open Bandit Pipeline's `obp.ope` takes them (one
//! position, `len_list = 1`), turned into [`Logged`] rows for [`super::ope::evaluate`], so
//! that `vitrine ope --logged FILE` and `obp.ope` give the same numbers on the same arrays:
//!
//! | here | `obp.ope` |
//! |---|---|
//! | `action` (index) | `action[i]` |
//! | `reward` | `reward[i]` |
//! | `pscore` | `pscore[i]`: the logging policy's probability of `action` |
//! | `action_dist` (one value per action, summing to 1) | `action_dist[i, :, 0]`: the candidate policy |
//! | `estimated_rewards` (one value per action; optional) | `estimated_rewards_by_reg_model[i, :, 0]` |
//!
//! With `w = action_dist[action] / pscore`: IPS = `mean(w·r)` (`InverseProbabilityWeighting`),
//! SNIPS = `Σ w·r / Σ w` (`SelfNormalizedInverseProbabilityWeighting`), DR =
//! `mean(Σ_a π(a)·q(a) + w·(r − q(action)))` (`DoublyRobust`). Without
//! `estimated_rewards`, `q` is 0 and DR equals IPS.
use serde::Deserialize;

use super::ope::Logged;
use super::MeasureError;

/// Largest `|Σ action_dist − 1|` accepted.
pub const SUM_TOLERANCE: f64 = 1e-6;

/// One logged round.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Round {
    pub action: usize,
    pub reward: f64,
    pub pscore: f64,
    pub action_dist: Vec<f64>,
    #[serde(default)]
    pub estimated_rewards: Option<Vec<f64>>,
}

/// Checks the rounds' shapes (every round has the same number of actions, `action` is
/// one of them, the candidate's distribution sums to 1) and maps them to [`Logged`].
pub fn logged(rounds: &[Round]) -> Result<Vec<Logged>, MeasureError> {
    let n_actions = rounds.first().map_or(0, |r| r.action_dist.len());
    rounds
        .iter()
        .enumerate()
        .map(|(row, r)| {
            let shape = |message: String| MeasureError::Shape { row, message };
            if r.action_dist.len() != n_actions || n_actions == 0 {
                return Err(shape(format!("action_dist has {} actions; the first round has {n_actions}", r.action_dist.len())));
            }
            if r.action >= n_actions {
                return Err(shape(format!("action {} is not one of the {n_actions} actions", r.action)));
            }
            if let Some(a) = r.action_dist.iter().position(|p| !(0.0..=1.0).contains(p)) {
                return Err(MeasureError::BadProbability { row, field: "action_dist", value: r.action_dist[a], range: "[0, 1]" });
            }
            let sum: f64 = r.action_dist.iter().sum();
            if (sum - 1.0).abs() > SUM_TOLERANCE {
                return Err(shape(format!("action_dist sums to {sum}, not 1")));
            }
            let q = match &r.estimated_rewards {
                Some(q) if q.len() != n_actions => {
                    return Err(shape(format!("estimated_rewards has {} values for {n_actions} actions", q.len())))
                }
                Some(q) => q.clone(),
                None => vec![0.0; n_actions],
            };
            if let Some(a) = q.iter().position(|x| !x.is_finite()) {
                return Err(MeasureError::NonFinite { row, field: "estimated_rewards", value: q[a] });
            }
            Ok(Logged {
                reward: r.reward,
                logged_probability: r.pscore,
                target_probability: r.action_dist[r.action],
                q_logged: q[r.action],
                q_target: r.action_dist.iter().zip(&q).map(|(p, q)| p * q).sum(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::ope::evaluate;

    fn round(action: usize, reward: f64, pscore: f64, dist: [f64; 2], q: [f64; 2]) -> Round {
        Round { action, reward, pscore, action_dist: dist.to_vec(), estimated_rewards: Some(q.to_vec()) }
    }

    #[test]
    fn ips_snips_dr_by_hand() {
        // w = 0.8/0.5 = 1.6, 0.5/0.25 = 2, 0.2/0.5 = 0.4.
        let rounds = [
            round(0, 1.0, 0.5, [0.8, 0.2], [0.6, 0.3]),
            round(1, 0.0, 0.25, [0.5, 0.5], [0.4, 0.2]),
            round(1, 1.0, 0.5, [0.8, 0.2], [0.5, 0.5]),
        ];
        let r = evaluate(&logged(&rounds).unwrap(), 200, 1).unwrap().unwrap();
        // IPS = (1.6·1 + 2·0 + 0.4·1) / 3 = 2/3.
        assert!((r.ips.value - 2.0 / 3.0).abs() < 1e-12, "{r:?}");
        // SNIPS = 2 / (1.6 + 2 + 0.4) = 0.5.
        assert!((r.snips.value - 0.5).abs() < 1e-12);
        // DR: row 0: (0.8·0.6 + 0.2·0.3) + 1.6·(1 − 0.6) = 0.54 + 0.64 = 1.18;
        //     row 1: (0.5·0.4 + 0.5·0.2) + 2·(0 − 0.2) = 0.3 − 0.4 = −0.1;
        //     row 2: (0.8·0.5 + 0.2·0.5) + 0.4·(1 − 0.5) = 0.5 + 0.2 = 0.7; mean 1.78/3.
        assert!((r.dr.value - 1.78 / 3.0).abs() < 1e-12);
        assert!((r.logged.value - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn bad_shapes_name_the_round() {
        let mut bad = vec![round(0, 1.0, 0.5, [0.8, 0.2], [0.6, 0.3]), round(2, 1.0, 0.5, [0.8, 0.2], [0.6, 0.3])];
        assert_eq!(logged(&bad).unwrap_err().code(), "measure_bad_shape");
        bad[1].action = 1;
        bad[1].action_dist = vec![0.5, 0.6];
        let e = logged(&bad).unwrap_err();
        assert!(e.to_string().contains("row 1") && e.to_string().contains("sums to"), "{e}");
        bad[1].action_dist = vec![0.5, 0.5, 0.0];
        assert_eq!(logged(&bad).unwrap_err().code(), "measure_bad_shape");
        bad[1].action_dist = vec![0.5, 0.5];
        bad[1].estimated_rewards = Some(vec![f64::NAN, 0.0]);
        assert_eq!(logged(&bad).unwrap_err().code(), "measure_non_finite");
        bad[1].estimated_rewards = None;
        // Without a reward model DR is IPS.
        let r = evaluate(&logged(&bad).unwrap(), 10, 1).unwrap().unwrap();
        assert!(r.dr.value != r.ips.value, "row 0 has a model");
        let no_model: Vec<Round> = bad
            .iter()
            .cloned()
            .map(|mut r| {
                r.estimated_rewards = None;
                r
            })
            .collect();
        let r = evaluate(&logged(&no_model).unwrap(), 10, 1).unwrap().unwrap();
        assert_eq!(r.dr.value, r.ips.value);
    }
}
