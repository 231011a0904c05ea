//! `vitrine`: the host binary. The bundle compiler, snapshot issuer and server arrive
//! with the host issues; today it reports the engine version.
fn main() {
    println!("vitrine {} (engine {})", env!("CARGO_PKG_VERSION"), vitrine_engine::ENGINE_VERSION);
}
