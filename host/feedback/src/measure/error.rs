//! Errors of the measurement functions, each with a stable snake_case code
//! ([`MeasureError::code`]) that callers and dashboards can match on.

/// Why a measurement could not be computed from its input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MeasureError {
    /// A part exceeds its whole (successes > trials, control > total).
    #[error("count {count} exceeds its total {total}")]
    BadCount {
        /// The part (successes, control units).
        count: u64,
        /// The whole it belongs to (trials, total units).
        total: u64,
    },
    /// An interval multiplier that is negative or not finite.
    #[error("z = {z}: the interval multiplier must be finite and non-negative")]
    BadZ {
        /// The rejected multiplier.
        z: f64,
    },
    /// An expected share outside the open interval (0, 1).
    #[error("expected share {share} must lie strictly between 0 and 1")]
    BadShare {
        /// The rejected share.
        share: f64,
    },
    /// A logged row whose probability is outside its allowed range.
    #[error("row {row}: {field} = {value} is not a probability in {range}")]
    BadProbability {
        /// Index of the offending row in the input slice.
        row: usize,
        /// Which field (`logged_probability` or `target_probability`).
        field: &'static str,
        /// The rejected value.
        value: f64,
        /// The allowed range, as text (`(0, 1]` or `[0, 1]`).
        range: &'static str,
    },
    /// A logged row with a NaN or infinite reward or reward-model prediction.
    #[error("row {row}: {field} = {value} is not finite")]
    NonFinite {
        /// Index of the offending row in the input slice.
        row: usize,
        /// Which field (`reward`, `q_logged` or `q_target`).
        field: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// A logged round whose arrays do not fit together (actions, distribution, model).
    #[error("row {row}: {message}")]
    Shape {
        /// Index of the offending round.
        row: usize,
        /// What does not fit.
        message: String,
    },
    /// An estimate left the finite f64 range (extreme importance weights or rewards).
    #[error("{estimator}: the estimate is not finite (importance weights or rewards too large)")]
    Overflow {
        /// Which estimate overflowed (`logged`, `ips`, `snips`, `dr`, `weights`).
        estimator: &'static str,
    },
}

impl MeasureError {
    /// Stable machine-readable code of this error, e.g. `measure_bad_probability`.
    pub fn code(&self) -> &'static str {
        match self {
            MeasureError::BadCount { .. } => "measure_bad_count",
            MeasureError::BadZ { .. } => "measure_bad_z",
            MeasureError::BadShare { .. } => "measure_bad_share",
            MeasureError::BadProbability { .. } => "measure_bad_probability",
            MeasureError::NonFinite { .. } => "measure_non_finite",
            MeasureError::Overflow { .. } => "measure_overflow",
            MeasureError::Shape { .. } => "measure_bad_shape",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_distinct() {
        let all = [
            MeasureError::BadCount { count: 2, total: 1 },
            MeasureError::BadZ { z: -1.0 },
            MeasureError::BadShare { share: 1.0 },
            MeasureError::BadProbability { row: 0, field: "logged_probability", value: 0.0, range: "(0, 1]" },
            MeasureError::NonFinite { row: 0, field: "reward", value: f64::NAN },
            MeasureError::Overflow { estimator: "ips" },
            MeasureError::Shape { row: 0, message: "x".into() },
        ];
        let codes: Vec<&str> = all.iter().map(MeasureError::code).collect();
        assert_eq!(
            codes,
            [
                "measure_bad_count",
                "measure_bad_z",
                "measure_bad_share",
                "measure_bad_probability",
                "measure_non_finite",
                "measure_overflow",
                "measure_bad_shape",
            ]
        );
    }

    #[test]
    fn messages_name_the_row() {
        let e = MeasureError::BadProbability { row: 7, field: "logged_probability", value: 1.5, range: "(0, 1]" };
        assert_eq!(e.to_string(), "row 7: logged_probability = 1.5 is not a probability in (0, 1]");
    }
}
