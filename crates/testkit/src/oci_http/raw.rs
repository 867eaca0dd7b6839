//! Raw TCP requests, for input no well-behaved client would send.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response read off a raw socket. `body` is as sent (not de-chunked).
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

/// Opens a TCP connection to `host` and writes `bytes` (a request, possibly
/// incomplete); the caller decides whether to finish, read or drop it.
///
/// A failed write is ignored: a server may rightly answer and close before
/// reading everything, and what it answered is still there to read.
pub async fn raw_send(host: &str, bytes: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(host).await.expect("connect");
    let _ = s.write_all(bytes).await;
    s
}

/// Reads whatever the server sends until it closes the connection (or 10 s
/// pass) and parses it; `None` if the server closed without answering.
pub async fn raw_read(mut s: TcpStream) -> Option<RawResponse> {
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some(RawResponse { status, head, body: buf[split + 4..].to_vec() })
}

/// Sends a complete raw request (which should say `Connection: close`) and reads the answer.
pub async fn raw_exchange(host: &str, bytes: &[u8]) -> Option<RawResponse> {
    raw_read(raw_send(host, bytes).await).await
}
