//! Limits that keep misbehaving clients from tying the server up: request
//! headers must arrive in time, connections that carry no request are
//! closed, open connections are capped, and shutdown does not wait forever
//! for a request that never ends.

use std::time::{Duration, Instant};

use berth_testkit::oci_http::*;
use berth_testkit::Berth;
use bytes::Bytes;
use futures::SinkExt;
use reqwest::Method;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

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
    let mut berth = Berth::start_with_config(BIN, "shutdown_grace_seconds = 1\n").expect("berth starts");
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

/// What an HTTP/2 client sends first.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// An empty SETTINGS frame: length 0, type 4, no flags, stream 0.
const EMPTY_SETTINGS: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];

/// Reads from `s` until the server closes it, for at most `limit`; `None`
/// if it is still open then.
async fn closed_within(mut s: TcpStream, limit: Duration) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    // A reset ends the connection as well as a close does.
    tokio::time::timeout(limit, s.read_to_end(&mut received)).await.ok().map(|_| received)
}

#[tokio::test]
async fn connections_without_a_request_are_closed_and_the_server_keeps_serving() {
    let berth = Berth::start_with_config(BIN, "[connections]\nrequest_header_seconds = 3\n").expect("berth starts");
    let reg = OciClient::new(&berth.url);
    let kinds: [(&str, Vec<u8>); 3] = [
        ("silent", vec![]),
        ("preface only", PREFACE.to_vec()),
        ("preface and SETTINGS", [PREFACE, EMPTY_SETTINGS].concat()),
    ];
    let mut watchers = Vec::new();
    for i in 0..200 {
        let (kind, first_bytes) = &kinds[[0, 0, 1, 2][i % 4]];
        let kind: &'static str = kind;
        let s = raw_send(&berth.host, first_bytes).await;
        let opened = Instant::now();
        watchers.push(tokio::spawn(async move {
            let closed = closed_within(s, Duration::from_secs(60)).await;
            (kind, closed.map(|_| opened.elapsed()))
        }));
    }

    // Others are served while those connections are open.
    let started = Instant::now();
    expect_status(reg.ping().await, 200).await;
    let answered = started.elapsed();
    assert!(answered < Duration::from_secs(5), "answered after {answered:?} with 200 idle connections open");
    let image = reg.push_image("app", "v1").await;

    let mut lifetimes: Vec<(&str, Duration)> = Vec::new();
    for w in watchers {
        let (kind, lifetime) = w.await.unwrap();
        let lifetime = lifetime.unwrap_or_else(|| panic!("a {kind} connection was still open after 60 s"));
        assert!(
            lifetime >= Duration::from_secs(2),
            "a {kind} connection closed after {lifetime:?}, before its timeout"
        );
        assert!(lifetime <= Duration::from_secs(20), "a {kind} connection stayed {lifetime:?} with a 3 s timeout");
        lifetimes.push((kind, lifetime));
    }
    for (kind, _) in &kinds {
        let of_kind = lifetimes.iter().filter(|(k, _)| k == kind).map(|(_, d)| *d);
        let (min, max) = of_kind.fold((Duration::MAX, Duration::ZERO), |(lo, hi), d| (lo.min(d), hi.max(d)));
        eprintln!("{kind} connections closed after {min:.1?} to {max:.1?}; ping answered in {answered:.1?}");
    }
    reg.assert_healthy("app", "v1", &image).await;
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    // Headers have the default 30 s, so a close within seconds is the idle timeout's.
    let berth = Berth::start_with_config(BIN, "[connections]\nidle_seconds = 2\n").expect("berth starts");

    let s = raw_send(&berth.host, b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let started = Instant::now();
    let received = closed_within(s, Duration::from_secs(60)).await.expect("an idle HTTP/1 connection open after 60 s");
    let lived = started.elapsed();
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 401"), "{}", String::from_utf8_lossy(&received));
    assert!(lived >= Duration::from_secs(1), "closed after {lived:?}, not kept alive");
    assert!(lived <= Duration::from_secs(15), "an idle HTTP/1 connection stayed {lived:?} with a 2 s idle timeout");

    let tcp = TcpStream::connect(&berth.host).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.expect("HTTP/2 handshake");
    let ended = tokio::spawn(async move {
        let outcome = connection.await;
        (outcome.map_err(|e| e.to_string()), Instant::now())
    });
    let mut client = client.ready().await.unwrap();
    let request = http::Request::get(format!("{}/v2/", berth.url)).body(()).unwrap();
    let (response, _) = client.send_request(request, true).unwrap();
    assert_eq!(response.await.unwrap().status(), 401);
    let answered = Instant::now();
    let (outcome, at) = tokio::time::timeout(Duration::from_secs(60), ended)
        .await
        .expect("an idle HTTP/2 connection open after 60 s")
        .unwrap();
    let idle = at - answered;
    assert!(outcome.is_ok(), "the HTTP/2 connection ended badly: {outcome:?}");
    assert!(idle >= Duration::from_secs(1), "closed {idle:?} after the answer, before the idle timeout");
    assert!(idle <= Duration::from_secs(15), "an idle HTTP/2 connection stayed {idle:?} with a 2 s idle timeout");
    eprintln!("idle connections closed: HTTP/1 {lived:.1?} after connecting, HTTP/2 {idle:.1?} after its answer");
    drop(client);
}

#[tokio::test]
async fn at_the_connection_cap_new_clients_wait_until_others_close() {
    let berth = Berth::start_with_config(BIN, "[connections]\nmax_open = 4\n").expect("berth starts");
    let reg = OciClient::new(&berth.url);
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(raw_send(&berth.host, b"").await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let started = Instant::now();
    let waiting = tokio::spawn({
        let reg = reg.clone();
        async move { reg.ping().await.status().as_u16() }
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!waiting.is_finished(), "a fifth connection was served under a cap of 4");

    drop(held);
    let status = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("still waiting 10 s after the held connections closed")
        .unwrap();
    assert_eq!(status, 200);
    eprintln!("the fifth client was answered after {:.1?}", started.elapsed());
    // Each request of a push opens its own connection: the server goes on serving.
    let image = reg.push_image("app", "v1").await;
    reg.assert_healthy("app", "v1", &image).await;
}
