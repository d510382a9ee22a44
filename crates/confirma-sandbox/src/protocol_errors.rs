//! hyper answers bytes it cannot parse as an HTTP/1.1 request (a NUL in a header, a
//! `Content-Length` that is not a number, an unknown method) itself, before any application code
//! runs, with a bare `400 Bad Request` and no body, and then closes the connection. This wrapper
//! around a connection's stream gives those answers the spec's error format: it recognises a
//! response head hyper wrote on its own (a 400, 414 or 431 with no `Content-Type` and no body,
//! something no handler of ours ever answers) and writes an `ErrorResponse` in its place.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use confirma_server::ApiError;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A stream whose bare protocol-error answers leave in the error format.
pub struct ErrorFormat<S> {
    inner: S,
    /// A replacement being written: its bytes, how many are written, and how many bytes of the
    /// original write to report once it is done.
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<S> ErrorFormat<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            pending: None,
        }
    }
}

/// The answer to write instead of `written`, when `written` is one of hyper's bare answers.
fn replacement(written: &[u8]) -> Option<Vec<u8>> {
    let head_end = written.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    if head_end != written.len() || !written.starts_with(b"HTTP/1.1 ") {
        return None;
    }
    let head = std::str::from_utf8(written).ok()?;
    let error = match head.get(9..12)? {
        "400" => ApiError::bad_request(
            "The request is not valid HTTP/1.1: its request line or headers could not be read.",
        ),
        "414" => ApiError::uri_too_long(confirma_server::limits::MAX_URI_BYTES),
        "431" => ApiError::headers_too_large(confirma_server::limits::MAX_HEADER_BYTES),
        _ => return None,
    };
    let mut lines = head.trim_end().split("\r\n");
    let status_line = lines.next()?;
    let mut kept = Vec::new();
    for line in lines {
        let name = line
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match name.as_str() {
            // Ours always carry a body and its type; one without is hyper's.
            "content-type" => return None,
            "content-length" if line.split(':').nth(1).map(str::trim) != Some("0") => return None,
            "content-length" | "connection" => {}
            _ => kept.push(line),
        }
    }
    let body = serde_json::to_vec(&error.body).ok()?;
    let mut out = format!(
        "{status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for line in kept {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(&body);
    Some(out)
}

impl<S: AsyncWrite + Unpin> ErrorFormat<S> {
    /// Writes what is left of a replacement; `Ready(Some(n))` once done (`n` to report).
    fn drive(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<usize>>> {
        while let Some((bytes, written, report)) = self.pending.as_mut() {
            if *written == bytes.len() {
                let report = *report;
                self.pending = None;
                return Poll::Ready(Ok(Some(report)));
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(None))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ErrorFormat<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ErrorFormat<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.pending.is_none()
            && let Some(bytes) = replacement(buf)
        {
            self.pending = Some((bytes, 0, buf.len()));
        }
        match ready!(self.drive(cx))? {
            Some(report) => Poll::Ready(Ok(report)),
            None => Pin::new(&mut self.inner).poll_write(cx, buf),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drive(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drive(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    /// A bare answer of hyper's is its head alone, the first part of a vectored write: written
    /// as [`ErrorFormat::poll_write`] writes it. Any other goes out as it came, so that a page's
    /// parts are not copied into one buffer first.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &b[..]);
        if self.pending.is_some() || replacement(first).is_some() {
            return self.poll_write(cx, first);
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_400_gets_the_error_format() {
        let bare = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: Tue, 01 Dec 2026 10:00:00 GMT\r\n\r\n";
        let out = String::from_utf8(replacement(bare).unwrap()).unwrap();
        assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{out}");
        assert!(out.contains("content-type: application/json\r\n"), "{out}");
        assert!(out.contains("date: Tue, 01 Dec 2026"), "{out}");
        let body = out.split("\r\n\r\n").nth(1).unwrap();
        assert!(out.contains(&format!("content-length: {}\r\n", body.len())));
        let error: confirma_server::types::ErrorResponse = serde_json::from_str(body).unwrap();
        assert_eq!(error.code, confirma_server::types::ErrorCode::BadRequest);
    }

    #[test]
    fn our_own_answers_pass_unchanged() {
        for ours in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n"[..],
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"{\"code\": \"HTTP/1.1 400\"}",
        ] {
            assert!(replacement(ours).is_none(), "{}", String::from_utf8_lossy(ours));
        }
    }
}
