//! Pass 3: the plan's contacts with their send day and hour, and why the others got none,
//! in input order (from the clients spill).
use std::io::Write;
use std::path::Path;

use crate::allocate::{self, NO_DAY};
use crate::{clients, io, output, state, Pass1, PlanError, Setup};

/// A client without a send hour of its own.
pub(crate) const NO_HOUR: u8 = u8::MAX;

/// Pass 3: in input order (from the clients spill), each client's contacts with their
/// send day and hour, or why it got none; with `sent`, each client's sends as a JSON
/// line for the feedback log. Returns the counts by reason, how many clients were
/// contacted, and each channel's busiest day. Removes the spill.
pub(crate) fn write_contacts(
    setup: &Setup,
    pass1: &Pass1,
    allocation: &allocate::Result,
    out: &mut output::Outputs,
    sent: Option<&Path>,
) -> Result<(output::Uncontacted, u64, Vec<u64>), PlanError> {
    let (config, bundle) = (&setup.config, &setup.bundle);
    let clients_path = &pass1.clients_path;
    let mut uncontacted = output::Uncontacted::default();
    let mut contacted = 0u64;
    let mut per_day = vec![vec![0u64; config.days as usize]; config.channels.len()];
    let mut reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(clients_path).map_err(io(clients_path))?);
    let mut sent = match sent {
        Some(p) => Some((std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(p).map_err(io(p))?), p)),
        None => None,
    };
    for (c, st) in pass1.states.iter().enumerate() {
        let (id, decision) = clients::read(&mut reader)
            .map_err(io(clients_path))?
            .ok_or_else(|| PlanError::Io { path: clients_path.to_path_buf(), source: std::io::ErrorKind::UnexpectedEof.into() })?;
        let decision_hex = vitrine_base::hex::encode(&decision);
        let mut shown = Vec::new();
        for j in pass1.pool.of(c as u32) {
            let day = allocation.day[j];
            if day == NO_DAY {
                continue;
            }
            let x = &pass1.pool.cands[j];
            let ch = &config.channels[x.pref as usize];
            let hour = ch.send_hour(match pass1.hours[c] {
                NO_HOUR => config.send_hour,
                h => h,
            });
            let date = (config.start_day + i64::from(day)) as i32;
            per_day[x.pref as usize][day as usize] += 1;
            let o = &bundle.offers[x.offer as usize];
            let treatment = o.treatments.get(x.treatment as usize).map_or("", |t| t.id.as_str());
            out.contact(x.pref as usize, &id, &o.id, treatment, date, hour, x.value, x.selection_probability, &decision_hex)?;
            if sent.is_some() {
                shown.push(vitrine_feedback::Shown {
                    slot: ch.slot.clone(),
                    channel: ch.name.clone(),
                    rank: x.rank,
                    offer: o.id.clone(),
                    treatment: treatment.to_string(),
                    selection_probability: x.selection_probability,
                    uplift: (!x.uplift.is_nan()).then_some(x.uplift),
                    sent_at: Some(date.max(0) as u64 * 86_400 + u64::from(hour) * 3_600),
                });
            }
        }
        if let Some((w, p)) = &mut sent {
            let mut line =
                serde_json::to_vec(&shown).map_err(|e| PlanError::Io { path: p.to_path_buf(), source: std::io::Error::other(e) })?;
            line.push(b'\n');
            w.write_all(&line).map_err(io(p))?;
        }
        let Some(reason) = st.uncontacted() else {
            contacted += 1;
            continue;
        };
        uncontacted.count(reason);
        out.uncontacted(&id, reason.as_str(), reason == state::Reason::NoContact, &decision_hex)?;
    }
    if let Some((mut w, p)) = sent {
        w.flush().map_err(io(p))?;
    }
    drop(reader);
    std::fs::remove_file(clients_path).map_err(io(clients_path))?;
    let busiest = per_day.iter().map(|d| d.iter().copied().max().unwrap_or(0)).collect();
    Ok((uncontacted, contacted, busiest))
}
