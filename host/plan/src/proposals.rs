//! `vitrine plan --proposals FILE.csv`: allocate proposals decided elsewhere, by the
//! same engine: the Spark planner's executors decide, its driver hands the proposals to
//! this allocation, so a plan made on Spark is `vitrine plan`'s allocation of the same
//! decisions.
//!
//! One row per proposal, and one row with an empty `offer` for a client without any:
//! `client_id, decision_id, status, pref, rank, offer, treatment, priority,
//! selection_probability, uplift` (`status`: `candidates`, `no_contact`,
//! `no_channel_consent`, `no_eligible_offer`; `pref`: the channel's index in plan.toml;
//! `uplift` empty when the offer is not uplift-scored). Rows may come in any order.
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::allocate::{Cand, Pool, UNLIMITED};
use crate::decide::Status;
use crate::state::ClientState;
use crate::{clients, PlanError, Setup};

/// One client's rows.
#[derive(Default)]
struct Client {
    decision: Option<[u8; 16]>,
    status: Option<Status>,
    cands: Vec<Cand>,
}

/// Reads `path` into the planner's pass-1 state: clients in client-id order, their
/// decisions spilled to `clients_path`.
pub(crate) fn read(path: &Path, setup: &Setup, clients_path: &Path) -> Result<(Vec<ClientState>, Pool), PlanError> {
    let bad = |line: u64, reason: String| PlanError::Proposals { path: path.to_path_buf(), line, reason };
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(0, e.to_string()))?;
    let headers = reader.headers().map_err(|e| bad(1, e.to_string()))?.clone();
    const COLUMNS: [&str; 10] =
        ["client_id", "decision_id", "status", "pref", "rank", "offer", "treatment", "priority", "selection_probability", "uplift"];
    let mut at = [0usize; COLUMNS.len()];
    for (i, name) in COLUMNS.iter().enumerate() {
        at[i] = headers
            .iter()
            .position(|h| h == *name)
            .ok_or_else(|| bad(1, format!("no `{name}` column (columns: {})", COLUMNS.join(", "))))?;
    }
    let offers: HashMap<&str, u16> = setup.bundle.offers.iter().enumerate().map(|(i, o)| (o.id.as_str(), i as u16)).collect();
    let mut by_client: BTreeMap<String, Client> = BTreeMap::new();
    for (n, row) in reader.records().enumerate() {
        let line = n as u64 + 2;
        let row = row.map_err(|e| bad(line, e.to_string()))?;
        let get = |i: usize| row.get(at[i]).unwrap_or("");
        let client = by_client.entry(get(0).to_string()).or_default();
        if get(0).is_empty() || get(0).len() > u16::MAX as usize {
            return Err(bad(line, "client_id is empty or longer than 65,535 bytes".into()));
        }
        let decision =
            vitrine_base::hex::decode::<16>(get(1)).ok_or_else(|| bad(line, format!("decision_id `{}` is not 32 hex digits", get(1))))?;
        let status = match get(2) {
            "candidates" => Status::Candidates,
            "no_contact" => Status::NoContact,
            "no_channel_consent" => Status::NoChannelConsent,
            "no_eligible_offer" => Status::NoEligibleOffer,
            other => {
                return Err(bad(line, format!("status `{other}` is not candidates, no_contact, no_channel_consent or no_eligible_offer")))
            }
        };
        if client.decision.is_some_and(|d| d != decision) || client.status.is_some_and(|s| s != status) {
            return Err(bad(line, format!("client `{}` has rows from two decisions", get(0))));
        }
        client.decision = Some(decision);
        client.status = Some(status);
        if get(5).is_empty() {
            continue;
        }
        let &offer = offers.get(get(5)).ok_or_else(|| bad(line, format!("offer `{}` is not in the bundle", get(5))))?;
        let pref: u8 = get(3).parse().ok().filter(|&p: &u8| (p as usize) < setup.config.channels.len()).ok_or_else(|| {
            bad(line, format!("pref `{}` is not a channel index of plan.toml (0..{})", get(3), setup.config.channels.len()))
        })?;
        let rank: u8 = get(4).parse().map_err(|_| bad(line, format!("rank `{}` is not a number", get(4))))?;
        let number = |i: usize| -> Result<f64, PlanError> {
            get(i)
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| bad(line, format!("{} `{}` is not a finite number", COLUMNS[i], get(i))))
        };
        let treatment = setup.bundle.offers[offer as usize]
            .treatments
            .iter()
            .position(|t| t.id == get(6))
            .ok_or_else(|| bad(line, format!("treatment `{}` is not a treatment of `{}`", get(6), get(5))))? as u8;
        let uplift = match get(9) {
            "" => f32::NAN,
            _ => number(9)? as f32,
        };
        if client.cands.iter().any(|c| c.pref == pref && c.rank == rank) {
            return Err(bad(line, format!("client `{}` has two proposals at channel {pref}, rank {rank}", get(0))));
        }
        client.cands.push(Cand {
            client: 0,
            offer,
            pref,
            rank,
            treatment,
            room: [UNLIMITED; 3],
            uplift,
            value: number(7)?,
            selection_probability: number(8)?,
        });
    }
    let mut spill = std::io::BufWriter::new(std::fs::File::create(clients_path).map_err(io(clients_path))?);
    let (mut states, mut pool) = (Vec::with_capacity(by_client.len()), Pool::default());
    for (id, mut c) in by_client {
        let (Some(decision), Some(status)) = (c.decision, c.status) else { continue };
        c.cands.sort_by_key(|x| (x.pref, x.rank));
        pool.open_client();
        let ordinal = u32::try_from(states.len()).map_err(|_| bad(0, "more than 2^32 clients".into()))?;
        for mut x in c.cands {
            x.client = ordinal;
            pool.cands.push(x);
        }
        states.push(ClientState::new(status));
        clients::write(&mut spill, &id, &decision).map_err(io(clients_path))?;
    }
    spill.flush().map_err(io(clients_path))?;
    Ok((states, pool))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> PlanError + '_ {
    move |source| PlanError::Io { path: PathBuf::from(path), source }
}
