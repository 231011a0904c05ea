//! The embedded default for `vitrine serve` with no bundle given: the repository's
//! example bundle source, fresh dev keys, a built and signed bundle, and a feature store
//! of generated example clients, all kept under one state directory and reused on the
//! next start.
use std::path::{Path, PathBuf};

use super::{Limits, ServeConfig, ServeError};
use crate::keys::{self, Role};
use crate::store::FeatureStore;

/// The repository this binary was built from.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Clients the default feature store holds (`c-0001` …).
pub const CLIENTS: usize = 1000;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ServeError + '_ {
    move |source| ServeError::Io { path: path.to_path_buf(), source }
}

/// Which bundle source and clients the default state is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum World {
    /// `edge-host/examples/bundle` and 1,000 generated example clients.
    Example,
    /// `web-demo/bundle` (13 offers) and the seeded 10,000-client demo world.
    Demo,
}

/// Prepares `state` (creating what is missing) and returns a config listening on `listen`.
pub fn prepare(state: &Path, listen: std::net::SocketAddr, world: World) -> Result<ServeConfig, ServeError> {
    let (source, files): (PathBuf, &[&str]) = match world {
        World::Example => (repo_root().join("edge-host/examples/bundle"), &["bundle.toml", "rules/fibre_upgrade.cel"]),
        World::Demo => (repo_root().join("web-demo/bundle"), &["bundle.toml", "models/offers.onnx", "models/offers.reference.json"]),
    };
    let src = state.join("src");
    std::fs::create_dir_all(src.join("rules")).map_err(io(&src))?;
    std::fs::create_dir_all(src.join("models")).map_err(io(&src))?;
    for rel in files {
        std::fs::copy(source.join(rel), src.join(rel)).map_err(io(&src))?;
    }
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
    let bundle = crate::source::load(&src).map_err(|e| ServeError::Snapshot(format!("example bundle: {e}")))?;
    let bytes = vitrine_engine::bundle::envelope::sign(&bundle, &secret.kid, &secret.key).map_err(|e| ServeError::Snapshot(e.to_string()))?;
    let bundle_path = state.join("bundle.vbundle");
    std::fs::write(&bundle_path, bytes).map_err(io(&bundle_path))?;
    let features = state.join("features.sqlite");
    if !features.exists() {
        let csv = state.join("clients.csv");
        let text = match world {
            World::Example => clients_csv(CLIENTS),
            World::Demo => crate::demo::world::csv(&crate::demo::world::clients(crate::demo::CLIENTS, crate::demo::SEED)),
        };
        std::fs::write(&csv, text).map_err(io(&csv))?;
        let mut store = FeatureStore::open(&features, &bundle.schema)?;
        store.import_csv(&csv)?;
    }
    let api_key_path = state.join("api-key");
    let api_key = match std::fs::read_to_string(&api_key_path) {
        Ok(k) => k.trim().to_string(),
        Err(_) => {
            let mut raw = [0u8; 16];
            getrandom::fill(&mut raw).map_err(|e| ServeError::Snapshot(e.to_string()))?;
            let k = crate::runtime::hex(&raw);
            std::fs::write(&api_key_path, &k).map_err(io(&api_key_path))?;
            k
        }
    };
    Ok(ServeConfig {
        listen,
        engine: repo_root().join("dist/engine-abi.wasm"),
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
        warm: 16,
        demo_login: false,
        learn: None,
    })
}

/// `n` generated example clients (deterministic) as CSV for the example schema.
pub fn clients_csv(n: usize) -> String {
    let mut s = 0x0123_4567_89ab_cdefu64;
    let mut next = move |m: u64| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s % m
    };
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
