//! Decide latency under Wasmtime through `dist/engine-abi.wasm`, next to the native
//! engine in the same run, on the benchmark fixture. Prints p50/p99 per mode and the
//! Wasm/native ratios. `cargo run --release -p vitrine-conformance --bin wasm-bench`
//! (`cargo xtask bench` runs it; unset RUST_BACKTRACE).
use std::time::Instant;

use vitrine_conformance::{repo_root, wasm::AbiHost};
use vitrine_engine::snapshot::{encode_text, SnapshotSigner};
use vitrine_engine::testkit::{snapshot_key, Fixture, NOW, SNAPSHOT_KID};
use vitrine_engine::{api, Engine};

const CACHED: usize = 20_000;
const FRESH: usize = 2_000;
const ROUNDS: usize = 5;

/// The round with the median p50.
fn median(rounds: &[(f64, f64, f64)]) -> (f64, f64, f64) {
    let mut r = rounds.to_vec();
    r.sort_by(|a, b| a.0.total_cmp(&b.0));
    r[r.len() / 2]
}

fn percentiles(mut ns: Vec<u128>) -> (f64, f64, f64) {
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() as f64 * q) as usize).min(ns.len() - 1)] as f64 / 1000.0;
    (at(0.5), at(0.99), ns.iter().sum::<u128>() as f64 / ns.len() as f64 / 1000.0)
}

fn time(n: usize, mut f: impl FnMut(usize)) -> (f64, f64, f64) {
    for i in 0..n / 10 {
        f(i);
    }
    let mut ns = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        f(i);
        ns.push(t.elapsed().as_nanos());
    }
    percentiles(ns)
}

fn main() {
    let fx = Fixture::bench();
    let cached_req = fx.request_json(0, NOW, 1).into_bytes();
    let signer = SnapshotSigner::new(SNAPSHOT_KID, snapshot_key()).expect("signer");
    let fresh: Vec<Vec<u8>> = (0..FRESH + FRESH / 10)
        .map(|i| {
            let mut c = fx.clients[i % 16].clone();
            c.issued_at -= i as u64 + 1;
            let mut r = fx.request(0, NOW, i as u64);
            r.snapshot = Some(encode_text(&signer.sign(&fx.bundle.schema, &c).expect("sign")));
            serde_json::to_vec(&r).expect("json")
        })
        .collect();

    // `VITRINE_WASM`: another build of the ABI (e.g. cargo's output, which keeps the
    // name section, for `perf` with `VITRINE_PERFMAP=1`).
    let wasm = std::env::var_os("VITRINE_WASM").map(std::path::PathBuf::from).unwrap_or_else(|| repo_root().join("dist/engine-abi.wasm"));
    let host = AbiHost::from_file(&wasm).expect("run `cargo xtask wasm` first");
    let mut inst = host.instantiate().expect("instantiate");
    let handle = inst.load(&fx.bundle_bytes, &fx.bundle_public_key).expect("call").expect("bundle loads");
    let check = inst.decide(handle, &cached_req).expect("call");
    let mut native = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).expect("load");
    assert_eq!(check, api::decide_json(&mut native, &cached_req), "Wasm and native disagree");

    // Alternate the two cached modes in rounds so drifts of the VM hit both alike.
    let mut w_rounds = Vec::new();
    let mut n_rounds = Vec::new();
    for _ in 0..ROUNDS {
        w_rounds.push(time(CACHED / ROUNDS, |_| {
            inst.decide(handle, &cached_req).expect("call");
        }));
        n_rounds.push(time(CACHED / ROUNDS, |_| {
            api::decide_json(&mut native, &cached_req);
        }));
    }
    let w_cached = median(&w_rounds);
    let n_cached = median(&n_rounds);
    println!(
        "round p50s µs: wasmtime {:?}, native {:?}",
        w_rounds.iter().map(|r| r.0).collect::<Vec<_>>(),
        n_rounds.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    let mut k = 0;
    let w_fresh = time(FRESH, |_| {
        inst.decide(handle, &fresh[k % fresh.len()]).expect("call");
        k += 1;
    });
    let mut native_fresh = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).expect("load");
    let mut k = 0;
    let n_fresh = time(FRESH, |_| {
        api::decide_json(&mut native_fresh, &fresh[k % fresh.len()]);
        k += 1;
    });
    println!("decide, JSON in and out, benchmark fixture (300 features, 100 offers, LR + GBDT, 3 slots x top-3)");
    println!(
        "cached: median of {ROUNDS} alternating rounds of {} calls; fresh: {FRESH} calls, each with a never-seen snapshot",
        CACHED / ROUNDS
    );
    println!("{:<28} {:>10} {:>10} {:>10}", "mode", "p50 µs", "p99 µs", "mean µs");
    for (name, (p50, p99, mean)) in [
        ("wasmtime cached snapshot", w_cached),
        ("native cached snapshot", n_cached),
        ("wasmtime fresh snapshot", w_fresh),
        ("native fresh snapshot", n_fresh),
    ] {
        println!("{name:<28} {p50:>10.1} {p99:>10.1} {mean:>10.1}");
    }
    println!("ratio wasmtime/native p50: cached {:.2}x, fresh {:.2}x", w_cached.0 / n_cached.0, w_fresh.0 / n_fresh.0);

    // The same fixture with every offer scored by a T-learner (treated and control
    // 100-output logistic models), cached snapshot, alternating rounds as above.
    let up = Fixture::bench_uplift();
    let req = up.request_json(0, NOW, 1).into_bytes();
    let handle = inst.load(&up.bundle_bytes, &up.bundle_public_key).expect("call").expect("uplift bundle loads");
    let mut native = Engine::load(&up.bundle_bytes, &up.bundle_public_key).expect("load");
    assert_eq!(inst.decide(handle, &req).expect("call"), api::decide_json(&mut native, &req), "Wasm and native disagree (uplift)");
    let (mut w_rounds, mut n_rounds) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        w_rounds.push(time(CACHED / ROUNDS, |_| {
            inst.decide(handle, &req).expect("call");
        }));
        n_rounds.push(time(CACHED / ROUNDS, |_| {
            api::decide_json(&mut native, &req);
        }));
    }
    let (w_up, n_up) = (median(&w_rounds), median(&n_rounds));
    println!("uplift variant (100 offers by a T-learner: two 100 x 300 logistic models), cached snapshot");
    for (name, (p50, p99, mean)) in [("wasmtime cached, uplift", w_up), ("native cached, uplift", n_up)] {
        println!("{name:<28} {p50:>10.1} {p99:>10.1} {mean:>10.1}");
    }
    println!(
        "ratio uplift/propensity p50: wasmtime {:.2}x, native {:.2}x; wasmtime/native uplift {:.2}x",
        w_up.0 / w_cached.0,
        n_up.0 / n_cached.0,
        w_up.0 / n_up.0
    );
}
