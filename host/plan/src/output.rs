//! The plan's files: per channel `<channel>.parquet` and `<channel>.csv`, the
//! uncontacted clients (`uncontacted.parquet` / `.csv`), and `summary.json`.
use std::path::Path;

use serde::Serialize;

use crate::config::PlanConfig;
use crate::PlanError;
use vitrine_store::table::{Kind, TableWriter, Value};

/// Columns of a channel file.
pub const CONTACT_COLUMNS: [(&str, Kind); 10] = [
    ("client_id", Kind::Text),
    ("offer", Kind::Text),
    ("treatment", Kind::Text),
    ("channel", Kind::Text),
    ("send_date", Kind::Date),
    ("send_hour", Kind::Int),
    ("send_at", Kind::Text),
    ("priority", Kind::Float),
    ("selection_probability", Kind::Float),
    ("decision_id", Kind::Text),
];

/// Columns of the uncontacted file.
pub const UNCONTACTED_COLUMNS: [(&str, Kind); 4] =
    [("client_id", Kind::Text), ("reason", Kind::Text), ("no_contact", Kind::Bool), ("decision_id", Kind::Text)];

/// Clients left without a contact, by reason.
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
pub struct Uncontacted {
    /// In the bundle's `no_contact` arm: planned as no contact, the control of uplift measurement.
    pub no_contact: u64,
    /// Consented to none of the planned channels.
    pub no_channel_consent: u64,
    /// No offer passed the rules on any planned channel.
    pub no_eligible_offer: u64,
    /// Every proposal went to a channel already at capacity.
    pub channel_capacity: u64,
    /// Every proposal was left out by the budget, an offer's volume or share limit, or
    /// the optimiser (the capacity was worth more to other clients).
    pub plan_limits: u64,
    /// The contact history left no room under the bundle's caps or `max_contacts`.
    pub contact_pressure: u64,
    /// No send day left (quiet days and gaps).
    pub no_send_day: u64,
}

impl Uncontacted {
    pub(super) fn count(&mut self, reason: crate::state::Reason) {
        use crate::state::Reason;
        *match reason {
            Reason::NoContact => &mut self.no_contact,
            Reason::NoChannelConsent => &mut self.no_channel_consent,
            Reason::NoEligibleOffer => &mut self.no_eligible_offer,
            Reason::ChannelCapacity => &mut self.channel_capacity,
            Reason::PlanLimits => &mut self.plan_limits,
            Reason::ContactPressure => &mut self.contact_pressure,
            Reason::NoSendDay => &mut self.no_send_day,
        } += 1;
    }
}

/// Proposals the allocation turned down, by cause.
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
pub struct Refusals {
    /// The client already had `max_contacts` (with its history, in a rolling window).
    pub client_cap: u64,
    /// A cap of the bundle left no room after the client's history and earlier contacts.
    pub contact_cap: u64,
    /// The channel was full (over the window or on every free day).
    pub channel_capacity: u64,
    /// The offer reached its maximum volume or a share limit.
    pub offer_volume: u64,
    /// The budget was spent.
    pub budget: u64,
    /// No day satisfied the quiet days and the minimum gap.
    pub no_send_day: u64,
    /// Priced out by the optimiser: its capacity was worth more to other contacts.
    pub outvalued: u64,
}

/// One channel's use.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct ChannelSummary {
    pub channel: String,
    pub slot: String,
    pub capacity: u64,
    /// `null`: no daily limit.
    pub capacity_per_day: Option<u64>,
    /// The busiest day's contacts.
    pub busiest_day: u64,
    pub cost: f64,
    pub contacts: u64,
    pub capacity_used: f64,
}

/// Contacts of one offer on one channel.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct OfferSummary {
    pub offer: String,
    pub channel: String,
    pub contacts: u64,
    /// Sum of the contacts' priorities (the plan's objective: business levers included).
    pub value: f64,
    /// Sum of the contacts' expected values without the business levers, `(priority +
    /// cost) / L − cost`: the expected incremental value when the offer is uplift-scored.
    pub expected_value: f64,
}

/// An offer whose minimum volume was not reached: too few clients could get it.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Shortfall {
    pub offer: String,
    pub contacts: u64,
    pub min: u64,
}

/// What the allocation optimised and how close it came.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Objective {
    /// `optimal` or `greedy`.
    pub allocation: String,
    /// Sum of the contacts' priorities (expected incremental value when the bundle scores by uplift).
    pub value: f64,
    /// The Lagrangian dual's upper bound on any allocation's value (`optimal` only).
    pub bound: Option<f64>,
    /// `(bound − value) / bound`, an upper bound on the optimality gap.
    pub gap_bound: Option<f64>,
    pub dual_iterations: u32,
    pub spent: f64,
    /// `null`: no budget.
    pub budget: Option<f64>,
    pub shortfall: Vec<Shortfall>,
    pub seconds: f64,
}

/// What `summary.json` says.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Summary {
    pub bundle: String,
    pub bundle_version: u64,
    pub bundle_hash: String,
    pub engine: String,
    pub threads: usize,
    pub start: String,
    pub days: u32,
    pub quiet_days: Vec<String>,
    pub max_contacts: u32,
    pub min_gap_days: u32,
    pub clients: u64,
    pub contacted: u64,
    pub contacts: u64,
    /// Offers the engine proposed over all clients and channels.
    pub proposals: u64,
    pub channels: Vec<ChannelSummary>,
    pub offers: Vec<OfferSummary>,
    pub objective: Objective,
    /// Contacts and responses read from the history store (`--history`).
    pub history_rows: Option<u64>,
    pub uncontacted: Uncontacted,
    pub refused: Refusals,
    pub files: Vec<String>,
    /// Decisions logged to the feedback store (`--feedback`), `no_contact` clients included.
    pub logged_decisions: Option<u64>,
    /// Profiles newly recorded in the snapshot ledger (`--ledger`).
    pub ledger_entries: Option<u64>,
    /// Reading and deciding (pass 1).
    pub decide_seconds: f64,
    pub seconds: f64,
    /// Clients read and decided per second (pass 1).
    pub clients_per_second: f64,
}

/// The open output tables.
#[allow(missing_debug_implementations)]
pub struct Outputs {
    channels: Vec<(String, [TableWriter; 2])>,
    uncontacted: [TableWriter; 2],
}

fn pair(dir: &Path, stem: &str, columns: &[(&str, Kind)]) -> Result<[TableWriter; 2], PlanError> {
    Ok([
        TableWriter::create(&dir.join(format!("{stem}.parquet")), columns)?,
        TableWriter::create(&dir.join(format!("{stem}.csv")), columns)?,
    ])
}

impl Outputs {
    pub(super) fn create(dir: &Path, config: &PlanConfig) -> Result<Outputs, PlanError> {
        let mut channels = Vec::with_capacity(config.channels.len());
        for c in &config.channels {
            channels.push((c.name.clone(), pair(dir, &c.name, &CONTACT_COLUMNS)?));
        }
        Ok(Outputs { channels, uncontacted: pair(dir, "uncontacted", &UNCONTACTED_COLUMNS)? })
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn contact(
        &mut self,
        channel: usize,
        client: &str,
        offer: &str,
        treatment: &str,
        day: i32,
        hour: u8,
        priority: f64,
        probability: f64,
        decision: &str,
    ) -> Result<(), PlanError> {
        let (name, writers) = &mut self.channels[channel];
        let at = format!("{}T{hour:02}:00:00Z", vitrine_store::table::date_text(day));
        let row = [
            Value::Text(client),
            Value::Text(offer),
            Value::Text(treatment),
            Value::Text(name),
            Value::Date(day),
            Value::Int(i32::from(hour)),
            Value::Text(&at),
            Value::Float(priority),
            Value::Float(probability),
            Value::Text(decision),
        ];
        for w in writers.iter_mut() {
            w.push(&row)?;
        }
        Ok(())
    }

    pub(super) fn uncontacted(&mut self, client: &str, reason: &str, no_contact: bool, decision: &str) -> Result<(), PlanError> {
        let row = [Value::Text(client), Value::Text(reason), Value::Bool(no_contact), Value::Text(decision)];
        for w in self.uncontacted.iter_mut() {
            w.push(&row)?;
        }
        Ok(())
    }

    /// Closes every file; returns their names.
    pub(super) fn finish(self) -> Result<Vec<String>, PlanError> {
        let mut names = Vec::new();
        for (name, [p, c]) in self.channels {
            p.finish()?;
            c.finish()?;
            names.push(format!("{name}.parquet"));
            names.push(format!("{name}.csv"));
        }
        let [p, c] = self.uncontacted;
        p.finish()?;
        c.finish()?;
        names.push("uncontacted.parquet".into());
        names.push("uncontacted.csv".into());
        names.push("summary.json".into());
        Ok(names)
    }
}

pub(super) fn write_summary(dir: &Path, summary: &Summary) -> Result<(), PlanError> {
    let path = dir.join("summary.json");
    let text = serde_json::to_string_pretty(summary).map_err(|e| PlanError::Io { path: path.clone(), source: std::io::Error::other(e) })?;
    std::fs::write(&path, text + "\n").map_err(|source| PlanError::Io { path, source })
}
