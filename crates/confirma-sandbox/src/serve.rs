//! Serving the sandbox over HTTP/1.1 with the limits a shared service needs, so that no client,
//! careless or hostile, can hold it: a bounded number of connections, and a deadline for the
//! request line and headers that also closes idle keep-alive connections. Body limits (size, a
//! stalled upload) and the request-size limits (URI, headers) answer in the spec's error format
//! from `confirma-server`; this module owns the connections (and, through `protocol_errors`,
//! gives hyper's own answers to unreadable requests the error format as well).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// The connection limits of a running sandbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// At most this many connections are open at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// The request line and headers must arrive within this time of the connection opening or
    /// of the previous answer; otherwise (a stalled request, or an idle keep-alive connection)
    /// the connection is closed.
    pub header_read_timeout: Duration,
}

impl Default for Limits {
    /// 512 connections; 10 seconds for the request line and headers (documented in the spec).
    fn default() -> Self {
        Self {
            max_connections: 512,
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

/// How long a shutdown waits for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` with the default [`Limits`] until `shutdown` resolves, then lets
/// requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve_with(listener, app, Limits::default(), shutdown).await
}

/// [`serve`] with other limits.
pub async fn serve_with(
    listener: TcpListener,
    app: axum::Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        // Above the request-size limits of `confirma-server` (8 KiB URI, 16 KiB of headers),
        // so that those are answered in the error format rather than by hyper. The count of
        // headers keeps hyper's default, `confirma-server`'s limit too (100): hyper's own 431
        // for the 101st leaves as the same answer (`protocol_errors.rs`), and any other count
        // makes hyper allocate and fill that many header slots for every request (a tenth of
        // the sandbox's CPU at 70k validate requests a second with 500).
        .max_buf_size(256 * 1024);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream, limits.max_connections));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection =
            // hyper's own answers to unreadable requests leave in the error format too.
            http.serve_connection(
                TokioIo::new(crate::protocol_errors::ErrorFormat::new(stream)),
                TowerToHyperService::new(app.clone()),
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away or breaks the protocol ends only its own connection.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("requests still in flight after {SHUTDOWN_GRACE:?}; stopping anyway");
        }
    }
    Ok(())
}

/// Answers a connection beyond the limit with 503 in the error format, and closes it.
async fn refuse(mut stream: TcpStream, max_connections: usize) {
    let body = serde_json::to_vec(
        &confirma_server::ApiError::unavailable(format!(
            "The sandbox already serves {max_connections} connections; try again shortly."
        ))
        .body,
    )
    .unwrap_or_default();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&body).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}
