//! The host's wall clock, in unix seconds (the engine reads no clock: hosts pass time in).

/// Now, in unix seconds (0 if the clock is before 1970).
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `7d` (that long before `now`) or a unix time.
pub fn since(s: &str, now: u64) -> Option<u64> {
    if let Ok(t) = s.parse::<u64>() {
        return Some(t);
    }
    crate::duration::parse(s).map(|d| now.saturating_sub(d))
}

#[cfg(test)]
mod tests {
    #[test]
    fn since_reads_a_duration_or_a_time() {
        assert_eq!(super::since("1700000000", 5), Some(1_700_000_000));
        assert_eq!(super::since("1d", 100_000), Some(100_000 - 86_400));
        assert_eq!(super::since("1d", 5), Some(0));
        assert_eq!(super::since("soon", 5), None);
    }
}
