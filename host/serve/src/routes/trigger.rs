//! `POST /v1/trigger` (API key): a client event decides at once for the outbound
//! channels its kind names, with the client's features from the feature store and its
//! contact history from the feedback store (page impressions, plans' and earlier
//! triggers' sends, clicks), so the bundle's caps and suppression and the triggers'
//! contact budget hold across every channel. The contact to send (or why none) comes
//! back, is logged like any decision (with its send time) before the answer, and is
//! posted to the configured webhook.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use vitrine_engine::decision::{DecideRequest, DecideResponse, PlanRequest, SlotRequest};
use vitrine_feedback::{FeedbackRead, LoggedDecision, Shown};

use super::{error, json, malformed, now, parse_with_path, Shared};
use crate::trigger::{slot_of, TriggerPolicy};

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct TriggerRequest {
    client_id: String,
    /// The event kind (`[[events]] kind` of the trigger policy).
    event: String,
    /// When the event happened (Unix seconds; default: now).
    #[serde(default)]
    at: Option<u64>,
    #[serde(default)]
    seed: Option<u64>,
}

/// The contact to send.
#[derive(Serialize, Debug)]
struct Contact {
    channel: String,
    slot: String,
    offer: String,
    treatment: String,
    /// Unix seconds: the event's time, or the end of the channel's quiet hours.
    send_at: u64,
    priority: f64,
    selection_probability: f64,
}

#[derive(Serialize, Debug)]
struct TriggerResponse {
    client_id: String,
    event: String,
    /// The logged decision (absent when the contact budget stopped it before deciding).
    decision_id: Option<String>,
    contact: Option<Contact>,
    /// Why no contact: `contact_budget`, `min_gap`, `no_contact` (the client's arm),
    /// `no_channel_consent` or `no_eligible_offer`.
    reason: Option<String>,
    /// The webhook's answer, when one is configured and there is a contact.
    webhook: Option<serde_json::Value>,
}

/// `POST /v1/trigger`.
pub async fn trigger(State(state): Shared, body: Bytes) -> Response {
    let Some(policy) = state.triggers.clone() else {
        return error(
            StatusCode::NOT_FOUND,
            "trigger_not_configured",
            "trigger",
            "this server has no trigger policy (serve --triggers FILE)",
        );
    };
    let req: TriggerRequest = match parse_with_path(&body) {
        Ok(r) => r,
        Err(message) => return malformed(message),
    };
    let Some(event) = policy.event(&req.event) else {
        let known: Vec<&str> = policy.events.iter().map(|e| e.kind.as_str()).collect();
        return error(
            StatusCode::BAD_REQUEST,
            "trigger_unknown_event",
            "trigger",
            format!("unknown event kind `{}` (known: {})", req.event, known.join(", ")),
        );
    };
    let Some(features) = &state.features else {
        return error(StatusCode::NOT_FOUND, "trigger_no_features", "trigger", "this server has no feature store (serve --features)");
    };
    let at = req.at.unwrap_or_else(now);
    let deployment = state.runtime.current();
    let Some(bundle) = deployment.facts.bundle.clone() else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "trigger_bundle", "trigger", "the served bundle is not verified natively");
    };
    let profile = {
        let store = features.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match store.snapshot_content(&req.client_id, 0, 0) {
            Ok(c) => vitrine_engine::snapshot::Profile { subject: c.subject, consent: c.consent, values: c.values },
            Err(e @ vitrine_store::StoreError::UnknownClient(_)) => {
                return error(StatusCode::NOT_FOUND, "trigger_unknown_client", "store", e.to_string())
            }
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.code(), "store", e.to_string()),
        }
    };
    let subject = vitrine_base::hex::encode(&profile.subject);
    let rows = match vitrine_feedback::SqliteStore::open_reader(&state.feedback_path)
        .and_then(|s| s.client_history(&subject, at.saturating_sub(policy.history.max(policy.window)), at.saturating_add(policy.window)))
    {
        Ok(r) => r,
        Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e.code(), "feedback", e.to_string()),
    };
    let mut response = TriggerResponse {
        client_id: req.client_id.clone(),
        event: req.event.clone(),
        decision_id: None,
        contact: None,
        reason: None,
        webhook: None,
    };
    if let Some(reason) = budget(&policy, &rows, at) {
        response.reason = Some(reason.into());
        return json(StatusCode::OK, &response);
    }
    // The engine's history: what happened up to the event, the latest the bundle allows.
    let history = vitrine_feedback::history_entries(&rows, at, bundle.limits.max_history as usize, |c| bundle.schema.channel(c).is_some());
    let mut slots = Vec::with_capacity(event.channels.len());
    for ch in &event.channels {
        match slot_of(&bundle, ch) {
            Ok(slot) => slots.push(SlotRequest { slot, k: Some(1) }),
            Err(reason) => return error(StatusCode::SERVICE_UNAVAILABLE, "trigger_config", "trigger", reason),
        }
    }
    let seed = match req.seed {
        Some(s) => s,
        None => {
            let mut b = [0u8; 8];
            if getrandom::fill(&mut b).is_err() {
                return error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal", "no entropy for the decision seed");
            }
            u64::from_le_bytes(b) >> 11
        }
    };
    let decide = DecideRequest { snapshot: None, now: at, seed, context: event.context.clone(), slots, history, explain: false };
    let plan = PlanRequest { profile: profile.to_wire(&bundle.schema), request: decide };
    let request = match serde_json::to_vec(&plan) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal", e.to_string()),
    };
    let out = match state.runtime.plan(&request) {
        Ok(out) => out,
        Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e.code(), "runtime", e.to_string()),
    };
    let resp = match vitrine_runtime::reply::<DecideResponse>(&out) {
        Ok(r) => r,
        Err(e) => {
            let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return error(status, &e.code, &e.stage, e.message);
        }
    };
    // The best of the channels' first picks.
    let best = resp
        .slots
        .iter()
        .filter_map(|s| s.offers.first().map(|o| (s, o)))
        .max_by(|a, b| a.1.priority.total_cmp(&b.1.priority).then_with(|| b.0.slot.cmp(&a.0.slot)));
    let contact = best.map(|(s, o)| Contact {
        channel: s.channel.clone(),
        slot: s.slot.clone(),
        offer: o.offer.clone(),
        treatment: o.treatment.clone(),
        send_at: policy.send_at(&s.channel, at),
        priority: o.priority,
        selection_probability: o.selection_probability,
    });
    if contact.is_none() {
        let consented = event.channels.iter().any(|c| resp.record.consent.channels.contains(c));
        response.reason = Some(
            match (resp.mode, consented) {
                (vitrine_engine::decision::Mode::NoContact, _) => "no_contact",
                (_, false) => "no_channel_consent",
                _ => "no_eligible_offer",
            }
            .into(),
        );
    }
    response.decision_id = Some(resp.decision_id.clone());
    let uplift = best.and_then(|(_, o)| o.uplift);
    let mut logged = LoggedDecision::from_response(resp, String::from_utf8(request).ok(), "trigger");
    logged.shown = contact
        .iter()
        .map(|c| Shown {
            slot: c.slot.clone(),
            channel: c.channel.clone(),
            rank: 1,
            offer: c.offer.clone(),
            treatment: c.treatment.clone(),
            selection_probability: c.selection_probability,
            uplift,
            sent_at: Some(c.send_at),
        })
        .collect();
    // The profile the decision read goes to the ledger first (the learner joins on it).
    {
        let mut store = features.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let recorded = store.ledger().and_then(|mut l| {
            l.record_profile(&req.client_id, &profile, at, at.saturating_add(86_400))?;
            l.commit()
        });
        if let Err(e) = recorded {
            return error(StatusCode::SERVICE_UNAVAILABLE, e.code(), "store", e.to_string());
        }
    }
    if let Err(e) = state.writer.write(Vec::new(), Vec::new(), vec![logged]).await {
        return error(StatusCode::SERVICE_UNAVAILABLE, e.code(), "feedback", e.to_string());
    }
    state.metrics.decided(contact.iter().map(|c| c.offer.as_str()));
    if let (Some(url), Some(c)) = (&policy.webhook, &contact) {
        let body = serde_json::json!({ "client_id": req.client_id, "event": req.event, "decision_id": response.decision_id, "contact": c });
        let url = url.clone();
        let answer = tokio::task::spawn_blocking(move || match ureq::post(&url).send_json(&body) {
            Ok(r) => serde_json::json!({ "delivered": r.status().is_success(), "status": r.status().as_u16() }),
            Err(e) => serde_json::json!({ "delivered": false, "error": e.to_string() }),
        })
        .await
        .unwrap_or_else(|e| serde_json::json!({ "delivered": false, "error": e.to_string() }));
        response.webhook = Some(answer);
    }
    response.contact = contact;
    json(StatusCode::OK, &response)
}

/// Why the client's contact budget stops a trigger at `at`, if it does: `max_contacts`
/// outbound contacts in a window around it (sends already planned count), or one closer
/// than `min_gap`.
fn budget(policy: &TriggerPolicy, rows: &[vitrine_feedback::ContactRow], at: u64) -> Option<&'static str> {
    let outbound = policy.outbound();
    let contacts: Vec<u64> = rows.iter().filter(|r| r.is_contact() && outbound.contains(&r.channel.as_str())).map(|r| r.at).collect();
    if contacts.iter().any(|&t| t.abs_diff(at) < policy.min_gap) {
        return Some("min_gap");
    }
    // Every rolling window [s, s + window) holding `at`: the most contacts any holds
    // changes only where a contact enters or leaves, so those starts are enough.
    let w = policy.window;
    let lo = at.saturating_sub(w - 1);
    let starts = std::iter::once(lo)
        .chain(std::iter::once(at))
        .chain(contacts.iter().filter(|&&t| t >= lo && t < at).map(|&t| t + 1))
        .chain(contacts.iter().filter(|&&t| t > at && t < at + w).map(|&t| t + 1 - w))
        .filter(|&s| s >= lo && s <= at);
    let most = starts.map(|s| contacts.iter().filter(|&&t| t >= s && t < s + w).count()).max().unwrap_or(0);
    (most as u32 >= policy.max_contacts).then_some("contact_budget")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(times: &[u64], channel: &str) -> Vec<vitrine_feedback::ContactRow> {
        times
            .iter()
            .map(|&at| vitrine_feedback::ContactRow {
                subject: "s".into(),
                offer: "o".into(),
                channel: channel.into(),
                kind: vitrine_engine::policy::HistoryKind::Contact,
                at,
            })
            .collect()
    }

    fn policy() -> TriggerPolicy {
        TriggerPolicy {
            max_contacts: 2,
            window: 7 * 86_400,
            min_gap: 86_400,
            history: 30 * 86_400,
            quiet_hours: Default::default(),
            webhook: None,
            events: vec![crate::trigger::TriggerEvent { kind: "k".into(), channels: vec!["sms".into()], context: Default::default() }],
        }
    }

    #[test]
    fn the_contact_budget_counts_every_rolling_window_holding_the_trigger() {
        let (p, d) = (policy(), 86_400);
        let at = 100 * d;
        assert_eq!(budget(&p, &[], at), None);
        assert_eq!(budget(&p, &rows(&[at - d / 2], "sms"), at), Some("min_gap"));
        assert_eq!(budget(&p, &rows(&[at + d / 2], "sms"), at), Some("min_gap"), "a send planned soon after");
        assert_eq!(budget(&p, &rows(&[at - 3 * d], "sms"), at), None, "one in the week: room for a second");
        assert_eq!(budget(&p, &rows(&[at - 6 * d, at - 3 * d], "sms"), at), Some("contact_budget"));
        assert_eq!(budget(&p, &rows(&[at - 8 * d, at - 3 * d], "sms"), at), None, "the first left the window");
        // A window holding the trigger and a planned send after it.
        assert_eq!(budget(&p, &rows(&[at - 3 * d, at + 3 * d], "sms"), at), Some("contact_budget"));
        assert_eq!(budget(&p, &rows(&[at - 5 * d, at + 3 * d], "sms"), at), None, "no 7 days hold all three");
        // Web impressions do not count against the outbound budget.
        assert_eq!(budget(&p, &rows(&[at - 6 * d, at - 3 * d], "web"), at), None);
    }
}
