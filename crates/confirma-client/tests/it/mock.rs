//! A scripted HTTP/1.1 server on `127.0.0.1:0`, written on `tokio::net` so that the client's
//! tests need no server framework. It answers requests in order with the [`Reply`]s it was
//! given (repeating the last one) and records every request it saw.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use confirma_client::{ApiKey, Client, Environment, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A complete response.
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Close the connection without answering.
    HangUp,
    /// Answer nothing for this long (to trigger the client's timeout), then close.
    Stall(Duration),
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Self {
        Self::Http {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
        }
    }

    /// An `ErrorResponse` body with `code` and no field problems.
    pub fn error(status: u16, code: &str) -> Self {
        Self::json(
            status,
            &format!(r#"{{"code":"{code}","message":"scripted {status}","fieldErrors":[]}}"#),
        )
    }

    pub fn text(status: u16, body: &str) -> Self {
        Self::Http {
            status,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: body.into(),
        }
    }

    pub fn no_content() -> Self {
        Self::Http {
            status: 204,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let Self::Http { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The (undecoded) value of query parameter `name`.
    pub fn query(&self, name: &str) -> Option<&str> {
        let (_, query) = self.target.split_once('?')?;
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }
}

pub struct MockServer {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl MockServer {
    pub async fn start(replies: Vec<Reply>) -> Self {
        assert!(!replies.is_empty(), "script at least one reply");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let replies = Arc::new(replies);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                // One task per connection, so that a stalled answer does not hold up the next.
                tokio::spawn(serve(stream, replies.clone(), log.clone()));
            }
        });
        Self { url, seen }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// A client for this server with key `key` and fast retries (1 ms back-off, 4 attempts).
    pub fn client(&self, key: &str) -> Client {
        self.client_with(key, fast_retries())
    }

    pub fn client_with(&self, key: &str, retry: RetryPolicy) -> Client {
        Client::builder(
            Environment::Custom(self.url.parse().unwrap()),
            ApiKey::new(key),
        )
        .retry_policy(retry)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client")
    }
}

pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(4)
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(5))
}

/// Reads one request from `stream`, records it and answers with the reply scripted for the n-th
/// request (a connection that closes before sending one uses none).
async fn serve(mut stream: TcpStream, replies: Arc<Vec<Reply>>, log: Arc<Mutex<Vec<Seen>>>) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_string();
    let target = request_line.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
    let reply = {
        let mut log = log.lock().unwrap();
        log.push(Seen {
            method,
            target,
            headers,
        });
        replies[(log.len() - 1).min(replies.len() - 1)].clone()
    };

    match reply {
        Reply::HangUp => {}
        Reply::Stall(duration) => tokio::time::sleep(duration).await,
        Reply::Http {
            status,
            headers,
            body,
        } => {
            let mut response = format!("HTTP/1.1 {status} Scripted\r\nConnection: close\r\n");
            if status != 204 {
                response.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
            for (name, value) in &headers {
                response.push_str(&format!("{name}: {value}\r\n"));
            }
            response.push_str("\r\n");
            response.push_str(&body);
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    }
}
