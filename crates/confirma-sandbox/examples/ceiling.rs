//! The benchmark's ceiling: a bare axum handler answering each workload with the sandbox's own
//! bytes for it (captured by `cargo xtask bench`), on the same stack as the sandbox (tokio,
//! hyper, axum) and with no work behind it.
//!
//! `ceiling <listen address> <route>=<file>...`: a request is answered with the file of the
//! longest route that its path and query start with; prints the bound address.

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

/// The sandbox's allocator, so that the comparison is of the work and not of the allocators.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(listen) = args.next() else {
        anyhow::bail!("usage: ceiling <listen address> <route>=<answer.json>...");
    };
    let mut routes = Vec::new();
    for arg in args {
        let (route, file) = arg
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("{arg}: not <route>=<file>"))?;
        routes.push((route.to_string(), Bytes::from(std::fs::read(file)?)));
    }
    // Longest first, so that the first route a request starts with is the longest.
    routes.sort_by_key(|(route, _)| std::cmp::Reverse(route.len()));
    let routes = std::sync::Arc::new(routes);
    let app = axum::Router::new().fallback(move |request: Request| {
        let routes = routes.clone();
        async move {
            let target = request
                .uri()
                .path_and_query()
                .map_or("", |p| p.as_str())
                .to_string();
            match routes
                .iter()
                .find(|(route, _)| target.starts_with(route.as_str()))
            {
                Some((_, body)) => {
                    ([(CONTENT_TYPE, "application/json")], body.clone()).into_response()
                }
                None => StatusCode::NOT_FOUND.into_response(),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
