//! The demo world: seeded synthetic telco clients with a 360° profile, and the hidden
//! ground truth of how each responds to each offer (known to the simulator only).

use vitrine_engine::policy::SplitMix64;

/// The world's draws: the engine's SplitMix64 (one generator in the whole project), so
/// the world is the same everywhere.
#[derive(Debug, Clone)]
pub struct Rng(SplitMix64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(SplitMix64::new(seed))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0.next_f64()
    }
    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0.below(usize::try_from(n).unwrap_or(usize::MAX)) as u64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// One client's profile and consents.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    pub id: String,
    pub tenure_months: u32,
    pub plan: &'static str,
    pub monthly_spend: f64,
    pub data_usage_gb: f64,
    pub overage_gb: f64,
    pub fiber_eligible: bool,
    pub fiber_owned: bool,
    pub lines: u32,
    pub children: bool,
    pub device_age_months: u32,
    pub indoor_coverage: &'static str,
    pub tickets_90d: u32,
    pub segment: &'static str,
    pub has_tv: bool,
    pub consent: [bool; 5], // profiling, web, email, sms, push
}

fn pick<T: Copy>(rng: &mut Rng, items: &[(T, f64)]) -> T {
    let mut x = rng.unit() * items.iter().map(|i| i.1).sum::<f64>();
    for &(v, w) in items {
        if x < w {
            return v;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

/// `n` clients, `c-0001` …, from `seed`.
pub fn clients(n: usize, seed: u64) -> Vec<Client> {
    let mut rng = Rng::new(seed);
    (1..=n)
        .map(|i| {
            let segment = pick(&mut rng, &[("youth", 0.2), ("family", 0.35), ("professional", 0.3), ("senior", 0.15)]);
            let children = segment == "family" && rng.chance(0.8) || rng.chance(0.05);
            let plan = pick(&mut rng, &[("basic", 0.4), ("plus", 0.3), ("premium", 0.15), ("family", if children { 0.4 } else { 0.05 })]);
            let allowance = match plan {
                "basic" => 10.0,
                "plus" => 30.0,
                "premium" => 100.0,
                _ => 60.0,
            };
            let usage = (rng.unit() * rng.unit() * 80.0 + if segment == "youth" { 10.0 } else { 0.0 }).min(120.0);
            let usage = (usage * 2.0).round() / 2.0;
            let overage = ((usage - allowance).max(0.0) * 4.0).round() / 4.0;
            let fiber_eligible = rng.chance(0.55);
            let fiber_owned = fiber_eligible && rng.chance(0.4);
            let lines = if plan == "family" { 2 + rng.below(3) as u32 } else { 1 + u32::from(rng.chance(0.25)) };
            let spend = match plan {
                "basic" => 15.0,
                "plus" => 25.0,
                "premium" => 45.0,
                _ => 60.0,
            } + overage.min(40.0) * 1.5
                + if fiber_owned { 30.0 } else { 0.0 };
            Client {
                id: format!("c-{i:04}"),
                tenure_months: (rng.unit() * rng.unit() * 120.0) as u32,
                plan,
                monthly_spend: (spend * 100.0).round() / 100.0,
                data_usage_gb: usage.min(127.0),
                overage_gb: overage.min(63.0),
                fiber_eligible,
                fiber_owned,
                lines,
                children,
                device_age_months: rng.below(49) as u32,
                indoor_coverage: pick(&mut rng, &[("poor", 0.2), ("fair", 0.3), ("good", 0.5)]),
                tickets_90d: pick(&mut rng, &[(0, 0.6), (1, 0.2), (2, 0.1), (3, 0.06), (4, 0.04)]),
                segment,
                has_tv: fiber_owned && rng.chance(0.4),
                consent: [rng.chance(0.9), rng.chance(0.97), rng.chance(0.6), rng.chance(0.4), rng.chance(0.3)],
            }
        })
        .collect()
}

/// The clients as CSV for `vitrine features import` with the demo bundle's schema.
pub fn csv(clients: &[Client]) -> String {
    let mut out = String::from("client_id,tenure_months,plan,monthly_spend,data_usage_gb,overage_gb,fiber_eligible,fiber_owned,lines,children,device_age_months,indoor_coverage,tickets_90d,segment,has_tv,consent_profiling,consent_web,consent_email,consent_sms,consent_push\n");
    for c in clients {
        let [p, w, e, s, u] = c.consent;
        out.push_str(&format!(
            "{},{},{},{:.2},{},{},{},{},{},{},{},{},{},{},{},{p},{w},{e},{s},{u}\n",
            c.id,
            c.tenure_months,
            c.plan,
            c.monthly_spend,
            c.data_usage_gb,
            c.overage_gb,
            c.fiber_eligible,
            c.fiber_owned,
            c.lines,
            c.children,
            c.device_age_months,
            c.indoor_coverage,
            c.tickets_90d,
            c.segment,
            c.has_tv
        ));
    }
    out
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The hidden truth about one client and one offer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Truth {
    /// P(click | shown on a page).
    pub click: f64,
    /// P(conversion | click).
    pub convert: f64,
    /// P(buys the offer within its attribution window | not contacted): organic sales.
    pub organic: f64,
    /// P(buys the offer within its window | contacted).
    pub treated: f64,
}

impl Truth {
    /// The effect of a contact on the sale: positive for persuadables, about zero for
    /// sure things and lost causes, negative for sleeping dogs.
    pub fn uplift(&self) -> f64 {
        self.treated - self.organic
    }
}

/// Whether `offer`'s business rule (the demo bundle's eligibility) lets `c` have it.
fn eligible(c: &Client, offer: &str) -> bool {
    match offer {
        "fibre_upgrade" => c.fiber_eligible && !c.fiber_owned,
        "data_20gb" => c.data_usage_gb >= 10.0,
        "new_line" => c.lines < 5,
        "device_renewal" => c.device_age_months >= 18,
        "tv_option" => !c.has_tv && c.fiber_owned,
        "family_plan" => c.children && c.plan != "family",
        "loyalty_discount" => c.tenure_months >= 24,
        "plan_upgrade" => c.plan == "basic" && c.overage_gb > 0.0,
        "roaming_pack" => c.segment == "professional" || c.segment == "youth",
        "smart_home" => c.fiber_owned,
        "support_callback" => c.tickets_90d >= 2,
        "femtocell" => c.indoor_coverage == "poor",
        _ => true,
    }
}

/// The hidden truth of `offer` for `c`. Sales follow a treated and an organic logit per
/// offer, so who responds to a contact differs from who buys anyway: heavy overage
/// users buy the data pack whether contacted or not (sure things), clients who have
/// been content for years take a loyalty reminder as a cue to shop around (sleeping
/// dogs), clients with open tickets or poor coverage are the persuadables.
pub fn truth(c: &Client, offer: &str) -> Truth {
    let b = |x: bool| f64::from(u8::from(x));
    let t = f64::from(c.tenure_months).min(120.0);
    let ov = c.overage_gb.min(20.0);
    let age = f64::from(c.device_age_months);
    let tickets = f64::from(c.tickets_90d);
    let (youth, family, professional) = (b(c.segment == "youth"), b(c.segment == "family"), b(c.segment == "professional"));
    let click = match offer {
        "fibre_upgrade" => {
            -3.2 + 2.5 * b(c.fiber_eligible && !c.fiber_owned) + 0.8 * b(c.indoor_coverage == "poor") + 0.6 * family - 0.5 * tickets
        }
        "data_20gb" => -3.5 + 0.08 * c.overage_gb.min(30.0) + 0.6 * youth,
        "new_line" => -4.0 + 1.2 * b(c.children) - 0.3 * f64::from(c.lines),
        "device_renewal" => -4.2 + 0.06 * age + 0.4 * youth,
        "tv_option" => -3.6 + 1.0 * b(c.children) + 0.5 * family,
        "family_plan" => -3.8 + 2.0 * b(c.children) + 0.3 * f64::from(c.lines),
        "loyalty_discount" => -3.0 + 0.01 * t.min(100.0) + 0.4 * b(c.tickets_90d > 0),
        "plan_upgrade" => -3.3 + 0.12 * ov,
        "roaming_pack" => -4.0 + 1.2 * professional,
        "smart_home" => -4.5 + 0.8 * b(c.children) + 0.5 * b(c.has_tv),
        "femtocell" => -2.2 + 2.5 * b(c.indoor_coverage == "poor"),
        "support_callback" => -2.5 + 0.7 * tickets,
        "paperless_billing" => -3.0 + 0.8 * b(c.segment != "senior"),
        _ => -5.0,
    };
    let convert = match offer {
        "femtocell" | "support_callback" | "paperless_billing" => 0.6,
        "fibre_upgrade" | "family_plan" => 0.25,
        _ => 0.35,
    };
    // (organic logit, treated logit)
    let (organic, treated) = match offer {
        "fibre_upgrade" => (-3.5 + 1.8 * family, -2.2 + 0.9 * family + 1.0 * b(c.indoor_coverage == "poor")),
        "data_20gb" => (-4.0 + 0.15 * ov, -2.6 + 0.085 * ov + 0.5 * youth),
        "new_line" => (-4.5 + 0.8 * b(c.children), -3.4 + 1.4 * b(c.children)),
        "device_renewal" => (-6.0 + 0.1 * age, -3.3 + 0.03 * age),
        "tv_option" => (-4.5 + 0.5 * family, -3.0 + 1.0 * b(c.children)),
        "family_plan" => (-4.2 + 0.4 * f64::from(c.lines), -2.8 + 0.2 * f64::from(c.lines)),
        "loyalty_discount" => (-3.0 + 0.02 * t - 0.5 * tickets, -2.0 + 0.005 * t + 0.2 * tickets),
        "plan_upgrade" => (-3.8 + 0.2 * ov.min(15.0), -2.5 + 0.08 * ov.min(15.0)),
        "roaming_pack" => (-4.0 + 2.0 * professional, -3.0 + 1.0 * professional + 1.0 * youth),
        "smart_home" => (-5.0, -3.8 + 0.8 * b(c.children)),
        "femtocell" => (-4.0, -1.0),
        "support_callback" => (-4.0, -2.0 + 0.3 * tickets),
        "paperless_billing" => (-3.0, -2.5),
        _ => (-7.0, -7.0),
    };
    let (organic, treated) = if eligible(c, offer) { (sigmoid(organic), sigmoid(treated)) } else { (0.0, 0.0) };
    Truth { click: sigmoid(click), convert, organic, treated }
}

/// The demo bundle's offers, in the order `labels` writes them.
pub const OFFERS: [&str; 13] = [
    "fibre_upgrade",
    "data_20gb",
    "new_line",
    "device_renewal",
    "tv_option",
    "family_plan",
    "loyalty_discount",
    "plan_upgrade",
    "roaming_pack",
    "smart_home",
    "femtocell",
    "support_callback",
    "paperless_billing",
];

/// What one sale of `offer` is worth (the demo bundle's V).
pub fn value(offer: &str) -> f64 {
    match offer {
        "fibre_upgrade" => 30.0,
        "data_20gb" => 10.0,
        "new_line" => 15.0,
        "device_renewal" => 25.0,
        "tv_option" => 12.0,
        "family_plan" => 20.0,
        "loyalty_discount" => 18.0,
        "plan_upgrade" => 14.0,
        "roaming_pack" => 8.0,
        "smart_home" => 9.0,
        "femtocell" => 20.0,
        "support_callback" => 15.0,
        "paperless_billing" => 2.0,
        _ => 0.0,
    }
}

/// Share of the historical campaign's clients left uncontacted (its control group).
pub const HISTORY_CONTROL_SHARE: f64 = 0.5;

/// A historical randomised campaign to train models on: for every client and offer,
/// whether it was contacted (half were not: the control) and whether it bought, drawn
/// from the hidden truth (CSV: client_id, then `<offer>_contacted,<offer>` per offer).
/// A propensity model learns P(sale | contacted) from the contacted rows; a T-learner
/// adds P(sale | not contacted) from the others.
pub fn labels(clients: &[Client], seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0x001a_be15);
    let mut out = String::from("client_id");
    for o in OFFERS {
        out.push_str(&format!(",{o}_contacted,{o}"));
    }
    out.push('\n');
    for c in clients {
        out.push_str(&c.id);
        for o in OFFERS {
            let t = truth(c, o);
            let contacted = !rng.chance(HISTORY_CONTROL_SHARE);
            let bought = rng.chance(if contacted { t.treated } else { t.organic });
            out.push_str(match (contacted, bought) {
                (true, true) => ",1,1",
                (true, false) => ",1,0",
                (false, true) => ",0,1",
                (false, false) => ",0,0",
            });
        }
        out.push('\n');
    }
    out
}
