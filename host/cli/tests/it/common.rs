//! Helpers shared by the host's integration tests.
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::process::Command;

use vitrine_base::keys::{self, Role};

/// Runs the `vitrine` binary.
pub fn vitrine(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vitrine")).args(args).output().expect("vitrine runs")
}

/// The committed example bundle source folder.
pub fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/bundle")
}

/// A copy of the example folder whose trusted snapshot key is freshly generated
/// (its secret is in `DIR/keys/snap-demo.key`).
pub fn example_copy(tmp: &Path) -> PathBuf {
    let dir = tmp.join("src");
    std::fs::create_dir_all(dir.join("rules")).unwrap();
    std::fs::copy(example().join("bundle.toml"), dir.join("bundle.toml")).unwrap();
    std::fs::copy(example().join("rules/fibre_upgrade.cel"), dir.join("rules/fibre_upgrade.cel")).unwrap();
    keys::generate("snap-demo", Role::Snapshot, &dir.join("keys")).unwrap();
    dir
}

/// The engine module `cargo xtask wasm` builds (the test command builds it first).
pub fn engine_wasm() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dist/engine-abi.wasm")
}

/// A `vitrine serve` process on 127.0.0.1 (a free port), killed when dropped.
pub struct Served {
    pub child: std::process::Child,
    pub base: String,
    pub state: PathBuf,
}

impl Served {
    /// Starts `vitrine serve --state STATE --listen 127.0.0.1:0 EXTRA...` and waits until
    /// it answers /healthz.
    pub fn start(state: &Path, extra: &[&str]) -> Served {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_vitrine"))
            .args(["serve", "--state", state.to_str().unwrap(), "--listen", "127.0.0.1:0", "--engine", engine_wasm().to_str().unwrap()])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("vitrine serve starts");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line).unwrap();
        let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line: {line:?}")).to_string();
        let served = Served { child, base, state: state.to_path_buf() };
        for _ in 0..100 {
            if ureq::get(&served.url("/healthz")).call().is_ok() {
                return served;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the server did not become healthy");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `client`'s signed snapshot as `GET /v1/snapshot/{client}` returns it.
    pub fn snapshot(&self, agent: &ureq::Agent, client: &str) -> serde_json::Value {
        agent
            .get(&self.url(&format!("/v1/snapshot/{client}")))
            .header("X-Api-Key", &self.api_key())
            .call()
            .unwrap()
            .into_body()
            .read_json()
            .unwrap()
    }

    pub fn api_key(&self) -> String {
        std::fs::read_to_string(self.state.join("api-key")).unwrap().trim().to_string()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP agent that returns non-2xx responses instead of erroring.
pub fn http() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

/// A Parquet or CSV table (`vitrine_store::Rows`) as one map per row, every cell as
/// text (missing: empty).
pub fn table(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    use vitrine_store::{Cell, Rows};
    let rows = Rows::open(path).unwrap();
    let headers = rows.headers.clone();
    rows.iter
        .map(|r| {
            headers
                .iter()
                .zip(r.unwrap())
                .map(|(h, c)| {
                    let v = match c {
                        Cell::Missing => String::new(),
                        Cell::Text(s) => s,
                        Cell::Number(x) => format!("{x}"),
                        Cell::Bool(b) => b.to_string(),
                    };
                    (h.clone(), v)
                })
                .collect()
        })
        .collect()
}

/// SplitMix64 draw in [0, 1) for the `n`-th event: deterministic outcomes for tests that
/// play a hidden truth.
pub fn uniform(n: u64) -> f64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

/// Each example client's tenure in months, from the default state's `clients.csv`.
pub fn tenures(state: &Path) -> std::collections::HashMap<String, f64> {
    std::fs::read_to_string(state.join("clients.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let mut cells = l.split(',');
            (cells.next().unwrap().to_string(), cells.next().unwrap().parse().unwrap())
        })
        .collect()
}
