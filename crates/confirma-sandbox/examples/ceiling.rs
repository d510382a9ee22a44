//! The benchmark's ceiling: a bare axum handler answering every request with the same bytes
//! (the sandbox's own answer, captured by `cargo xtask bench`), on the same stack as the sandbox
//! (tokio, hyper, axum) and with no work behind it.
//!
//! `ceiling <listen address> <file with the answer's JSON>`; prints the bound address.

use axum::http::header::CONTENT_TYPE;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(file)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: ceiling <listen address> <answer.json>");
    };
    let body = axum::body::Bytes::from(std::fs::read(file)?);
    let app = axum::Router::new().fallback(move || {
        let body = body.clone();
        async move { ([(CONTENT_TYPE, "application/json")], body) }
    });
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
