use vitrine_engine::{api, testkit::{Fixture, NOW}};

#[test]
fn telco_decides_for_every_client() {
    let fx = Fixture::telco();
    let mut engine = api::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    for i in 0..fx.clients.len() {
        let mut req = fx.request(i, NOW, 42 + i as u64);
        req.explain = true;
        let resp = engine.decide(&req).unwrap();
        println!("{}", serde_json::to_string_pretty(&resp).unwrap());
    }
}

#[test]
fn bench_decides() {
    let fx = Fixture::bench();
    let mut engine = api::load(&fx.bundle_bytes, &fx.bundle_public_key).unwrap();
    let req = fx.request(0, NOW, 1);
    let resp = engine.decide(&req).unwrap();
    println!("{}", serde_json::to_string(&resp).unwrap());
    println!("snapshot bytes: {}", fx.snapshot_bytes(0).len());
    println!("bundle bytes: {}", fx.bundle_bytes.len());
}
