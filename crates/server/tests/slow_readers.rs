//! Clients that ask for a large blob and never read it must not stall the
//! registry: while a hundred of them hang on one public 20 MB blob, another
//! client's blob downloads and uploads go through promptly, and the
//! server's memory stays bounded.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use berth_testkit::oci_http::*;
use berth_testkit::Berth;
use reqwest::Method;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const REPO: &str = "library/big";
/// More than the server's blocking threads (64 by default).
const STALLED: usize = 100;
const BOUND: Duration = Duration::from_secs(5);
/// Far above what a hundred bounded downloads hold, far below a hundred whole blobs.
const RSS_GROWTH_LIMIT_KIB: u64 = 400 * 1024;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("berth is running");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS line");
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("VmRSS value")
}

async fn anonymous_token(berth: &Berth) -> String {
    let anonymous = OciClient::anonymous(&berth.url);
    let path = format!("/service/token?service=berth-registry&scope=repository:{REPO}:pull");
    let resp = anonymous.request(Method::GET, &path).send().await.unwrap();
    let body: Value = expect_status(resp, 200).await.json().await.unwrap();
    body["token"].as_str().expect("token").to_owned()
}

/// A GET for the blob from 127.0.0.1 with a tiny receive buffer, never read.
async fn stalled_get(addr: SocketAddr, digest: &str, token: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)).unwrap();
    let mut stream = socket.connect(addr).await.expect("connect");
    let request =
        format!("GET /v2/{REPO}/blobs/{digest} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// Pulls and pushes from another address, each step within `BOUND`.
async fn other_client_is_served(berth: &Berth, other: &Blob, round: usize) {
    let http = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let auth = ("Authorization", ADMIN_AUTHORIZATION);

    let started = Instant::now();
    let get = http.get(berth.v2(&format!("{REPO}/blobs/{}", other.digest))).header(auth.0, auth.1).send();
    let get = tokio::time::timeout(BOUND, async { expect_status(get.await.unwrap(), 200).await.bytes().await }).await;
    let body = get.unwrap_or_else(|_| panic!("round {round}: a blob GET took more than {BOUND:?}")).unwrap();
    assert!(body[..] == other.bytes[..], "round {round}: wrong bytes");

    let upload = Blob::random(1024 * 1024);
    let push = async {
        let post = http.post(berth.v2(&format!("{REPO}/blobs/uploads/"))).header(auth.0, auth.1).send().await.unwrap();
        let location = header(&expect_status(post, 202).await, "Location").expect("Location");
        let mut url = reqwest::Url::parse(&berth.url).unwrap().join(&location).unwrap();
        url.query_pairs_mut().append_pair("digest", &upload.digest);
        let put = http.put(url).header(auth.0, auth.1).body(upload.bytes.clone()).send().await.unwrap();
        expect_status(put, 201).await;
    };
    tokio::time::timeout(BOUND, push)
        .await
        .unwrap_or_else(|_| panic!("round {round}: an upload took more than {BOUND:?}"));
    eprintln!("round {round}: GET and upload took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_read_a_large_blob_do_not_stall_others() {
    let (berth, admin) = start_registry(BIN);
    let pid = berth.pid().expect("pid");
    let big = Blob::random(20 * 1024 * 1024);
    let other = Blob::random(3 * 1024 * 1024);
    admin.push_blob(REPO, &big).await;
    admin.push_blob(REPO, &other).await;
    let token = anonymous_token(&berth).await;
    let addr: SocketAddr = berth.host.parse().unwrap();
    let before = rss_kib(pid);

    let mut stalled = Vec::with_capacity(STALLED);
    for _ in 0..STALLED {
        stalled.push(stalled_get(addr, &big.digest, &token).await);
    }
    // Let the server start all hundred responses and fill their buffers.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for round in 0..3 {
        other_client_is_served(&berth, &other, round).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let growth = rss_kib(pid).saturating_sub(before);
    eprintln!("berth RSS grew by {growth} KiB with {STALLED} stalled downloads");
    assert!(growth < RSS_GROWTH_LIMIT_KIB, "RSS grew by {growth} KiB (limit {RSS_GROWTH_LIMIT_KIB} KiB)");

    drop(stalled);
    admin.assert_blob(REPO, &big).await;
}
