//! "Did you mean …?" for unknown names: the closest known name by edit distance.

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The known name closest to `name`, if it is close enough to be a likely typo of
/// the whole name or of its beginning (`fibre_elig` → `fiber_eligible`).
pub fn closest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<String> {
    let n = name.chars().count();
    let limit = (n / 3).max(2);
    known
        .map(|k| {
            let prefix: String = k.chars().take(n).collect();
            let d = if n >= 3 { distance(name, k).min(distance(name, &prefix) + 1) } else { distance(name, k) };
            (d, k)
        })
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| k.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_typos_and_prefixes() {
        let known = ["fiber_eligible", "fiber_owned", "tenure_months"];
        assert_eq!(super::closest("fibre_elig", known.into_iter()).as_deref(), Some("fiber_eligible"));
        assert_eq!(super::closest("tenure_month", known.into_iter()).as_deref(), Some("tenure_months"));
        assert_eq!(super::closest("zzz", known.into_iter()), None);
    }
}
