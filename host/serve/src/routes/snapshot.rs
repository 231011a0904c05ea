//! `GET /v1/snapshot/{client}` (API key) and the demo's `GET /demo/login/{client}`: freshly signed snapshots.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use vitrine_engine::snapshot::encode_text;

use super::{error, json, now, Shared};

/// `GET /demo/login/{client}` (demo only, off by default): the client's snapshot without
/// the API key, as a simulated login would hand it to the page.
pub async fn demo_login(state: Shared, Path(client): Path<String>) -> Response {
    signed_snapshot(&state, client)
}

/// `GET /v1/snapshot/{client}` (API key): a freshly signed snapshot.
pub async fn snapshot(State(state): Shared, Path(client): Path<String>) -> Response {
    signed_snapshot(&State(state), client)
}

fn signed_snapshot(State(state): &Shared, client: String) -> Response {
    let (Some(store), Some(signer)) = (&state.features, &state.signer) else {
        return error(StatusCode::NOT_FOUND, "snapshot_unavailable", "http", "this server has no feature store or snapshot key");
    };
    let issued = now();
    let signed = {
        let mut store = store.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match store.snapshot_content(&client, issued, state.snapshot_ttl).map(|content| signer.sign(store.schema(), &content)) {
            // Every snapshot handed out is in the ledger first (its hash → the values it carried).
            Ok(Ok(bytes)) => match record(&mut store, state, &client, &bytes, issued) {
                Ok(()) => Ok(Ok(bytes)),
                Err(e) => Err(e),
            },
            other => other,
        }
    };
    match signed {
        Ok(Ok(bytes)) => json(
            StatusCode::OK,
            &serde_json::json!({ "client_id": client, "snapshot": encode_text(&bytes), "expires_at": issued + state.snapshot_ttl }),
        ),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.code(), "snapshot", e.to_string()),
        Err(e @ vitrine_store::StoreError::UnknownClient(_)) => error(StatusCode::NOT_FOUND, e.code(), "store", e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.code(), "store", e.to_string()),
    }
}

/// Records `bytes` in the store's ledger, pruning expired entries at most hourly.
fn record(
    store: &mut vitrine_store::FeatureStore,
    state: &crate::state::AppState,
    client: &str,
    bytes: &[u8],
    now: u64,
) -> Result<(), vitrine_store::StoreError> {
    use std::sync::atomic::Ordering;
    if now.saturating_sub(state.ledger_pruned.load(Ordering::Relaxed)) >= 3600 {
        store.prune_ledger(now, state.limits.ledger_retention)?;
        state.ledger_pruned.store(now, Ordering::Relaxed);
    }
    let mut ledger = store.ledger()?;
    ledger.record(client, bytes)?;
    ledger.commit()?;
    Ok(())
}
