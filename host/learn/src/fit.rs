//! Weighted L2-regularised logistic regression, minimised by argmin's L-BFGS.
//!
//! Loss: `Σᵢ wᵢ·(log(1 + e^{zᵢ}) − yᵢ·zᵢ) + λ/2·‖β‖²`, `zᵢ = b + β·xᵢ` (the intercept is
//! not penalised; λ in units of one row's loss, scikit-learn's `1 / C`; the default 100
//! was measured on the demo world's loop, BENCHMARKS.md), minimised divided by `Σᵢ wᵢ`
//! for scale. Why not `linfa-logistic`: it has no sample weights (the
//! inverse-propensity weighting below needs them), it penalises the intercept, and it
//! returns its last iterate when it runs out of iterations without saying so; here a fit
//! that does not converge is an error ([`FitError::NotConverged`]), never a model.
use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason, TerminationStatus};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;

/// A fitted model: `P(y = 1 | x) = σ(bias + weights·x)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    pub weights: Vec<f64>,
    pub bias: f64,
    pub iterations: u64,
}

impl Fitted {
    /// P(y = 1) for one encoded row.
    pub fn predict(&self, x: &[f64]) -> f64 {
        sigmoid(self.bias + dot(&self.weights, x))
    }
}

/// Fit settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    /// λ, in units of one row's loss (scikit-learn's `1 / C`).
    pub l2: f64,
    pub max_iterations: u64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions { l2: 100.0, max_iterations: 200 }
    }
}

/// Why a fit gave no model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error("no rows to fit")]
    Empty,
    #[error("every label is {0}: nothing to separate")]
    OneClass(bool),
    #[error("a value is not finite (row {row})")]
    NotFinite { row: usize },
    #[error("did not converge within {iterations} iterations (L-BFGS stopped: {reason})")]
    NotConverged { iterations: u64, reason: String },
}

impl FitError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            FitError::Empty => "fit_empty",
            FitError::OneClass(_) => "fit_one_class",
            FitError::NotFinite { .. } => "fit_not_finite",
            FitError::NotConverged { .. } => "fit_not_converged",
        }
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `log(1 + e^z)` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

struct Problem<'a> {
    /// Row-major `n × d`.
    x: &'a [f64],
    y: &'a [bool],
    w: &'a [f64],
    d: usize,
    total: f64,
    l2: f64,
}

impl Problem<'_> {
    fn z(&self, p: &[f64], i: usize) -> f64 {
        p[self.d] + dot(&p[..self.d], &self.x[i * self.d..(i + 1) * self.d])
    }
}

impl CostFunction for Problem<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, p: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        let mut loss = 0.0;
        for i in 0..self.y.len() {
            let z = self.z(p, i);
            loss += self.w[i] * (softplus(z) - if self.y[i] { z } else { 0.0 });
        }
        Ok((loss + 0.5 * self.l2 * dot(&p[..self.d], &p[..self.d])) / self.total)
    }
}

impl Gradient for Problem<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, p: &Vec<f64>) -> Result<Vec<f64>, argmin::core::Error> {
        let mut g = vec![0.0; self.d + 1];
        for i in 0..self.y.len() {
            let r = self.w[i] * (sigmoid(self.z(p, i)) - f64::from(u8::from(self.y[i])));
            let row = &self.x[i * self.d..(i + 1) * self.d];
            for (gj, xj) in g.iter_mut().zip(row) {
                *gj += r * xj;
            }
            g[self.d] += r;
        }
        for j in 0..=self.d {
            g[j] /= self.total;
            if j < self.d {
                g[j] += self.l2 * p[j] / self.total;
            }
        }
        Ok(g)
    }
}

/// Fits `y` on the `n × d` row-major matrix `x` with sample weights `w`.
pub fn fit(x: &[f64], d: usize, y: &[bool], w: &[f64], o: FitOptions) -> Result<Fitted, FitError> {
    let n = y.len();
    if n == 0 || x.len() != n * d || w.len() != n {
        return Err(FitError::Empty);
    }
    if let Some(row) = (0..n).find(|&i| !w[i].is_finite() || w[i] < 0.0 || x[i * d..(i + 1) * d].iter().any(|v| !v.is_finite())) {
        return Err(FitError::NotFinite { row });
    }
    let positives = y.iter().filter(|&&l| l).count();
    if positives == 0 || positives == n {
        return Err(FitError::OneClass(positives == n));
    }
    let total: f64 = w.iter().sum();
    let problem = Problem { x, y, w, d, total, l2: o.l2 };
    // Start at the weighted base rate, so the intercept is right from the first step.
    let rate = y.iter().zip(w).filter(|(l, _)| **l).map(|(_, w)| w).sum::<f64>() / total;
    let mut init = vec![0.0; d + 1];
    init[d] = (rate / (1.0 - rate)).ln();
    let not_converged = |iterations, reason: String| FitError::NotConverged { iterations, reason };
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(1e-6)
        .and_then(|s| s.with_tolerance_cost(1e-10))
        .map_err(|e| not_converged(0, e.to_string()))?;
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(init).max_iters(o.max_iterations))
        .run()
        .map_err(|e| not_converged(0, e.to_string()))?;
    let state = result.state();
    let iterations = state.get_iter();
    match state.get_termination_status() {
        TerminationStatus::Terminated(TerminationReason::SolverConverged | TerminationReason::TargetCostReached) => {}
        TerminationStatus::Terminated(reason) => return Err(not_converged(iterations, reason.text().to_string())),
        TerminationStatus::NotTerminated => return Err(not_converged(iterations, "not terminated".into())),
    }
    let p = state.get_best_param().ok_or_else(|| not_converged(iterations, "no parameters".into()))?;
    if p.iter().any(|v| !v.is_finite()) {
        return Err(not_converged(iterations, "parameters not finite".into()));
    }
    Ok(Fitted { weights: p[..d].to_vec(), bias: p[d], iterations })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws from a known logistic model and checks the fit recovers it.
    #[test]
    fn recovers_a_known_logistic_model() {
        let mut rng = vitrine_engine::policy::SplitMix64::new(3);
        let (n, d) = (20_000, 3);
        let truth = [1.5, -2.0, 0.0];
        let bias = -1.0;
        let mut x = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let row: Vec<f64> = (0..d).map(|_| rng.next_f64() * 2.0 - 1.0).collect();
            let p = sigmoid(bias + dot(&truth, &row));
            y.push(rng.next_f64() < p);
            x.extend(row);
        }
        let w = vec![1.0; n];
        let f = fit(&x, d, &y, &w, FitOptions { l2: 1e-6, max_iterations: 200 }).unwrap();
        for (got, want) in f.weights.iter().zip(truth) {
            assert!((got - want).abs() < 0.15, "{:?} vs {truth:?}", f.weights);
        }
        assert!((f.bias - bias).abs() < 0.1, "{}", f.bias);
        // Weights matter: doubling the weight of the positives raises the intercept by ≈ ln 2.
        let w2: Vec<f64> = y.iter().map(|&l| if l { 2.0 } else { 1.0 }).collect();
        let f2 = fit(&x, d, &y, &w2, FitOptions { l2: 1e-6, max_iterations: 200 }).unwrap();
        assert!((f2.bias - f.bias - 2f64.ln()).abs() < 0.05, "{} vs {}", f2.bias, f.bias);
    }

    #[test]
    fn bad_input_is_an_error_not_a_model() {
        let x = [0.0, 1.0, 2.0, 3.0];
        assert_eq!(fit(&x, 1, &[true; 4], &[1.0; 4], FitOptions::default()).unwrap_err(), FitError::OneClass(true));
        assert_eq!(fit(&[], 1, &[], &[], FitOptions::default()).unwrap_err(), FitError::Empty);
        let nan = [0.0, f64::NAN, 2.0, 3.0];
        assert_eq!(fit(&nan, 1, &[true, false, true, false], &[1.0; 4], FitOptions::default()).unwrap_err().code(), "fit_not_finite");
        // Separable data without a penalty has no optimum: the fit runs out of iterations.
        let e = fit(&x, 1, &[false, false, true, true], &[1.0; 4], FitOptions { l2: 0.0, max_iterations: 5 }).unwrap_err();
        assert_eq!(e.code(), "fit_not_converged", "{e}");
    }
}
