//! Static files (the web demo and the engine's JS face): GET only, no directory
//! listing, nothing hidden, no `..`.
use std::path::PathBuf;

use axum::routing::get;

/// Static files under `dir` (GET only, no directory listing, no `..`).
pub fn service(dir: PathBuf) -> axum::routing::MethodRouter {
    get(move |uri: axum::http::Uri| {
        let dir = dir.clone();
        async move {
            use axum::response::IntoResponse;
            let rel = uri.path().trim_start_matches('/');
            let rel = if rel.is_empty() || rel.ends_with('/') { format!("{rel}index.html") } else { rel.to_string() };
            if rel.split('/').any(|c| c == ".." || c.starts_with('.')) {
                return axum::http::StatusCode::NOT_FOUND.into_response();
            }
            let path = dir.join(&rel);
            match tokio::fs::read(&path).await {
                Ok(bytes) => {
                    let ct = match path.extension().and_then(|e| e.to_str()) {
                        Some("html") => "text/html; charset=utf-8",
                        Some("js" | "mjs") => "text/javascript",
                        Some("css") => "text/css",
                        Some("wasm") => "application/wasm",
                        Some("json") => "application/json",
                        Some("svg") => "image/svg+xml",
                        Some("png") => "image/png",
                        _ => "application/octet-stream",
                    };
                    ([(axum::http::header::CONTENT_TYPE, ct)], bytes).into_response()
                }
                Err(_) => axum::http::StatusCode::NOT_FOUND.into_response(),
            }
        }
    })
}
