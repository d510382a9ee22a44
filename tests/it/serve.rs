//! Serving a router on a real loopback socket (`127.0.0.1:0`) or in-process.

use axum::Router;
use serde_json::Value;

/// Serves `router` on a free loopback port until the test's runtime ends; returns its base URL.
pub async fn spawn(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve");
    });
    format!("http://{addr}")
}

/// GET `path` from `router` over HTTP; the status and the JSON body.
pub async fn get_json(router: Router, path: &str) -> (u16, Value) {
    let base = spawn(router).await;
    let resp = reqwest::get(format!("{base}{path}"))
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON body"))
}
