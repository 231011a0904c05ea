//! Selection probabilities (exact for greedy, ε-greedy and softmax) and Beta draws
//! for Thompson sampling.
use super::{Exploration, SplitMix64};

/// Writes into `probs` the probability of picking each candidate given `priorities`.
/// Ties for the top go to the lowest index, so greedy is deterministic.
pub fn selection_probabilities(priorities: &[f64], exploration: Exploration, probs: &mut Vec<f64>) {
    probs.clear();
    let n = priorities.len();
    if n == 0 {
        return;
    }
    let best = argmax(priorities);
    match exploration {
        Exploration::None => probs.extend((0..n).map(|i| if i == best { 1.0 } else { 0.0 })),
        Exploration::EpsilonGreedy { epsilon } => {
            let e = epsilon.clamp(0.0, 1.0);
            let share = e / n as f64;
            probs.extend((0..n).map(|i| if i == best { 1.0 - e + share } else { share }));
        }
        Exploration::Softmax { temperature } => {
            let t = temperature;
            if t.is_nan() || t <= 0.0 {
                probs.extend((0..n).map(|i| if i == best { 1.0 } else { 0.0 }));
                return;
            }
            let max = priorities[best];
            let mut sum = 0.0;
            for &p in priorities {
                let w = libm::exp((p - max) / t);
                probs.push(w);
                sum += w;
            }
            probs.iter_mut().for_each(|w| *w /= sum);
        }
    }
}

fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Index drawn from `probs` by inverse CDF with the uniform `u`.
pub(crate) fn draw(probs: &[f64], u: f64) -> usize {
    let mut acc = 0.0;
    let mut last = 0;
    for (i, &p) in probs.iter().enumerate() {
        if p > 0.0 {
            acc += p;
            last = i;
            if u < acc {
                return i;
            }
        }
    }
    last
}

fn normal(rng: &mut SplitMix64) -> f64 {
    let u1 = 1.0 - rng.next_f64();
    let u2 = rng.next_f64();
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * core::f64::consts::PI * u2)
}

fn gamma(shape: f64, rng: &mut SplitMix64) -> f64 {
    if shape < 1.0 {
        let u = 1.0 - rng.next_f64();
        return gamma(shape + 1.0, rng) * libm::pow(u, 1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / libm::sqrt(9.0 * d);
    // Marsaglia–Tsang accepts with probability > 0.95; 64 tries bound the loop.
    for _ in 0..64 {
        let x = normal(rng);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u = 1.0 - rng.next_f64();
        if libm::log(u) < 0.5 * x * x + d - d * v + d * libm::log(v) {
            return d * v;
        }
    }
    shape
}

/// One draw from Beta(alpha, beta); parameters below 1e-3 are raised to it.
pub fn beta_sample(alpha: f32, beta: f32, rng: &mut SplitMix64) -> f64 {
    let a = (alpha as f64).max(1e-3);
    let b = (beta as f64).max(1e-3);
    let x = gamma(a, rng);
    let y = gamma(b, rng);
    if x + y > 0.0 {
        x / (x + y)
    } else {
        a / (a + b)
    }
}
