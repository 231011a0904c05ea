//! The closed loop converges (`vitrine demo loop`, smaller than BENCHMARKS.md's run): from
//! the rule-based start, the contextual learner's true reward reaches 90% of the oracle's
//! within the rounds, beats the static ONNX demo model, is not worse than the Beta-only
//! learner beyond the noise of their posteriors, and no promoted model is worse on the
//! truth.
//!
//! At this size the contextual learner ties the Beta learner: on 3,000 visits a day its
//! held-out gate (clipped weights, 100 effective rows, Holm's procedure over the round's
//! offers) promotes a model in about one run in eight, and both end on the posterior means
//! of the same offers, whose order for two close offers is a coin flip between runs (true
//! rewards 2.42441 and 2.42561, 0.05% of the oracle apart, either way round, in 12 runs).
//! So "beats the Beta learner" is a known miss at this size, shown at the benchmark's
//! (BENCHMARKS.md); this test asserts that the contextual learner does not lose by more
//! than 0.1% of the oracle. That the gate promotes a real signal, and that what it
//! promotes is closer to the truth, is `learn_truth`'s test on a strong known signal.
use serde_json::Value;

use crate::common::vitrine;

const ROUNDS: &str = "4";
const VISITS: &str = "3000";

#[test]
fn the_learning_loop_converges_toward_the_oracle() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap();
    let run = vitrine(&["demo", "loop", "--state", dir, "--out", dir, "--rounds", ROUNDS, "--visits", VISITS, "--eval-clients", "3000"]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    let runs: Value = serde_json::from_slice(&std::fs::read(tmp.path().join("loop.json")).unwrap()).unwrap();
    let learner =
        |name: &str| runs.as_array().unwrap().iter().find(|r| r["learner"] == name).unwrap()["rounds"].as_array().unwrap().clone();
    let (contextual, beta, fixed) = (learner("contextual"), learner("beta"), learner("static"));
    let last = |rounds: &[Value], key: &str| rounds.last().unwrap()[key].as_f64().unwrap();
    assert_eq!(contextual.len(), ROUNDS.parse::<usize>().unwrap() + 1);
    assert!(contextual.iter().all(|r| r["day"]["errors"] == 0 && r["day"]["personalised"].as_u64().unwrap() > 1500), "{stdout}");
    // The first day is the rule-based policy: well short of the oracle.
    assert!(contextual[0]["ratio"].as_f64().unwrap() < 0.8, "{stdout}");
    let ratio = last(&contextual, "ratio");
    assert!(ratio >= 0.9, "the learned policy reaches {:.1}% of the oracle's true reward\n{stdout}", 100.0 * ratio);
    let reward = last(&contextual, "reward");
    let oracle = last(&contextual, "oracle");
    assert!(reward >= last(&beta, "reward") - 0.001 * oracle, "does not lose to the Beta-only learner beyond their noise\n{stdout}");
    assert!(reward > last(&fixed, "reward"), "beats the static ONNX demo model\n{stdout}");
    // Champion/challenger holds on the truth: every promotion lowers the cross-entropy
    // against the true conversion probability.
    let checks: Vec<&Value> = contextual.iter().flat_map(|r| r["truth_checks"].as_array().unwrap()).collect();
    for c in &checks {
        assert!(c["after"].as_f64().unwrap() <= c["before"].as_f64().unwrap(), "a promotion worse on the truth: {c}");
    }
    assert!(stdout.contains("promotions worse on the truth (cross-entropy against the true P(conversion)): none"), "{stdout}");
    let svg = std::fs::read_to_string(tmp.path().join("learning-curve.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.matches("<polyline").count() >= 7, "reward and regret per learner, and the oracle");
}
