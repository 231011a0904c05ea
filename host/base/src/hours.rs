//! Quiet hours: `[from, to)` hours of the day (UTC) in which a channel sends nothing,
//! wrapping past midnight when `from > to` (`[21, 8]`: 21:00 to 08:00).

/// Checks quiet hours as a configuration gives them: two different hours in 0..=23.
pub fn check(quiet: [u8; 2]) -> Result<(), String> {
    let [from, to] = quiet;
    if from > 23 || to > 23 || from == to {
        return Err(format!("quiet_hours = [{from}, {to}] must be two different hours in 0..=23 (from, up to)"));
    }
    Ok(())
}

/// Whether `hour` (0–23) falls in the quiet hours `quiet`.
pub fn is_quiet(quiet: [u8; 2], hour: u8) -> bool {
    let [from, to] = quiet;
    if from <= to {
        (from..to).contains(&hour)
    } else {
        hour >= from || hour < to
    }
}

/// The first hour at or after `hour` (wrapping within the day) outside `quiet`.
pub fn open_hour(quiet: [u8; 2], hour: u8) -> u8 {
    (0..24).map(|i| (hour + i) % 24).find(|&h| !is_quiet(quiet, h)).unwrap_or(hour)
}

/// When something due at `at` (Unix seconds) may go out: at once, or at the start of the
/// first hour after the quiet hours.
pub fn open_at(quiet: [u8; 2], at: u64) -> u64 {
    let hour = ((at % 86_400) / 3_600) as u8;
    if !is_quiet(quiet, hour) {
        return at;
    }
    let wait = u64::from((open_hour(quiet, hour) + 24 - hour) % 24);
    at - at % 3_600 + wait * 3_600
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_wrap_past_midnight() {
        assert!(is_quiet([21, 8], 23) && is_quiet([21, 8], 0) && is_quiet([21, 8], 7) && !is_quiet([21, 8], 8));
        assert!(is_quiet([1, 5], 4) && !is_quiet([1, 5], 5) && !is_quiet([1, 5], 0));
        assert_eq!((open_hour([21, 8], 21), open_hour([21, 8], 10), open_hour([20, 8], 23)), (8, 10, 8));
        let day = 20_000 * 86_400;
        assert_eq!(open_at([21, 8], day + 23 * 3600 + 1800), day + 86_400 + 8 * 3600);
        assert_eq!(open_at([21, 8], day + 3 * 3600 + 60), day + 8 * 3600);
        assert_eq!(open_at([21, 8], day + 9 * 3600 + 5), day + 9 * 3600 + 5);
    }
}
