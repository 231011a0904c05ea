//! Event-triggered outbound (`vitrine serve --triggers triggers.toml`): which client
//! events decide at once for which outbound channels, and the contact budget every
//! trigger shares with the plans and the pages.
//!
//! ```toml
//! max_contacts = 2          # outbound contacts per client in any `window` (plans' sends included)
//! window = "7d"
//! min_gap = "24h"           # between two outbound contacts of a client
//! history = "30d"           # contact history read for the decision
//! quiet_hours = { sms = [21, 8] }   # per channel: no sends from 21:00 up to 08:00 (UTC)
//! # webhook = "http://127.0.0.1:9000/contacts"   # POSTed every contact to send
//!
//! [[events]]
//! kind = "data_allowance_low"
//! channels = ["sms", "push"]        # outbound channels the decision may use
//! context = { page = "trigger" }    # decide context, if the schema has one
//! ```
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use vitrine_engine::bundle::Bundle;
use vitrine_engine::decision::ContextValue;

/// Why the trigger policy was refused.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct TriggerConfigError {
    pub path: PathBuf,
    pub reason: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default = "two")]
    max_contacts: u32,
    #[serde(default = "week")]
    window: String,
    #[serde(default = "day")]
    min_gap: String,
    #[serde(default = "month")]
    history: String,
    #[serde(default)]
    quiet_hours: BTreeMap<String, [u8; 2]>,
    #[serde(default)]
    webhook: Option<String>,
    events: Vec<RawEvent>,
}

fn two() -> u32 {
    2
}
fn week() -> String {
    "7d".into()
}
fn day() -> String {
    "24h".into()
}
fn month() -> String {
    "30d".into()
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    kind: String,
    channels: Vec<String>,
    #[serde(default)]
    context: BTreeMap<String, ContextValue>,
}

/// One kind of client event and the channels its decision may use.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerEvent {
    pub kind: String,
    pub channels: Vec<String>,
    pub context: BTreeMap<String, ContextValue>,
}

/// The checked trigger policy.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerPolicy {
    pub max_contacts: u32,
    pub window: u64,
    pub min_gap: u64,
    pub history: u64,
    pub quiet_hours: BTreeMap<String, [u8; 2]>,
    pub webhook: Option<String>,
    pub events: Vec<TriggerEvent>,
}

impl TriggerPolicy {
    /// Reads `path` and checks it against `bundle` (channels of its schema with a slot).
    pub fn load(path: &Path, bundle: &Bundle) -> Result<TriggerPolicy, TriggerConfigError> {
        let bad = |reason: String| TriggerConfigError { path: path.to_path_buf(), reason };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let raw: Raw = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let duration = |name: &str, s: &str| {
            vitrine_base::duration::parse(s).ok_or_else(|| bad(format!("{name}: {}", vitrine_base::duration::expected(s))))
        };
        let (window, min_gap, history) =
            (duration("window", &raw.window)?, duration("min_gap", &raw.min_gap)?, duration("history", &raw.history)?);
        if raw.max_contacts == 0 || window == 0 {
            return Err(bad("max_contacts and window must be positive".into()));
        }
        if raw.events.is_empty() {
            return Err(bad("no [[events]]: name at least one event kind".into()));
        }
        if let Some(url) = &raw.webhook {
            if !url.starts_with("http://") && !url.starts_with("https://") {
                return Err(bad(format!("webhook `{url}` is not an http(s) URL")));
            }
        }
        for (ch, &q) in &raw.quiet_hours {
            if bundle.schema.channel(ch).is_none() {
                return Err(bad(format!("quiet_hours: `{ch}` is not a channel of the bundle ({})", bundle.schema.channels.join(", "))));
            }
            vitrine_base::hours::check(q).map_err(|reason| bad(format!("channel `{ch}`: {reason}")))?;
        }
        let mut events: Vec<TriggerEvent> = Vec::with_capacity(raw.events.len());
        for e in raw.events {
            let ok = !e.kind.is_empty()
                && e.kind.len() <= 64
                && e.kind.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                return Err(bad(format!("event kind `{}` must be 1 to 64 of a-z, 0-9 and _", e.kind)));
            }
            if events.iter().any(|x| x.kind == e.kind) {
                return Err(bad(format!("event kind `{}` is listed twice", e.kind)));
            }
            if e.channels.is_empty() {
                return Err(bad(format!("event `{}`: no channels", e.kind)));
            }
            for ch in &e.channels {
                slot_of(bundle, ch).map_err(|r| bad(format!("event `{}`: {r}", e.kind)))?;
            }
            events.push(TriggerEvent { kind: e.kind, channels: e.channels, context: e.context });
        }
        Ok(TriggerPolicy {
            max_contacts: raw.max_contacts,
            window,
            min_gap,
            history,
            quiet_hours: raw.quiet_hours,
            webhook: raw.webhook,
            events,
        })
    }

    /// The event kind `kind`.
    pub fn event(&self, kind: &str) -> Option<&TriggerEvent> {
        self.events.iter().find(|e| e.kind == kind)
    }

    /// Every channel a trigger may send on (the contact budget counts these).
    pub fn outbound(&self) -> Vec<&str> {
        let mut c: Vec<&str> = self.events.iter().flat_map(|e| e.channels.iter().map(String::as_str)).collect();
        c.sort_unstable();
        c.dedup();
        c
    }

    /// When a contact on `channel` decided at `now` is sent: at once, or at the start of
    /// the first hour after the channel's quiet hours.
    pub fn send_at(&self, channel: &str, now: u64) -> u64 {
        self.quiet_hours.get(channel).map_or(now, |&q| vitrine_base::hours::open_at(q, now))
    }
}

/// The bundle's first slot on `channel`.
pub fn slot_of(bundle: &Bundle, channel: &str) -> Result<String, String> {
    let Some(index) = bundle.schema.channel(channel) else {
        return Err(format!("`{channel}` is not a channel of the bundle's schema ({})", bundle.schema.channels.join(", ")));
    };
    bundle
        .slots
        .iter()
        .find(|s| s.channel as usize == index)
        .map(|s| s.id.clone())
        .ok_or_else(|| format!("the bundle has no slot on channel `{channel}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(quiet: &[(&str, [u8; 2])]) -> TriggerPolicy {
        TriggerPolicy {
            max_contacts: 2,
            window: 7 * 86_400,
            min_gap: 86_400,
            history: 30 * 86_400,
            quiet_hours: quiet.iter().map(|(c, h)| (c.to_string(), *h)).collect(),
            webhook: None,
            events: Vec::new(),
        }
    }

    #[test]
    fn a_bad_policy_is_refused_naming_what_is_wrong() {
        let bundle = vitrine_engine::testkit::Fixture::telco().bundle;
        let dir = tempfile::tempdir().unwrap();
        let good = "max_contacts = 2\nwindow = \"7d\"\nquiet_hours = { sms = [21, 8] }\n\n[[events]]\nkind = \"roaming_started\"\nchannels = [\"sms\", \"push\"]\n";
        let load = |text: &str| {
            let path = dir.path().join("triggers.toml");
            std::fs::write(&path, text).unwrap();
            TriggerPolicy::load(&path, &bundle)
        };
        let policy = load(good).unwrap();
        assert_eq!((policy.outbound(), policy.window), (vec!["push", "sms"], 7 * 86_400));
        for (text, want) in [
            (good.replace("\"sms\", \"push\"", "\"fax\""), "`fax` is not a channel"),
            (good.replace("window = \"7d\"", "window = \"a week\""), "window"),
            (good.replace("[21, 8]", "[21, 21]"), "two different hours"),
            (good.replace("sms = [21, 8]", "telex = [21, 8]"), "`telex` is not a channel"),
            (good.replace("roaming_started", "Roaming Started"), "a-z, 0-9 and _"),
            (good.replace("max_contacts = 2", "max_contacts = 0"), "positive"),
            (format!("webhook = \"ftp://x\"\n{good}"), "not an http(s) URL"),
            (format!("{good}\n[[events]]\nkind = \"roaming_started\"\nchannels = [\"sms\"]\n"), "listed twice"),
            (good.replace("kind = ", "knd = "), "unknown field"),
        ] {
            let err = load(&text).unwrap_err().to_string();
            assert!(err.contains(want), "{want}: {err}");
        }
    }

    #[test]
    fn sends_wait_for_the_end_of_quiet_hours_across_midnight() {
        let p = policy(&[("sms", [21, 8]), ("push", [1, 5])]);
        let day = 20_000 * 86_400;
        assert_eq!(p.send_at("sms", day + 23 * 3600 + 1800), day + 86_400 + 8 * 3600, "23:30 waits until 08:00");
        assert_eq!(p.send_at("sms", day + 3 * 3600 + 60), day + 8 * 3600, "03:01 waits until 08:00");
        assert_eq!(p.send_at("sms", day + 8 * 3600 + 5), day + 8 * 3600 + 5, "08:00 is open");
        assert_eq!(p.send_at("sms", day + 20 * 3600 + 59 * 60), day + 20 * 3600 + 59 * 60);
        assert_eq!(p.send_at("push", day + 4 * 3600), day + 5 * 3600);
        assert_eq!(p.send_at("email", day + 23 * 3600), day + 23 * 3600, "no quiet hours");
    }
}
