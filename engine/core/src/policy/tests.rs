use super::exploration::draw;
use super::{arbitrate, beta_sample, selection_probabilities, Candidate, Exploration, SlotAsk, SplitMix64};

fn probs(prio: &[f64], e: Exploration) -> Vec<f64> {
    let mut p = Vec::new();
    selection_probabilities(prio, e, &mut p);
    p
}

#[test]
fn selection_probabilities_are_exact_and_sum_to_one() {
    let prio = [1.0, 3.0, 2.0, 3.0];
    assert_eq!(probs(&prio, Exploration::None), vec![0.0, 1.0, 0.0, 0.0]);
    let eps = probs(&prio, Exploration::EpsilonGreedy { epsilon: 0.2 });
    for (got, want) in eps.iter().zip([0.05, 0.85, 0.05, 0.05]) {
        assert!((got - want).abs() < 1e-12, "{eps:?}");
    }
    let s = probs(&prio, Exploration::Softmax { temperature: 1.0 });
    let z: f64 = prio.iter().map(|p| (p - 3.0f64).exp()).sum();
    for (got, p) in s.iter().zip(prio) {
        assert!((got - (p - 3.0f64).exp() / z).abs() < 1e-12);
    }
    assert!((s.iter().sum::<f64>() - 1.0).abs() < 1e-12);
}

#[test]
fn draws_match_the_logged_probabilities() {
    // Empirical frequencies of epsilon-greedy picks match the logged probabilities.
    let p = probs(&[1.0, 3.0, 2.0], Exploration::EpsilonGreedy { epsilon: 0.3 });
    let mut rng = SplitMix64::new(1);
    let mut counts = [0usize; 3];
    for _ in 0..60_000 {
        counts[draw(&p, rng.next_f64())] += 1;
    }
    for (c, want) in counts.iter().zip(&p) {
        assert!((*c as f64 / 60_000.0 - want).abs() < 0.01, "{counts:?} vs {p:?}");
    }
}

#[test]
fn beta_draws_have_the_right_mean_and_stay_in_range() {
    let mut rng = SplitMix64::new(7);
    for (a, b) in [(2.0f32, 5.0f32), (0.5, 0.5), (40.0, 60.0)] {
        let n = 20_000;
        let xs: Vec<f64> = (0..n).map(|_| beta_sample(a, b, &mut rng)).collect();
        assert!(xs.iter().all(|x| (0.0..=1.0).contains(x)));
        let mean = xs.iter().sum::<f64>() / n as f64;
        assert!((mean - a as f64 / (a + b) as f64).abs() < 0.01, "Beta({a},{b}) mean {mean}");
    }
}

#[test]
fn arm_shares_are_respected_and_recomputable() {
    use super::arms::{assign, uniform, Arm};
    let n = 40_000u32;
    let mut counts = [0usize; 3];
    for i in 0..n {
        let arm = assign(&i.to_le_bytes(), "salt", 0.1, 0.05);
        counts[Arm::ALL.iter().position(|a| *a == arm).unwrap()] += 1;
        // The documented recipe gives the same arm.
        let u = uniform(&i.to_le_bytes(), "salt");
        let want = if u < 0.05 {
            Arm::NoContact
        } else if u < 0.15 {
            Arm::Bau
        } else {
            Arm::Personalised
        };
        assert_eq!(arm, want);
    }
    for (c, share) in counts.iter().zip([0.85, 0.1, 0.05]) {
        assert!((*c as f64 / n as f64 - share).abs() < 0.006, "{counts:?}");
    }
    assert_eq!(assign(b"anyone", "salt", 0.0, 0.0), Arm::Personalised);
    // A new salt reshuffles the arms.
    let moved = (0..1000u32).filter(|i| assign(&i.to_le_bytes(), "a", 0.5, 0.0) != assign(&i.to_le_bytes(), "b", 0.5, 0.0)).count();
    assert!(moved > 300, "{moved}");
}

#[test]
fn cost_lowers_priority() {
    let c = Candidate { offer: 0, category: 0, p: 0.2, cvl: 10.0, cost: 0.5, cold: None };
    assert!((c.priority() - 1.5).abs() < 1e-12);
}

#[test]
fn arbitration_respects_page_and_category_limits() {
    let c = |offer, category, p| Candidate { offer, category, p, cvl: 1.0, cost: 0.0, cold: None };
    let cands = [c(0, 0, 0.9), c(1, 0, 0.8), c(2, 0, 0.7), c(3, 1, 0.1)];
    let ask = SlotAsk { k: 3, exploration: Exploration::None, max_per_category: 2, estimate_draws: 0 };
    let mut taken = vec![false; 4];
    taken[1] = true;
    let mut per_cat = vec![0u8; 2];
    let picks = arbitrate(&cands, ask, &mut taken, &mut per_cat, &mut SplitMix64::new(0), &mut SplitMix64::new(1), &mut Default::default());
    let ids: Vec<u16> = picks.iter().map(|p| p.offer).collect();
    assert_eq!(ids, vec![0, 2, 3]);
    assert!(picks.iter().all(|p| p.probability == 1.0 && !p.estimated));
    assert_eq!(per_cat, vec![2, 1]);
}
