//! Clients that hold transfers open, trickling upload bodies or leaving
//! downloads unread, are limited per client address and in all with a clear
//! 429, and cannot keep other clients from pulling and pushing.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use berth_testkit::oci_http::*;
use berth_testkit::Berth;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

/// Uploads trickled from one address.
const TRICKLERS: usize = 100;
/// The default limit on one client's transfers.
const PER_CLIENT: usize = 32;

/// Another client's address: any 127.x.y.z reaches the loopback server.
fn other_address() -> IpAddr {
    IpAddr::from([127, 0, 0, 2])
}

/// Starts a chunked `PATCH` to `location` and sends a first one-byte chunk.
async fn start_trickle(reg: &OciClient, host: &str, location: &str) -> TcpStream {
    let head = format!(
        "PATCH {} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {ADMIN_AUTHORIZATION}\r\n\
         Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n",
        reg.request_target(location)
    );
    raw_send(host, head.as_bytes()).await
}

/// The response the server sent on `s` within `wait`, if it sent anything;
/// header names in lower case.
async fn answer_within(s: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut received = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    let mut chunk = [0u8; 4096];
    while !is_complete(&received) {
        match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => received.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    (!received.is_empty()).then(|| String::from_utf8_lossy(&received).to_ascii_lowercase())
}

/// Whether `received` holds a whole response with a `Content-Length` body.
fn is_complete(received: &[u8]) -> bool {
    let text = String::from_utf8_lossy(received).to_ascii_lowercase();
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return false };
    let length = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok());
    length.is_some_and(|n: usize| body.len() >= n)
}

/// Starts `n` uploads from this address, each a chunked `PATCH` that has
/// sent one byte; returns the answers of those refused and the streams of
/// those the server went on reading.
async fn trickle(berth: &Berth, reg: &OciClient, n: usize) -> (Vec<String>, Vec<TcpStream>) {
    let mut locations = Vec::new();
    for _ in 0..n {
        locations.push(reg.upload_location("app").await);
    }
    let mut streams = Vec::new();
    for location in &locations {
        streams.push(start_trickle(reg, &berth.host, location).await);
    }
    let answers = futures::future::join_all(streams.iter_mut().map(|s| answer_within(s, Duration::from_secs(3)))).await;
    let (refused, trickling): (Vec<_>, Vec<_>) = answers.into_iter().zip(streams).partition(|(a, _)| a.is_some());
    (refused.into_iter().filter_map(|(a, _)| a).collect(), trickling.into_iter().map(|(_, s)| s).collect())
}

/// Times a pull of `layer` and a chunked push of 3 MiB by `other`.
async fn pull_and_push(other: &OciClient, layer: &Blob) -> (Duration, Duration) {
    let started = Instant::now();
    other.assert_blob("app", layer).await;
    let pulled = started.elapsed();
    let pushed_blob = Blob::random(3 << 20);
    let started = Instant::now();
    expect_status(other.upload_chunked("app", &pushed_blob, 1 << 20).await, 201).await;
    let pushed = started.elapsed();
    other.assert_blob("app", &pushed_blob).await;
    (pulled, pushed)
}

/// Asserts a 429 refusal naming the per-client limit.
async fn assert_refused_per_client(resp: reqwest::Response, limit: usize) {
    assert_eq!(header(&resp, "Retry-After").as_deref(), Some("10"));
    let errors = expect_error(resp, &[429], &["TOOMANYREQUESTS"]).await;
    let message = &errors.errors[0].message;
    assert!(message.contains(&format!("this client already has {limit} blob downloads or uploads")), "{message}");
}

#[tokio::test]
async fn trickling_uploads_are_limited_per_client_and_others_get_through() {
    let (berth, reg) = start_registry(BIN);
    let layer = Blob::random(1 << 20);
    reg.push_blob("app", &layer).await;
    let trickle_started = Instant::now();
    let (refused, trickling) = trickle(&berth, &reg, TRICKLERS).await;
    assert_eq!(trickling.len(), PER_CLIENT, "uploads one client may trickle at once");
    for answer in &refused {
        assert!(answer.starts_with("http/1.1 429"), "{answer}");
        assert!(answer.contains("\r\nretry-after: 10\r\n"), "{answer}");
        assert!(answer.contains(r#""code":"toomanyrequests""#), "{answer}");
        let message = format!("this client already has {PER_CLIENT} blob downloads or uploads");
        assert!(answer.contains(&message), "{answer}");
    }
    // That address may start no transfer now, but other requests go on.
    assert_refused_per_client(reg.get_blob("app", &layer.digest).await, PER_CLIENT).await;
    expect_status(reg.ping().await, 200).await;

    // Another client pulls and pushes as if nothing were going on.
    let other = OciClient::admin_from(&berth.url, other_address());
    let (pulled, pushed) = pull_and_push(&other, &layer).await;
    eprintln!(
        "{} of {TRICKLERS} trickled uploads held, {} refused; the other client pulled 1 MiB in {pulled:.2?} \
         and pushed 3 MiB (POST, 3 PATCH, PUT) in {pushed:.2?}",
        trickling.len(),
        refused.len()
    );
    assert!(pulled < Duration::from_secs(5), "the other client's pull took {pulled:?}");
    assert!(pushed < Duration::from_secs(5), "the other client's push took {pushed:?}");

    // One more byte 20 s after the first, then each trickled upload ends
    // and is accepted whole.
    tokio::time::sleep_until((trickle_started + Duration::from_secs(20)).into()).await;
    let mut trickling = trickling;
    for s in &mut trickling {
        s.write_all(b"1\r\nb\r\n0\r\n\r\n").await.expect("a trickled upload was cut off");
    }
    for s in &mut trickling {
        let answer = answer_within(s, Duration::from_secs(10)).await.expect("no answer to a finished upload");
        assert!(answer.starts_with("http/1.1 202"), "{answer}");
        assert!(answer.contains("\r\nrange: 0-1\r\n"), "{answer}");
    }
    assert!(trickle_started.elapsed() < Duration::from_secs(30), "uploads were held over 30 s");
    // The finished uploads freed their client's transfers.
    reg.assert_blob("app", &layer).await;
}

#[tokio::test]
async fn more_trickling_uploads_than_disk_threads_starve_no_one() {
    // Without the per-client limit, one address trickles more uploads than
    // there are disk threads (`max_blocking_threads`, 64).
    let berth = Berth::start_with_config(BIN, "[transfers]\nper_client = 200\n").expect("berth starts");
    let reg = OciClient::new(&berth.url);
    let layer = Blob::random(1 << 20);
    reg.push_blob("app", &layer).await;
    let (refused, trickling) = trickle(&berth, &reg, TRICKLERS).await;
    assert!(refused.is_empty(), "refused under a limit of 200: {refused:?}");

    let other = OciClient::admin_from(&berth.url, other_address());
    let (pulled, pushed) = pull_and_push(&other, &layer).await;
    eprintln!(
        "with {} uploads trickling, another client pulled in {pulled:.2?}, pushed in {pushed:.2?}",
        trickling.len()
    );
    assert!(pulled < Duration::from_secs(5), "the other client's pull took {pulled:?}");
    assert!(pushed < Duration::from_secs(5), "the other client's push took {pushed:?}");
}

#[tokio::test]
async fn unread_downloads_hold_their_transfer_and_the_total_is_capped() {
    let berth = Berth::start_with_config(BIN, "[transfers]\nper_client = 2\ntotal = 3\n").expect("berth starts");
    let reg = OciClient::new(&berth.url);
    let other = OciClient::admin_from(&berth.url, other_address());
    // Far more than socket buffers hold, so an unread download stays in progress.
    let big = Blob::random(16 << 20);
    reg.push_blob("app", &big).await;

    let mut unread = Vec::new();
    for _ in 0..2 {
        unread.push(expect_status(reg.get_blob("app", &big.digest).await, 200).await);
    }
    assert_refused_per_client(reg.get_blob("app", &big.digest).await, 2).await;
    // An upload body is a transfer too.
    let location = reg.upload_location("app").await;
    assert_refused_per_client(reg.patch_chunk(&location, 0, b"data").await, 2).await;

    let _third = expect_status(other.get_blob("app", &big.digest).await, 200).await;
    let resp = other.get_blob("app", &big.digest).await;
    assert_eq!(header(&resp, "Retry-After").as_deref(), Some("10"));
    let errors = expect_error(resp, &[429], &["TOOMANYREQUESTS"]).await;
    let message = &errors.errors[0].message;
    assert!(message.contains("the registry already has 3 blob downloads or uploads"), "{message}");

    // A download given up frees its transfer.
    drop(unread.pop());
    let started = Instant::now();
    loop {
        let resp = reg.get_blob("app", &big.digest).await;
        if resp.status() == 200 {
            let got = resp.bytes().await.expect("blob body");
            assert!(got[..] == big.bytes[..], "content differs");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "a dropped download still counted after 10 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
