//! The scenario report as a readable side-by-side table.
use std::collections::{BTreeMap, BTreeSet};

use super::{lever_name, ScenarioReport};

/// The readable side-by-side table.
pub fn table(r: &ScenarioReport) -> String {
    use std::fmt::Write;
    let mut t = String::new();
    let _ = writeln!(t, "sample: {} of {} clients (seed {})", r.sample, r.base, r.seed);
    let names: Vec<&str> = r.variants.iter().map(|v| v.name.as_str()).collect();
    let head = |t: &mut String, first: &str| {
        let _ = write!(t, "{first:<34}");
        for n in &names {
            let _ = write!(t, " {n:>22}");
        }
        let _ = writeln!(t);
    };
    head(&mut t, "");
    let row = |t: &mut String, label: &str, cells: Vec<String>| {
        let _ = write!(t, "{label:<34}");
        for c in cells {
            let _ = write!(t, " {c:>22}");
        }
        let _ = writeln!(t);
    };
    row(&mut t, "clients contacted", r.variants.iter().map(|v| format!("{} of {}", v.contacted, v.clients)).collect());
    row(&mut t, "contacts", r.variants.iter().map(|v| v.contacts.to_string()).collect());
    row(&mut t, "objective (with levers)", r.variants.iter().map(|v| format!("{:.2}", v.value)).collect());
    row(&mut t, "expected value (no levers)", r.variants.iter().map(|v| format!("{:.2}", v.expected_value)).collect());
    let channels: BTreeSet<&str> = r.variants.iter().flat_map(|v| v.channels.iter().map(|c| c.channel.as_str())).collect();
    for ch in &channels {
        let cells = r
            .variants
            .iter()
            .map(|v| {
                v.channels
                    .iter()
                    .find(|c| c.channel == *ch)
                    .map_or("-".into(), |c| format!("{} ({:.0}%)", c.contacts, 100.0 * c.capacity_used))
            })
            .collect();
        row(&mut t, &format!("capacity used: {ch}"), cells);
    }
    let _ = writeln!(t, "\nreach (contacts / expected value) per offer and channel");
    head(&mut t, "offer @ channel");
    let keys: BTreeSet<(&str, &str)> =
        r.variants.iter().flat_map(|v| v.reach.iter().map(|x| (x.offer.as_str(), x.channel.as_str()))).collect();
    for (offer, ch) in keys {
        let cells = r
            .variants
            .iter()
            .map(|v| {
                v.reach
                    .iter()
                    .find(|x| x.offer == offer && x.channel == ch)
                    .map_or("0".into(), |x| format!("{} / {:.2}", x.contacts, x.expected_value))
            })
            .collect();
        row(&mut t, &format!("{offer} @ {ch}"), cells);
    }
    let _ = writeln!(t, "\nclients left without a contact, by reason");
    head(&mut t, "reason");
    let reasons: Vec<BTreeMap<String, u64>> = r
        .variants
        .iter()
        .map(|v| serde_json::from_value(serde_json::to_value(&v.uncontacted).unwrap_or_default()).unwrap_or_default())
        .collect();
    let all: BTreeSet<&String> = reasons.iter().flat_map(|m| m.keys()).collect();
    for reason in all {
        row(&mut t, reason, reasons.iter().map(|m| m.get(reason).copied().unwrap_or(0).to_string()).collect());
    }
    for v in &r.variants {
        let _ = writeln!(
            t,
            "\n{}: offers never chosen: {}",
            v.name,
            if v.never_chosen.is_empty() { "none".into() } else { v.never_chosen.join(", ") }
        );
        for c in &v.lever_costs {
            let _ = writeln!(
                t,
                "{}: lever {} costs {:+.2} in expected value (at 1: {:.2})",
                v.name,
                lever_name(&c.lever),
                -c.change,
                c.expected_value_at_1
            );
        }
    }
    t
}
