//! The attribution rule report and training share: a sale of an offer counts for a
//! contact (or a withheld offer) when the same client bought that offer within the
//! offer's window after the decision (docs/measurement.md).
use std::collections::{BTreeMap, HashMap};

use crate::SaleRow;

/// Attribution window of an offer the bundle does not know (7 days).
pub const DEFAULT_WINDOW: u64 = 7 * 86_400;

/// The window of `offer` in `windows`, else [`DEFAULT_WINDOW`].
pub fn window(windows: &BTreeMap<String, u64>, offer: &str) -> u64 {
    windows.get(offer).copied().unwrap_or(DEFAULT_WINDOW)
}

/// The longest window (at least [`DEFAULT_WINDOW`]): how far past a range sales are read.
pub fn longest(windows: &BTreeMap<String, u64>) -> u64 {
    windows.values().copied().max().unwrap_or(DEFAULT_WINDOW).max(DEFAULT_WINDOW)
}

/// Sales by (subject, offer).
#[derive(Debug, Default)]
pub struct Sales<'a>(HashMap<(&'a str, &'a str), Vec<&'a SaleRow>>);

impl<'a> Sales<'a> {
    pub fn new(sales: &'a [SaleRow]) -> Sales<'a> {
        let mut by: HashMap<(&str, &str), Vec<&SaleRow>> = HashMap::new();
        for s in sales {
            by.entry((s.subject.as_str(), s.offer.as_str())).or_default().push(s);
        }
        Sales(by)
    }

    /// The sales of `offer` by `subject` in `[at, at + window)`: (any, their total value).
    pub fn within(&self, subject: &str, offer: &str, at: u64, window: u64) -> (bool, f64) {
        let hits = self.0.get(&(subject, offer)).into_iter().flatten().filter(|s| s.at >= at && s.at < at.saturating_add(window));
        hits.fold((false, 0.0), |(_, sum), s| (true, sum + s.value))
    }
}
