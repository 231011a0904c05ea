//! The embedded default for `vitrine serve` with no bundle given: the example (or demo)
//! bundle source carried in the binary, fresh dev keys, a built and signed bundle, and a
//! feature store of generated clients, all kept under one state directory and reused on
//! the next start. The CLI prepares it (it links the bundle compiler; the server does not).
use std::path::Path;

use anyhow::{Context, Result};
use vitrine_base::keys::{self, Role};
use vitrine_engine::policy::SplitMix64;
use vitrine_serve::{Limits, ServeConfig};
use vitrine_store::FeatureStore;

use crate::assets;

/// Clients the default feature store holds (`c-0001` …).
pub const CLIENTS: usize = 1000;

/// Which bundle source and clients the default state is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum World {
    /// `host/examples/bundle` and 1,000 generated example clients.
    Example,
    /// `web-demo/bundle` (13 offers) and the seeded 10,000-client demo world.
    Demo,
}

/// Prepares `state` (creating what is missing) and returns a config listening on
/// `listen` that serves `engine` (the `engine-abi.wasm` bytes).
pub fn prepare(state: &Path, listen: std::net::SocketAddr, world: World, engine: Vec<u8>) -> Result<ServeConfig> {
    let files = match world {
        World::Example => assets::EXAMPLE,
        World::Demo => assets::DEMO,
    };
    let src = state.join("src");
    assets::unpack(files, &src).with_context(|| format!("writing the bundle source under {}", src.display()))?;
    // The example trusts `keys/snap-demo.pub`; its secret is not committed, so each
    // state directory makes its own snap-demo pair.
    if !src.join("keys/snap-demo.key").exists() {
        keys::generate("snap-demo", Role::Snapshot, &src.join("keys"))?;
    }
    let keys_dir = state.join("keys");
    if !keys_dir.join("bundle-dev.key").exists() {
        keys::generate("bundle-dev", Role::Bundle, &keys_dir)?;
    }
    let secret = keys::load_secret(&keys_dir.join("bundle-dev.key"), Role::Bundle)?;
    let bundle = vitrine_compile::load(&src).context("the embedded bundle source")?;
    let bytes = vitrine_engine::bundle::envelope::sign(&bundle, &secret.kid, &secret.key)?;
    let bundle_path = state.join("bundle.vbundle");
    vitrine_base::atomic::write(&bundle_path, &bytes).with_context(|| bundle_path.display().to_string())?;
    let features = state.join("features.sqlite");
    if !features.exists() {
        let csv = state.join("clients.csv");
        let text = match world {
            World::Example => clients_csv(CLIENTS),
            World::Demo => vitrine_demo::world::csv(&vitrine_demo::world::clients(vitrine_demo::CLIENTS, vitrine_demo::SEED)),
        };
        vitrine_base::atomic::write(&csv, text.as_bytes()).with_context(|| csv.display().to_string())?;
        let mut store = FeatureStore::open(&features, &bundle.schema)?;
        store.import_csv(&csv)?;
    }
    let api_key_path = state.join("api-key");
    let api_key = match std::fs::read_to_string(&api_key_path) {
        Ok(k) => k.trim().to_string(),
        Err(_) => {
            let mut raw = [0u8; 16];
            getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no entropy for the API key: {e}"))?;
            let k = vitrine_base::hex::encode(&raw);
            vitrine_base::atomic::write(&api_key_path, k.as_bytes()).with_context(|| api_key_path.display().to_string())?;
            k
        }
    };
    Ok(ServeConfig {
        listen,
        engine,
        bundle: bundle_path,
        bundle_key: keys_dir.join("bundle-dev.pub"),
        features: Some(features),
        snapshot_key: Some(src.join("keys/snap-demo.key")),
        snapshot_ttl: 3600,
        feedback: state.join("feedback.sqlite"),
        api_key: Some(api_key),
        cache_dir: Some(state.join("cache")),
        limits: Limits::default(),
        static_dir: None,
        engine_js: None,
        warm: 16,
        demo_login: false,
        learn: None,
        triggers: (world == World::Demo).then(|| src.join("triggers.toml")),
        fill_history: None,
    })
}

/// `n` generated example clients (deterministic) as CSV for the example schema.
pub fn clients_csv(n: usize) -> String {
    let mut rng = SplitMix64::new(0x0123_4567_89ab_cdef);
    let mut next = move |m: u64| rng.below(m as usize) as u64;
    let mut out = String::from("client_id,tenure_months,monthly_spend,data_usage_gb,fiber_eligible,fiber_owned,indoor_coverage,plan,open_complaint,consent_profiling,consent_web,consent_email,consent_sms,consent_push\n");
    let b = |x: u64| if x == 0 { "false" } else { "true" };
    for i in 1..=n {
        let eligible = next(100) < 55;
        let owned = eligible && next(100) < 40;
        out.push_str(&format!(
            "c-{i:04},{},{}.{:02},{}.{},{},{},{},{},{},{},{},{},{},{}\n",
            next(120),
            15 + next(90),
            next(100),
            next(60),
            5 * next(2),
            b(u64::from(eligible)),
            b(u64::from(owned)),
            ["poor", "fair", "good"][next(3) as usize],
            ["basic", "plus", "premium"][next(3) as usize],
            b(u64::from(next(100) < 8)),
            b(u64::from(next(100) < 90)),
            b(u64::from(next(100) < 95)),
            b(u64::from(next(100) < 60)),
            b(u64::from(next(100) < 40)),
            b(u64::from(next(100) < 30)),
        ));
    }
    out
}
