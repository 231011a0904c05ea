//! Prometheus text metrics: request counts and latency histograms per route, decisions
//! per offer, events per type, the bundle version.
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Latency histogram bucket bounds, seconds.
pub const BUCKETS: [f64; 12] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    decisions: BTreeMap<String, u64>,
    events: BTreeMap<String, u64>,
    bundle_version: u64,
}

/// The registry.
#[derive(Debug, Default)]
pub struct Metrics(Mutex<Inner>);

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// One request on `route` finished with `status` after `took`.
    pub fn request(&self, route: &str, status: u16, took: Duration) {
        let secs = took.as_secs_f64();
        self.with(|m| {
            *m.requests.entry((route.to_string(), status)).or_default() += 1;
            let h = m.latency.entry(route.to_string()).or_default();
            for (i, b) in BUCKETS.iter().enumerate() {
                if secs <= *b {
                    h.counts[i] += 1;
                }
            }
            h.sum += secs;
            h.count += 1;
        });
    }

    /// A decision showed `offers`.
    pub fn decided<'a>(&self, offers: impl Iterator<Item = &'a str>) {
        self.with(|m| offers.for_each(|o| *m.decisions.entry(o.to_string()).or_default() += 1));
    }

    /// `n` events of `kind` were stored.
    pub fn events(&self, kind: &str, n: u64) {
        self.with(|m| *m.events.entry(kind.to_string()).or_default() += n);
    }

    pub fn bundle_version(&self, v: u64) {
        self.with(|m| m.bundle_version = v);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.with(|m| {
            let mut out = String::new();
            let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
            out.push_str("# HELP vitrine_http_requests_total HTTP requests by route and status.\n# TYPE vitrine_http_requests_total counter\n");
            for ((route, status), n) in &m.requests {
                let _ = writeln!(out, "vitrine_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}", esc(route));
            }
            out.push_str("# HELP vitrine_http_request_duration_seconds Request latency by route.\n# TYPE vitrine_http_request_duration_seconds histogram\n");
            for (route, h) in &m.latency {
                let r = esc(route);
                for (b, c) in BUCKETS.iter().zip(h.counts) {
                    let _ = writeln!(out, "vitrine_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{b}\"}} {c}");
                }
                let _ = writeln!(out, "vitrine_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}", h.count);
                let _ = writeln!(out, "vitrine_http_request_duration_seconds_sum{{route=\"{r}\"}} {}", h.sum);
                let _ = writeln!(out, "vitrine_http_request_duration_seconds_count{{route=\"{r}\"}} {}", h.count);
            }
            out.push_str("# HELP vitrine_decisions_total Offers shown by server-side decisions.\n# TYPE vitrine_decisions_total counter\n");
            for (offer, n) in &m.decisions {
                let _ = writeln!(out, "vitrine_decisions_total{{offer=\"{}\"}} {n}", esc(offer));
            }
            out.push_str("# HELP vitrine_events_total Feedback events stored, by type.\n# TYPE vitrine_events_total counter\n");
            for (kind, n) in &m.events {
                let _ = writeln!(out, "vitrine_events_total{{type=\"{}\"}} {n}", esc(kind));
            }
            let _ = writeln!(out, "# HELP vitrine_bundle_version The serving bundle's version.\n# TYPE vitrine_bundle_version gauge\nvitrine_bundle_version {}", m.bundle_version);
            out
        })
    }
}
