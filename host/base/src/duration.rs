//! Durations as people write them: `90s`, `15m`, `36h`, `7d` (and `1.5h`).

/// `"90s"`, `"15m"`, `"36h"`, `"7d"`, `"1.5h"` → seconds (any sign, finite).
pub fn secs_f64(s: &str) -> Option<f64> {
    let unit = s.chars().last()?;
    let n: f64 = s[..s.len() - unit.len_utf8()].parse().ok().filter(|n: &f64| n.is_finite())?;
    let k = match unit {
        's' => 1.0,
        'm' => 60.0,
        'h' => 3600.0,
        'd' => 86_400.0,
        _ => return None,
    };
    Some(n * k)
}

/// Whole seconds in a non-negative duration like `90s`, `15m`, `36h`, `7d`.
pub fn parse(s: &str) -> Option<u64> {
    secs_f64(s).filter(|d| *d >= 0.0).map(|d| d as u64)
}

/// The message every caller gives for a duration it cannot read.
pub fn expected(s: &str) -> String {
    format!("`{s}` is not a duration like 90s, 15m, 36h or 7d")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_refusals() {
        for (s, want) in
            [("90s", Some(90)), ("15m", Some(900)), ("36h", Some(129_600)), ("7d", Some(604_800)), ("1.5h", Some(5400)), ("0s", Some(0))]
        {
            assert_eq!(parse(s), want, "{s}");
        }
        for bad in ["", "7", "d", "7w", "-1d", "infd", "NaNs", "7 d"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        assert_eq!(secs_f64("-2m"), Some(-120.0));
    }
}
