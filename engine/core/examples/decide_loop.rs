//! Decides the benchmark fixture's request N times (default 1000) on one engine.
//! Run under `valgrind --tool=callgrind` with N and with 0 to count instructions per
//! decide: a figure that, unlike wall time on a shared VM, does not drift run to run.
//!
//! `cargo run --release -p vitrine-engine --features testkit --example decide_loop -- 1000`
use vitrine_engine::testkit::{Fixture, NOW};
use vitrine_engine::{api, Engine};

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let fx = Fixture::bench();
    let mut engine = Engine::load(&fx.bundle_bytes, &fx.bundle_public_key).expect("bundle loads");
    let request = fx.request_json(0, NOW, 1).into_bytes();
    let first = api::decide_json(&mut engine, &request);
    let mut bytes = first.len();
    for _ in 0..n {
        bytes += std::hint::black_box(api::decide_json(&mut engine, std::hint::black_box(&request))).len();
    }
    println!("{n} decides, {bytes} bytes of JSON out");
}
