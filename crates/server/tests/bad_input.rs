//! Hostile and broken input: malformed names, digests, tags, ranges and
//! manifests, truncated and abandoned uploads, oversized bodies and garbage
//! on the wire. Each test ends by checking the server still answers and
//! still serves what was pushed before, byte for byte.

use std::time::Duration;

use berth_testkit::oci_http::*;
use berth_testkit::Berth;
use reqwest::Method;
use serde_json::json;
use tokio::io::AsyncWriteExt;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

/// A registry holding `app:v1`, the content every test re-checks at the end.
async fn seeded() -> (Berth, OciClient, Image) {
    let (berth, reg) = start_registry(BIN);
    let image = reg.push_image("app", "v1").await;
    (berth, reg, image)
}

async fn catalog(reg: &OciClient) -> serde_json::Value {
    let resp = reg.request(Method::GET, "/v2/_catalog").send().await.unwrap();
    expect_status(resp, 200).await.json::<serde_json::Value>().await.unwrap()["repositories"].clone()
}

#[tokio::test]
async fn malformed_names_refused() {
    let (_berth, reg, image) = seeded().await;
    let long = "a".repeat(300);
    for name in ["App", "UPPER/case", long.as_str(), "bad_-name", "trailing-", "x/Y"] {
        let post = reg.start_upload(name).await;
        expect_error(post, &[400], &["NAME_INVALID"]).await;
        let put = reg.push_manifest(name, "v1", &image.manifest).await;
        expect_error(put, &[400], &["NAME_INVALID"]).await;
        let get = reg.get_blob(name, &image.layer.digest).await;
        let message = expect_error(get, &[400], &["NAME_INVALID"]).await.errors.remove(0).message;
        let explained = message.contains(&format!("{name:?}")) || message.contains("the limit is 255");
        assert!(explained, "the refusal does not say what is wrong with {name:?}: {message}");
    }
    assert_eq!(catalog(&reg).await, json!(["library/app"]));
    reg.assert_healthy("app", "v1", &image).await;
}

/// `..` segments sent verbatim (a URL library would normalize them away).
#[tokio::test]
async fn dot_dot_names_refused() {
    let (berth, reg, image) = seeded().await;
    for path in
        ["/v2/app/../../../etc/blobs/uploads/", "/v2/app/%2e%2e/x/blobs/uploads/", "/v2/../v2/app/blobs/uploads/"]
    {
        let req =
            format!("POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: {ADMIN_AUTHORIZATION}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", berth.host);
        let resp = raw_exchange(&berth.host, req.as_bytes()).await.expect("an answer");
        assert!(matches!(resp.status, 400 | 404), "{path}: {}", resp.head);
    }
    assert_eq!(catalog(&reg).await, json!(["library/app"]));
    reg.assert_healthy("app", "v1", &image).await;
}

#[tokio::test]
async fn malformed_digests_refused() {
    let (_berth, reg, image) = seeded().await;
    let upper = image.layer.digest.to_uppercase().replacen("SHA256", "sha256", 1);
    let not_hex = format!("sha256:{}", "g".repeat(64));
    let blob = Blob::random(64);
    for digest in ["md5:d41d8cd98f00b204e9800998ecf8427e", "sha256:abc", &upper, "sha256", &not_hex] {
        // Reading through a malformed digest finds nothing.
        expect_error(reg.get_blob("app", digest).await, &[404], &["BLOB_UNKNOWN"]).await;
        let liar = Blob { bytes: blob.bytes.clone(), digest: digest.to_owned() };
        expect_error(reg.upload_monolithic("app", &liar).await, &[400], &["DIGEST_INVALID", "UNSUPPORTED"]).await;
        expect_error(reg.upload_post_put("app", &liar).await, &[400], &["DIGEST_INVALID", "UNSUPPORTED"]).await;
    }
    assert_eq!(status(&reg.head_blob("app", &blob.digest).await), 404);
    reg.assert_healthy("app", "v1", &image).await;
}

#[tokio::test]
async fn bad_tags_refused() {
    let (_berth, reg, image) = seeded().await;
    let long = "t".repeat(129);
    for tag in [".hidden", "-dash", long.as_str(), "tag!", "t%20x", "caf%C3%A9"] {
        let resp = reg.push_manifest("app", tag, &image.manifest).await;
        expect_error(resp, &[400], &["TAG_INVALID"]).await;
    }
    let resp = reg.request(Method::GET, "/v2/app/tags/list").send().await.unwrap();
    let body: serde_json::Value = expect_status(resp, 200).await.json().await.unwrap();
    assert_eq!(body["tags"], json!(["v1"]));
    reg.assert_healthy("app", "v1", &image).await;
}

/// RFC 9110 lets a server ignore a Range it cannot use: other units and
/// several ranges get the whole blob (200). A malformed byte range is refused
/// with 416 `RANGE_INVALID` and a message showing the accepted forms.
#[tokio::test]
async fn malformed_range_headers() {
    let (_berth, reg, image) = seeded().await;
    let path = format!("/v2/app/blobs/{}", image.layer.digest);
    for range in ["items=0-5", "bytes=0-1,5-6"] {
        let resp = reg.request(Method::GET, &path).header("Range", range).send().await.unwrap();
        let whole = expect_status(resp, 200).await.bytes().await.unwrap();
        assert!(whole[..] == image.layer.bytes[..], "{range}: not the whole blob");
    }
    for range in ["bytes=abc", "bytes=5-2", "bytes=", "bytes=--1", "bytes=99999999999999999999-"] {
        let resp = reg.request(Method::GET, &path).header("Range", range).send().await.unwrap();
        let message = expect_error(resp, &[416], &["RANGE_INVALID"]).await.errors.remove(0).message;
        assert!(message.contains("bytes=<start>-<end>"), "{range}: unhelpful {message:?}");
    }
    reg.assert_healthy("app", "v1", &image).await;
}

#[tokio::test]
async fn malformed_content_range_leaves_upload_untouched() {
    let (_berth, reg, image) = seeded().await;
    let blob = Blob::random(300);
    let location = reg.upload_location("app").await;
    expect_status(reg.patch_chunk(&location, 0, &blob.bytes[..100]).await, 202).await;
    let body = blob.bytes[100..200].to_vec();
    let cases = [
        ("abc", 416, "RANGE_INVALID"),
        ("200-100", 416, "RANGE_INVALID"),
        ("100-", 416, "RANGE_INVALID"),
        ("-99", 416, "RANGE_INVALID"),
        ("18446744073709551615-18446744073709551616", 416, "RANGE_INVALID"),
        // Well formed, but not the 100 bytes sent.
        ("100-299", 400, "SIZE_INVALID"),
        ("100-150", 400, "SIZE_INVALID"),
    ];
    for (range, want, code) in cases {
        let req = reg.request(Method::PATCH, &location).header("Content-Range", range);
        let resp = req.header("Content-Type", "application/octet-stream").body(body.clone()).send().await.unwrap();
        expect_error(resp, &[want], &[code]).await;
        let state = expect_status(reg.upload_status(&location).await, 204).await;
        assert_eq!(header(&state, "Range").as_deref(), Some("0-99"), "after Content-Range {range}");
    }
    expect_status(reg.patch_chunk(&location, 100, &blob.bytes[100..]).await, 202).await;
    expect_status(reg.finish_upload(&location, &blob.digest, &[], None).await, 201).await;
    reg.assert_blob("app", &blob).await;
    reg.assert_healthy("app", "v1", &image).await;
}

#[tokio::test]
async fn malformed_manifests_refused() {
    let (_berth, reg, image) = seeded().await;
    let (config, layer) = (image.config.descriptor(OCI_CONFIG), image.layer.descriptor(OCI_LAYER));
    let good = image_manifest(&config, std::slice::from_ref(&layer));
    let with = |key: &str, value: serde_json::Value| {
        let mut v = good.clone();
        v[key] = value;
        serde_json::to_vec(&v).unwrap()
    };
    let without = |key: &str| {
        let mut v = good.clone();
        v.as_object_mut().unwrap().remove(key);
        serde_json::to_vec(&v).unwrap()
    };
    let mut bad_digest = layer.clone();
    bad_digest["digest"] = "sha256:zzz".into();
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("garbage", OCI_MANIFEST, b"not json at all \x00\xff".to_vec()),
        ("truncated", OCI_MANIFEST, serde_json::to_vec(&good).unwrap()[..40].to_vec()),
        ("array", OCI_MANIFEST, b"[]".to_vec()),
        ("schemaVersion as string", OCI_MANIFEST, with("schemaVersion", json!("2"))),
        ("schemaVersion 3", OCI_MANIFEST, with("schemaVersion", json!(3))),
        ("layers as object", OCI_MANIFEST, with("layers", json!({}))),
        ("config as string", OCI_MANIFEST, with("config", json!("sha256:abc"))),
        (
            "negative size",
            OCI_MANIFEST,
            with("layers", json!([{"mediaType": OCI_LAYER, "digest": image.layer.digest, "size": -1}])),
        ),
        ("bad descriptor digest", OCI_MANIFEST, with("layers", json!([bad_digest]))),
        ("missing config", OCI_MANIFEST, without("config")),
        ("mediaType says index", OCI_MANIFEST, with("mediaType", json!(OCI_INDEX))),
        ("mediaType says docker", OCI_MANIFEST, with("mediaType", json!(DOCKER_MANIFEST))),
        (
            "index without manifests",
            OCI_INDEX,
            serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": "none"})).unwrap(),
        ),
    ];
    for (what, content_type, bytes) in cases {
        let resp = reg.push_manifest("app", "bad", &Manifest::raw(content_type, bytes)).await;
        let errors = expect_error(resp, &[400], &["MANIFEST_INVALID"]).await;
        assert!(!errors.errors[0].message.is_empty(), "{what}: no message");
    }
    // A Content-Type that contradicts the body's mediaType.
    let contradicted = reg
        .push_manifest("app", "bad", &Manifest::raw("application/x-unknown", serde_json::to_vec(&good).unwrap()))
        .await;
    let message = expect_error(contradicted, &[400], &["MANIFEST_INVALID"]).await.errors.remove(0).message;
    assert!(message.contains("differs from Content-Type"), "{message}");
    // A media type Berth does not know at all.
    let mut unknown_type = good.clone();
    unknown_type["mediaType"] = json!("application/x-unknown");
    let unknown = reg
        .push_manifest(
            "app",
            "bad",
            &Manifest::raw("application/x-unknown", serde_json::to_vec(&unknown_type).unwrap()),
        )
        .await;
    let message = expect_error(unknown, &[400], &["UNSUPPORTED"]).await.errors.remove(0).message;
    assert!(message.contains("application/x-unknown"), "{message}");
    assert_eq!(status(&reg.fetch_manifest(Method::GET, "app", "bad", &["*/*"]).await), 404);
    reg.assert_healthy("app", "v1", &image).await;
}

/// Claiming an existing blob's digest for other bytes must not replace it.
#[tokio::test]
async fn wrong_digest_on_finish_keeps_stored_content() {
    let (_berth, reg, image) = seeded().await;
    let impostor = Blob { bytes: random_bytes(image.layer.bytes.len()), digest: image.layer.digest.clone() };
    expect_error(reg.upload_chunked("app", &impostor, 1000).await, &[400], &["DIGEST_INVALID"]).await;
    expect_error(reg.upload_monolithic("app", &impostor).await, &[400], &["DIGEST_INVALID"]).await;
    let real = Blob::new(impostor.bytes.clone());
    assert_eq!(status(&reg.head_blob("app", &real.digest).await), 404);
    reg.assert_healthy("app", "v1", &image).await;
}

/// How many bytes an upload holds, from its status. An empty upload reports
/// `0-0`; the tests below never leave exactly one byte, so that means zero.
async fn stored(reg: &OciClient, location: &str) -> u64 {
    let resp = expect_status(reg.upload_status(location).await, 204).await;
    let range = header(&resp, "Range").expect("Range");
    if range == "0-0" {
        0
    } else {
        upload_offset(&range)
    }
}

/// Finishes an upload from wherever the server says it stands.
async fn resume_and_finish(reg: &OciClient, location: &str, blob: &Blob, sent: u64) {
    let offset = stored(reg, location).await;
    assert!(offset <= sent, "server claims {offset} bytes but only {sent} arrived");
    eprintln!("{sent} bytes sent before the cut, {offset} kept");
    expect_status(reg.patch_chunk(location, offset, &blob.bytes[offset as usize..]).await, 202).await;
    expect_status(reg.finish_upload(location, &blob.digest, &[], None).await, 201).await;
    reg.assert_blob("app", blob).await;
}

#[tokio::test]
async fn truncated_patch_then_resume() {
    let (berth, reg, image) = seeded().await;
    let blob = Blob::random(100_000);
    let location = reg.upload_location("app").await;
    let head = format!(
        "PATCH {} HTTP/1.1\r\nHost: {}\r\nAuthorization: {ADMIN_AUTHORIZATION}\r\nContent-Type: application/octet-stream\r\nContent-Range: 0-99999\r\nContent-Length: 100000\r\n\r\n",
        reg.request_target(&location),
        berth.host
    );
    let mut conn = raw_send(&berth.host, head.as_bytes()).await;
    conn.write_all(&blob.bytes[..30_000]).await.unwrap();
    drop(conn);
    tokio::time::sleep(Duration::from_millis(300)).await;
    resume_and_finish(&reg, &location, &blob, 30_000).await;
    reg.assert_healthy("app", "v1", &image).await;
}

#[tokio::test]
async fn truncated_monolithic_put_stores_nothing() {
    let (berth, reg, image) = seeded().await;
    let blob = Blob::random(100_000);
    let location = reg.upload_location("app").await;
    let mut url = reg.url(&location);
    url.query_pairs_mut().append_pair("digest", &blob.digest);
    let head = format!(
        "PUT {} HTTP/1.1\r\nHost: {}\r\nAuthorization: {ADMIN_AUTHORIZATION}\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n",
        reg.request_target(url.as_str()),
        berth.host
    );
    let mut conn = raw_send(&berth.host, head.as_bytes()).await;
    conn.write_all(&blob.bytes[..30_000]).await.unwrap();
    drop(conn);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(status(&reg.head_blob("app", &blob.digest).await), 404);
    reg.assert_healthy("app", "v1", &image).await;
}

/// Docker-style streamed PATCH (chunked encoding, no Content-Range) cut off
/// mid-body; the client asks where the upload stands and carries on.
#[tokio::test]
async fn client_disconnect_mid_patch_then_resume() {
    let (berth, reg, image) = seeded().await;
    let blob = Blob::random(200_000);
    let location = reg.upload_location("app").await;
    let head = format!(
        "PATCH {} HTTP/1.1\r\nHost: {}\r\nAuthorization: {ADMIN_AUTHORIZATION}\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
        reg.request_target(&location),
        berth.host
    );
    let mut conn = raw_send(&berth.host, head.as_bytes()).await;
    for piece in blob.bytes[..64 * 1024].chunks(8 * 1024) {
        conn.write_all(format!("{:x}\r\n", piece.len()).as_bytes()).await.unwrap();
        conn.write_all(piece).await.unwrap();
        conn.write_all(b"\r\n").await.unwrap();
    }
    conn.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(conn);
    tokio::time::sleep(Duration::from_millis(300)).await;
    resume_and_finish(&reg, &location, &blob, 64 * 1024).await;
    reg.assert_healthy("app", "v1", &image).await;
}

/// A 64 MiB manifest: refused (or the connection cut once the limit is
/// passed), never stored, and the server survives.
#[tokio::test]
async fn huge_manifest_body_refused() {
    let (_berth, reg, image) = seeded().await;
    let huge = padded_manifest(&image, 64 << 20);
    expect_too_large(reg.try_push_manifest("app", "huge", &huge).await).await;
    assert_eq!(status(&reg.fetch_manifest(Method::GET, "app", "huge", &["*/*"]).await), 404);
    reg.assert_healthy("app", "v1", &image).await;
}

#[tokio::test]
async fn unsupported_methods_and_paths() {
    let (_berth, reg, image) = seeded().await;
    let blob_path = format!("/v2/app/blobs/{}", image.layer.digest);
    let brew = Method::from_bytes(b"BREW").unwrap();
    let cases = [
        (Method::DELETE, "/v2/", 405, "UNSUPPORTED"),
        (Method::PUT, "/v2/", 405, "UNSUPPORTED"),
        (Method::POST, "/v2/app/manifests/v1", 405, "UNSUPPORTED"),
        (Method::PATCH, blob_path.as_str(), 405, "UNSUPPORTED"),
        (Method::PUT, blob_path.as_str(), 405, "UNSUPPORTED"),
        (brew.clone(), "/v2/", 405, "UNSUPPORTED"),
        (brew, "/v2/app/manifests/v1", 405, "UNSUPPORTED"),
        (Method::GET, "/v2/app/unknown-endpoint", 404, "NOT_FOUND"),
        (Method::GET, "/v3/", 404, "NOT_FOUND"),
    ];
    for (method, path, want, code) in cases {
        let resp = reg.request(method.clone(), path).send().await.unwrap();
        let message = expect_error(resp, &[want], &[code]).await.errors.remove(0).message;
        assert!(!message.is_empty(), "{method} {path}: no message");
    }
    reg.assert_healthy("app", "v1", &image).await;
}

#[tokio::test]
async fn garbage_on_the_wire() {
    let (berth, reg, image) = seeded().await;
    let host = &berth.host;
    let close = "Connection: close\r\n\r\n";
    let patch =
        format!("PATCH /v2/app/blobs/uploads/x HTTP/1.1\r\nHost: {host}\r\nAuthorization: {ADMIN_AUTHORIZATION}\r\n");
    let requests: Vec<(&str, Vec<u8>, u16)> = vec![
        ("no request line", b"GARBAGE\r\n\r\n".to_vec(), 400),
        ("random bytes", random_bytes(4096), 400),
        ("unknown HTTP version", format!("GET /v2/ HTTP/9.9\r\nHost: {host}\r\n{close}").into_bytes(), 400),
        ("negative length", format!("{patch}Content-Length: -5\r\n{close}").into_bytes(), 400),
        ("overflowing length", format!("{patch}Content-Length: 99999999999999999999999\r\n{close}").into_bytes(), 400),
        (
            "control bytes in path",
            format!("GET /v2/\x01\x02 HTTP/1.1\r\nHost: {host}\r\nAuthorization: {ADMIN_AUTHORIZATION}\r\n{close}")
                .into_bytes(),
            400,
        ),
        ("1 MiB header", format!("GET /v2/ HTTP/1.1\r\nX-Long: {}\r\n{close}", "a".repeat(1 << 20)).into_bytes(), 431),
    ];
    for (what, req, want) in requests {
        let resp = raw_exchange(host, &req).await.unwrap_or_else(|| panic!("{what}: closed without an answer"));
        assert_eq!(resp.status, want, "{what}: {}", resp.head);
    }
    reg.assert_healthy("app", "v1", &image).await;
}
