//! Per-offer facts of the bundle the plan reports with: category index, business lever,
//! expected value without the lever.
use vitrine_engine::bundle::Bundle;

use crate::categories;

/// Each offer's business lever L: its own times its category's.
pub fn levers(bundle: &Bundle) -> Vec<f64> {
    bundle
        .offers
        .iter()
        .map(|o| {
            let category = bundle.policy.category_levers.iter().find(|c| c.category == o.category).map_or(1.0, |c| f64::from(c.lever));
            f64::from(o.lever) * category
        })
        .collect()
}

/// A contact's expected value without the business lever: `(priority + cost) / L − cost`
/// (the priority is `score × C × V × L − cost`).
pub fn expected_value(priority: f64, cost: f64, lever: f64) -> f64 {
    if lever > 0.0 {
        (priority + cost) / lever - cost
    } else {
        priority
    }
}

/// The category index of each offer of `bundle` (the engine's: categories sorted by name).
pub(crate) fn offer_categories(bundle: &Bundle) -> Vec<u16> {
    let cats = categories(bundle);
    bundle.offers.iter().map(|o| cats.binary_search(&o.category.as_str()).unwrap_or(0) as u16).collect()
}
