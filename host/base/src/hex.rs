//! Lowercase hex for keys, API keys, checksums, subjects and decision ids.

/// Lowercase hex of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Exactly `2 * N` hex digits → `N` bytes (no sign, no prefix, either case).
pub fn decode<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(b.chunks(2)) {
        let digit = |c: u8| (c as char).to_digit(16);
        *o = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_what_is_not_hex() {
        let bytes: [u8; 16] = core::array::from_fn(|i| (i * 17) as u8);
        assert_eq!(decode::<16>(&encode(&bytes)), Some(bytes));
        assert_eq!(decode::<2>("ABcd"), Some([0xab, 0xcd]));
        for bad in ["abc", "abcdef", "+fff", "zz00", "é0", ""] {
            assert_eq!(decode::<2>(bad), None, "{bad:?}");
        }
    }
}
