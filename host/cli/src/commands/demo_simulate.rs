//! `vitrine demo simulate`: visits by demo clients, responses from the hidden truth.
use anyhow::Result;
use vitrine_demo::{simulate, world};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    host: String,
    /// The edge worker (half the visits go through its POST /decide).
    #[arg(long)]
    edge: Option<String>,
    #[arg(long, env = "VITRINE_API_KEY", hide_env_values = true)]
    api_key: String,
    /// Visits per second.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// How long to run.
    #[arg(long, default_value = "30s")]
    duration: String,
    /// Must match the seeded world (and its size) for the truth to hold.
    #[arg(long, default_value_t = vitrine_demo::CLIENTS)]
    clients: usize,
    #[arg(long, default_value_t = vitrine_demo::SEED)]
    seed: u64,
}

pub fn run(a: Args) -> Result<()> {
    let clients = world::clients(a.clients, a.seed);
    let options = simulate::Options {
        host: a.host,
        edge: a.edge,
        api_key: a.api_key,
        rate: a.rate,
        duration: std::time::Duration::from_secs(super::seconds(&a.duration)?),
        seed: a.seed,
    };
    let s = simulate::simulate(&clients, &options).map_err(|e| anyhow::anyhow!(e))?;
    println!("{} visits ({} through the edge), modes {:?}, {} errors", s.visits, s.edge_visits, s.modes, s.errors);
    println!("{} impressions, {} clicks, {} conversions", s.impressions, s.clicks, s.conversions);
    println!("{} sales posted (organic ones included); visited clients per arm {:?}", s.sales, s.clients);
    println!("true sales per client by arm: {:?}", s.true_sales_per_client);
    println!("true incremental sales per personalised client: {:+.4}", s.true_incremental_per_client);
    for (what, m) in [("personalised − no_contact", s.measured_vs_no_contact), ("personalised − bau", s.measured_vs_bau)] {
        match m {
            Some((x, lo, hi)) => println!("measured {what} sales per client: {x:+.4} [{lo:+.4}, {hi:+.4}]"),
            None => println!("measured {what}: not enough clients in both arms yet"),
        }
    }
    Ok(())
}
