//! The process dies mid-push (SIGKILL) or is asked to stop (SIGTERM): after
//! a restart nothing half-written is visible, interrupted uploads resume or
//! are cleanly forgotten, and earlier content is intact.

use std::time::Duration;

use berth_testkit::oci_http::*;
use bytes::Bytes;
use futures::SinkExt;
use reqwest::Method;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const MIB: usize = 1 << 20;

/// Streams `data` into an open request body one MiB at a time, pausing
/// between pieces so the server is mid-request for a while.
async fn trickle(conn: &mut TcpStream, data: &[u8]) {
    for piece in data.chunks(MIB) {
        conn.write_all(piece).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Writes the head of a request whose body will never be finished.
async fn open_request(host: &str, method: &str, target: &str, extra: &str, len: usize) -> TcpStream {
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {ADMIN_AUTHORIZATION}\r\nContent-Type: application/octet-stream\r\n{extra}Content-Length: {len}\r\n\r\n"
    );
    raw_send(host, head.as_bytes()).await
}

#[tokio::test]
async fn acknowledged_push_survives_kill9() {
    let (mut berth, reg) = start_registry(BIN);
    let image = reg.push_image("app", "v1").await;
    berth.kill9();
    berth.restart().expect("restart");
    reg.assert_healthy("app", "v1", &image).await;
}

#[tokio::test]
async fn kill9_mid_patch_then_restart() {
    let (mut berth, reg) = start_registry(BIN);
    let image = reg.push_image("app", "v1").await;
    let blob = Blob::random(8 * MIB);
    let location = reg.upload_location("app").await;
    let first = expect_status(reg.patch_chunk(&location, 0, &blob.bytes[..2 * MIB]).await, 202).await;
    let location = header(&first, "Location").expect("Location");

    let range = format!("Content-Range: {}-{}\r\n", 2 * MIB, 8 * MIB - 1);
    let target = reg.request_target(&location);
    let mut conn = open_request(&berth.host, "PATCH", &target, &range, 6 * MIB).await;
    trickle(&mut conn, &blob.bytes[2 * MIB..5 * MIB]).await;
    berth.kill9();
    drop(conn);
    berth.restart().expect("restart");

    expect_status(reg.ping().await, 200).await;
    assert_eq!(status(&reg.head_blob("app", &blob.digest).await), 404, "unfinished blob is visible");
    let state = reg.upload_status(&location).await;
    if status(&state) == 204 {
        let offset = upload_offset(&header(&state, "Range").expect("Range")) as usize;
        // A process crash loses no acknowledged byte (the kernel still has
        // them) and cannot invent bytes that never arrived.
        assert!((2 * MIB..=5 * MIB).contains(&offset), "upload resumes at {offset}");
        eprintln!("interrupted upload resumes at byte {offset}");
        let location = header(&state, "Location").expect("Location");
        expect_status(reg.patch_chunk(&location, offset as u64, &blob.bytes[offset..]).await, 202).await;
        expect_status(reg.finish_upload(&location, &blob.digest, &[], None).await, 201).await;
    } else {
        expect_error(state, &[404], &["BLOB_UPLOAD_UNKNOWN"]).await;
        eprintln!("interrupted upload was forgotten");
        expect_status(reg.upload_chunked("app", &blob, 3 * MIB).await, 201).await;
    }
    reg.assert_blob("app", &blob).await;
    reg.assert_healthy("app", "v1", &image).await;
}

#[tokio::test]
async fn kill9_mid_monolithic_put_leaves_no_blob() {
    let (mut berth, reg) = start_registry(BIN);
    let image = reg.push_image("app", "v1").await;
    let blob = Blob::random(8 * MIB);
    let location = reg.upload_location("app").await;
    let mut url = reg.url(&location);
    url.query_pairs_mut().append_pair("digest", &blob.digest);
    let target = reg.request_target(url.as_str());
    let mut conn = open_request(&berth.host, "PUT", &target, "", 8 * MIB).await;
    trickle(&mut conn, &blob.bytes[..3 * MIB]).await;
    berth.kill9();
    drop(conn);
    berth.restart().expect("restart");

    assert_eq!(status(&reg.head_blob("app", &blob.digest).await), 404);
    expect_error(reg.get_blob("app", &blob.digest).await, &[404], &["BLOB_UNKNOWN"]).await;
    // Leftovers of the dead upload do not get in the way of a fresh one.
    expect_status(reg.upload_monolithic("app", &blob).await, 201).await;
    reg.assert_blob("app", &blob).await;
    reg.assert_healthy("app", "v1", &image).await;
}

#[tokio::test]
async fn kill9_mid_blob_pull_then_restart() {
    let (mut berth, reg) = start_registry(BIN);
    let image = reg.push_image("app", "v1").await;
    let blob = Blob::random(16 * MIB);
    reg.push_blob("app", &blob).await;
    let path = format!("/v2/app/blobs/{}", blob.digest);
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: {ADMIN_AUTHORIZATION}\r\nConnection: close\r\n\r\n",
        berth.host
    );
    let conn = raw_send(&berth.host, req.as_bytes()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    berth.kill9();
    drop(conn);
    berth.restart().expect("restart");
    reg.assert_blob("app", &blob).await;
    reg.assert_healthy("app", "v1", &image).await;
}

/// SIGTERM while a PUT is still streaming in: the server stops taking new
/// work but lets the request finish, then exits with status 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_upload_finish() {
    let (mut berth, reg) = start_registry(BIN);
    let image = reg.push_image("app", "v1").await;
    let blob = Blob::random(4 * MIB);
    let location = reg.upload_location("app").await;
    let mut url = reg.url(&location);
    url.query_pairs_mut().append_pair("digest", &blob.digest);

    let (mut tx, rx) = futures::channel::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
    let put = reg.request(Method::PUT, url.as_str()).header("Content-Type", "application/octet-stream");
    let put = put.header("Content-Length", blob.bytes.len().to_string()).body(reqwest::Body::wrap_stream(rx));
    let in_flight = tokio::spawn(put.send());
    let mut pieces = blob.bytes.chunks(MIB);
    tx.send(Ok(Bytes::copy_from_slice(pieces.next().unwrap()))).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let pid = berth.pid().expect("pid");
    let stopping = tokio::task::spawn_blocking(move || {
        let code = berth.terminate().expect("SIGTERM");
        (berth, code)
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    for piece in pieces {
        tx.send(Ok(Bytes::copy_from_slice(piece))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(tx);

    let resp = in_flight.await.unwrap().expect("in-flight PUT was cut off by SIGTERM");
    expect_status(resp, 201).await;
    let Ok(stopped) = tokio::time::timeout(Duration::from_secs(30), stopping).await else {
        let _ = std::process::Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
        panic!("berth did not exit within 30 s of SIGTERM");
    };
    let (mut berth, code) = stopped.unwrap();
    assert_eq!(code, Some(0), "exit status after SIGTERM");
    berth.restart().expect("restart");
    reg.assert_blob("app", &blob).await;
    reg.assert_healthy("app", "v1", &image).await;
}
