//! The validating proxy's ceiling: a pass-through proxy on the same stack as
//! `confirma-sandbox proxy` (axum, hyper and reqwest with the same settings) that checks nothing,
//! journals nothing and reports nothing. `cargo xtask bench` measures it beside the validating
//! proxy, so that what the checks cost shows apart from what the extra hop costs.
//!
//! `bare_proxy <listen address> <upstream base URL>`: prints the bound address.

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// The sandbox's allocator, so that the comparison is of the work and not of the allocators.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(upstream)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: bare_proxy <listen address> <upstream base URL>");
    };
    let upstream = upstream.trim_end_matches('/').to_string();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tls_backend_rustls()
        .build()?;
    let app = axum::Router::new().fallback(move |request: Request| {
        let (http, upstream) = (http.clone(), upstream.clone());
        async move { forward(&http, &upstream, request).await }
    });
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("bare proxy listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

async fn forward(http: &reqwest::Client, upstream: &str, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 10 * 1024 * 1024).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut headers = parts.headers;
    headers.remove(axum::http::header::HOST);
    let sent = http
        .request(parts.method, format!("{upstream}{target}"))
        .headers(headers)
        .body(body)
        .send()
        .await;
    let Ok(answer) = sent else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let mut response = Response::new(Body::empty());
    *response.status_mut() = answer.status();
    *response.headers_mut() = answer.headers().clone();
    match answer.bytes().await {
        Ok(bytes) => {
            *response.body_mut() = Body::from(bytes);
            response
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}
