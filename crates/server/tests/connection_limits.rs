//! Limits that keep misbehaving clients from tying the server up: request
//! headers must arrive in time, and shutdown does not wait forever for a
//! request that never ends.

use std::time::{Duration, Instant};

use berth_testkit::oci_http::*;
use berth_testkit::Berth;
use bytes::Bytes;
use futures::SinkExt;
use reqwest::Method;
use tokio::io::AsyncReadExt;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

#[tokio::test]
async fn stalled_request_headers_are_cut_off() {
    let (_berth, reg) = start_registry(BIN);
    let image = reg.push_image("app", "v1").await;
    let host = reg.url("/").host_str().map(str::to_owned).unwrap();
    let port = reg.url("/").port().unwrap();
    // Headers that never finish: no blank line ever follows.
    let mut stalled = raw_send(&format!("{host}:{port}"), b"GET /v2/ HTTP/1.1\r\nHost: x\r\n").await;
    let started = Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), stalled.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "connection with unfinished headers still open after 60 s");
    assert!(
        started.elapsed() >= Duration::from_secs(20),
        "closed after {:?}, before the header timeout",
        started.elapsed()
    );
    reg.assert_healthy("app", "v1", &image).await;
}

#[tokio::test]
async fn a_stalled_token_request_body_is_answered_and_dropped() {
    let (berth, reg) = start_registry(BIN);
    // A form announced as 100 bytes of which 10 ever arrive.
    let head = format!(
        "POST /service/token HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 100\r\n\r\ngrant_type",
        berth.host
    );
    let mut stalled = raw_send(&berth.host, head.as_bytes()).await;
    let started = Instant::now();
    let mut answer = Vec::new();
    let reason = "did not arrive within 30 seconds";
    while !String::from_utf8_lossy(&answer).contains(reason) {
        let mut chunk = [0u8; 4096];
        let read = tokio::time::timeout(Duration::from_secs(60), stalled.read(&mut chunk)).await;
        let n = read.expect("a stalled token request held its connection for 60 s without an answer").unwrap();
        assert!(n > 0, "closed without the reason: {}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&chunk[..n]);
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        started.elapsed() >= Duration::from_secs(20),
        "answered after {:?}, before the deadline",
        started.elapsed()
    );
    expect_status(reg.ping().await, 200).await;
}

#[tokio::test]
async fn shutdown_stops_waiting_after_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("berth.toml");
    std::fs::write(&config, "shutdown_grace_seconds = 1\n").unwrap();
    let mut berth = Berth::start_with(BIN, &["--config", config.to_str().unwrap()]).expect("berth starts");
    let reg = OciClient::new(&berth.url);
    let image = reg.push_image("app", "v1").await;

    // An upload whose body never ends.
    let location = reg.upload_location("app").await;
    let (mut tx, rx) = futures::channel::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
    let patch = reg.request(Method::PATCH, &location).body(reqwest::Body::wrap_stream(rx));
    let _in_flight = tokio::spawn(patch.send());
    tx.send(Ok(Bytes::from_static(b"first bytes"))).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    let stopping = tokio::task::spawn_blocking(move || {
        let code = berth.terminate().expect("SIGTERM");
        (berth, code)
    });
    let (mut berth, code) = tokio::time::timeout(Duration::from_secs(20), stopping)
        .await
        .expect("berth still running 20 s after SIGTERM with a 1 s grace period")
        .unwrap();
    assert_eq!(code, Some(0), "exit status after SIGTERM");
    assert!(started.elapsed() >= Duration::from_secs(1), "exited before the grace period ended");
    drop(tx);

    berth.restart().expect("restart");
    reg.assert_healthy("app", "v1", &image).await;
}
