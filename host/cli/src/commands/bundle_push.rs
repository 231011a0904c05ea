//! `vitrine bundle push` and `vitrine bundle rollback`: the admin routes of a running server.
use std::path::PathBuf;

use anyhow::{Context, Result};

#[derive(clap::Args, Debug)]
pub struct PushArgs {
    file: PathBuf,
    #[command(flatten)]
    server: Server,
}

#[derive(clap::Args, Debug)]
pub struct RollbackArgs {
    #[command(flatten)]
    server: Server,
}

#[derive(clap::Args, Debug)]
struct Server {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// The server's API key.
    #[arg(long, env = "VITRINE_API_KEY", hide_env_values = true)]
    api_key: String,
}

pub fn push(a: PushArgs) -> Result<()> {
    let bytes = std::fs::read(&a.file).with_context(|| format!("reading {}", a.file.display()))?;
    admin(&a.server, "/v1/admin/bundle", &bytes)
}

pub fn rollback(a: RollbackArgs) -> Result<()> {
    admin(&a.server, "/v1/admin/rollback", &[])
}

/// Posts to an admin route and prints the server's answer.
fn admin(s: &Server, route: &str, body: &[u8]) -> Result<()> {
    let url = format!("{}{route}", s.server.trim_end_matches('/'));
    let res = ureq::post(&url)
        .header("Authorization", &format!("Bearer {}", s.api_key))
        .config()
        .http_status_as_error(false)
        .build()
        .send(body)
        .with_context(|| format!("POST {url}"))?;
    let status = res.status();
    let text = res.into_body().read_to_string().unwrap_or_default();
    if !status.is_success() {
        anyhow::bail!("{url}: {status}: {text}");
    }
    println!("{text}");
    Ok(())
}
