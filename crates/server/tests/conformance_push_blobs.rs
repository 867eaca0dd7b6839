//! OCI Distribution Spec v1.1, "Push" workflow category, blobs: every
//! upload flavour (monolithic, POST+PUT, chunked, streamed, mount), upload
//! status and cancel.

use berth_testkit::oci_http::*;
use bytes::Bytes;
use reqwest::Method;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

#[tokio::test]
async fn push_blob_post_then_put() {
    let (_berth, reg) = start_registry(BIN);
    let blob = Blob::random(4000);
    let post = expect_status(reg.start_upload("app").await, 202).await;
    let location = header(&post, "Location").expect("Location");
    // Docker's legacy upload id header; the spec requires the Location to carry a UUID.
    let uuid = header(&post, "Docker-Upload-UUID").expect("Docker-Upload-UUID");
    assert!(location.contains(&uuid), "{location} does not contain {uuid}");
    // A Range on the POST is optional; if sent, nothing is stored yet ("0-0" by Docker convention).
    if let Some(range) = header(&post, "Range") {
        assert_eq!(range, "0-0");
    }
    let put = reg.finish_upload(&location, &blob.digest, &blob.bytes, None).await;
    let put = expect_status(put, 201).await;
    assert_eq!(digest_header(&put).as_deref(), Some(blob.digest.as_str()));
    reg.assert_location_serves(&header(&put, "Location").expect("Location"), &blob.bytes).await;
    reg.assert_blob("app", &blob).await;
}

#[tokio::test]
async fn push_blob_monolithic_post_with_digest() {
    let (_berth, reg) = start_registry(BIN);
    let blob = Blob::random(4000);
    let resp = expect_status(reg.upload_monolithic("app", &blob).await, 201).await;
    assert_eq!(digest_header(&resp).as_deref(), Some(blob.digest.as_str()));
    reg.assert_location_serves(&header(&resp, "Location").expect("Location"), &blob.bytes).await;
    reg.assert_blob("app", &blob).await;
}

#[tokio::test]
async fn push_blob_chunked_patch_with_content_range() {
    let (_berth, reg) = start_registry(BIN);
    let blob = Blob::random(10_000);
    let resp = expect_status(reg.upload_chunked("app", &blob, 4096).await, 201).await;
    assert_eq!(digest_header(&resp).as_deref(), Some(blob.digest.as_str()));
    reg.assert_location_serves(&header(&resp, "Location").expect("Location"), &blob.bytes).await;
}

#[tokio::test]
async fn push_blob_chunked_final_chunk_in_put() {
    let (_berth, reg) = start_registry(BIN);
    let blob = Blob::random(9000);
    let location = reg.upload_location("app").await;
    let patch = expect_status(reg.patch_chunk(&location, 0, &blob.bytes[..6000]).await, 202).await;
    let location = header(&patch, "Location").expect("Location");
    let put = reg.finish_upload(&location, &blob.digest, &blob.bytes[6000..], Some(6000)).await;
    expect_status(put, 201).await;
    reg.assert_blob("app", &blob).await;
}

/// Docker's own push: one PATCH with a chunked-encoded body and no
/// Content-Range, then an empty closing PUT.
#[tokio::test]
async fn push_blob_streamed_patch_without_content_range() {
    let (_berth, reg) = start_registry(BIN);
    let blob = Blob::random(70_000);
    let location = reg.upload_location("app").await;
    let pieces: Vec<Result<Bytes, std::io::Error>> =
        blob.bytes.chunks(16_384).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(pieces));
    let patch = reg.request(Method::PATCH, &location).header("Content-Type", "application/octet-stream");
    let patch = expect_status(patch.body(body).send().await.unwrap(), 202).await;
    assert_eq!(header(&patch, "Range").as_deref(), Some("0-69999"));
    let location = header(&patch, "Location").expect("Location");
    expect_status(reg.finish_upload(&location, &blob.digest, &[], None).await, 201).await;
    reg.assert_blob("app", &blob).await;
}

#[tokio::test]
async fn push_blob_chunked_out_of_order_gives_416_with_range() {
    let (_berth, reg) = start_registry(BIN);
    let blob = Blob::random(3000);
    let location = reg.upload_location("app").await;
    let first = expect_status(reg.patch_chunk(&location, 0, &blob.bytes[..1000]).await, 202).await;
    let location = header(&first, "Location").expect("Location");

    // Skipping ahead and starting over are both out of order. The spec only
    // demands 416; Berth also states where the upload ends so a client can resume.
    for start in [2000usize, 0] {
        let resp = reg.patch_chunk(&location, start as u64, &blob.bytes[start..start + 1000]).await;
        assert_eq!(status(&resp), 416, "chunk at {start}");
        assert_eq!(header(&resp, "Range").as_deref(), Some("0-999"), "chunk at {start}");
    }

    let state = expect_status(reg.upload_status(&location).await, 204).await;
    let range = header(&state, "Range").expect("Range");
    assert_eq!(range, "0-999");
    let location = header(&state, "Location").expect("Location");
    let offset = upload_offset(&range) as usize;
    let resume = reg.patch_chunk(&location, offset as u64, &blob.bytes[offset..]).await;
    let resume = expect_status(resume, 202).await;
    assert_eq!(header(&resume, "Range").as_deref(), Some("0-2999"));
    let location = header(&resume, "Location").expect("Location");
    expect_status(reg.finish_upload(&location, &blob.digest, &[], None).await, 201).await;
    reg.assert_blob("app", &blob).await;
}

#[tokio::test]
async fn push_blob_upload_status_gives_204_with_range() {
    let (_berth, reg) = start_registry(BIN);
    let location = reg.upload_location("app").await;
    let fresh = expect_status(reg.upload_status(&location).await, 204).await;
    assert!(header(&fresh, "Location").is_some());
    // Nothing stored yet: "0-0" is the Docker-compatible way to say so.
    assert_eq!(header(&fresh, "Range").as_deref(), Some("0-0"));
    expect_status(reg.patch_chunk(&location, 0, &[7u8; 100]).await, 202).await;
    let after = expect_status(reg.upload_status(&location).await, 204).await;
    assert_eq!(header(&after, "Range").as_deref(), Some("0-99"));
    assert!(header(&after, "Location").is_some());
}

#[tokio::test]
async fn push_blob_upload_cancel_gives_204_then_404() {
    let (_berth, reg) = start_registry(BIN);
    let blob = Blob::random(100);
    let location = reg.upload_location("app").await;
    expect_status(reg.patch_chunk(&location, 0, &blob.bytes).await, 202).await;
    let delete = reg.request(Method::DELETE, &location).header("Content-Length", "0").send().await.unwrap();
    expect_status(delete, 204).await;
    expect_error(reg.upload_status(&location).await, &[404], &["BLOB_UPLOAD_UNKNOWN"]).await;
    expect_error(reg.patch_chunk(&location, 100, b"more").await, &[404], &["BLOB_UPLOAD_UNKNOWN"]).await;
    let put = reg.finish_upload(&location, &blob.digest, &[], None).await;
    expect_error(put, &[404], &["BLOB_UPLOAD_UNKNOWN"]).await;
    assert_eq!(status(&reg.head_blob("app", &blob.digest).await), 404);
}

#[tokio::test]
async fn push_blob_unknown_upload_gives_404() {
    let (_berth, reg) = start_registry(BIN);
    reg.push_image("app", "v1").await;
    let bogus = "/v2/app/blobs/uploads/0b0e5c1e-7bd6-4a55-9c4c-000000000000";
    expect_error(reg.upload_status(bogus).await, &[404], &["BLOB_UPLOAD_UNKNOWN"]).await;
    expect_error(reg.patch_chunk(bogus, 0, b"data").await, &[404], &["BLOB_UPLOAD_UNKNOWN"]).await;
}

#[tokio::test]
async fn push_blob_upload_survives_restart() {
    let (mut berth, reg) = start_registry(BIN);
    let blob = Blob::random(200_000);
    let location = reg.upload_location("app").await;
    let first = expect_status(reg.patch_chunk(&location, 0, &blob.bytes[..120_000]).await, 202).await;
    let location = header(&first, "Location").expect("Location");
    berth.restart().expect("restart");
    let state = expect_status(reg.upload_status(&location).await, 204).await;
    assert_eq!(header(&state, "Range").as_deref(), Some("0-119999"));
    expect_status(reg.patch_chunk(&location, 120_000, &blob.bytes[120_000..]).await, 202).await;
    expect_status(reg.finish_upload(&location, &blob.digest, &[], None).await, 201).await;
    reg.assert_blob("app", &blob).await;
}

#[tokio::test]
async fn push_blob_wrong_digest_gives_400_digest_invalid() {
    let (_berth, reg) = start_registry(BIN);
    let blob = Blob::random(5000);
    let claimed = sha256_digest(b"something else entirely");
    let liar = Blob { bytes: blob.bytes.clone(), digest: claimed.clone() };

    expect_error(reg.upload_post_put("app", &liar).await, &[400], &["DIGEST_INVALID"]).await;
    expect_error(reg.upload_monolithic("app", &liar).await, &[400], &["DIGEST_INVALID"]).await;
    expect_error(reg.upload_chunked("app", &liar, 2000).await, &[400], &["DIGEST_INVALID"]).await;
    for digest in [&claimed, &blob.digest] {
        assert_eq!(status(&reg.head_blob("app", digest).await), 404, "{digest} became pullable");
    }
}

#[tokio::test]
async fn push_blob_sha512_digest() {
    let (_berth, reg) = start_registry(BIN);
    let mono = Blob::sha512(random_bytes(3000));
    let resp = expect_status(reg.upload_monolithic("app", &mono).await, 201).await;
    // Berth verifies sha512 natively, so the canonical digest is the pushed one.
    assert_eq!(digest_header(&resp).as_deref(), Some(mono.digest.as_str()));
    reg.assert_blob("app", &mono).await;
    let head = expect_status(reg.head_blob("app", &mono.digest).await, 200).await;
    assert_eq!(header(&head, "Content-Length").as_deref(), Some("3000"));

    let chunked = Blob::sha512(random_bytes(7000));
    expect_status(reg.upload_chunked("app", &chunked, 3000).await, 201).await;
    reg.assert_blob("app", &chunked).await;
}

#[tokio::test]
async fn push_blob_empty_json_and_zero_length() {
    let (_berth, reg) = start_registry(BIN);
    let empty_json = Blob::new(b"{}".to_vec());
    reg.push_blob("app", &empty_json).await;
    reg.assert_blob("app", &empty_json).await;
    let zero = Blob::new(Vec::new());
    expect_status(reg.upload_monolithic("app", &zero).await, 201).await;
    let get = expect_status(reg.get_blob("app", &zero.digest).await, 200).await;
    assert_eq!(header(&get, "Content-Length").as_deref(), Some("0"));
    assert!(get.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn cross_repo_mount() {
    let (_berth, reg) = start_registry(BIN);
    reg.create_project("src", false).await;
    reg.create_project("dst", false).await;
    let blob = Blob::random(3000);
    reg.push_blob("src/app", &blob).await;
    let resp = expect_status(reg.mount("dst/app", &blob.digest, Some("src/app")).await, 201).await;
    assert_eq!(digest_header(&resp).as_deref(), Some(blob.digest.as_str()));
    reg.assert_location_serves(&header(&resp, "Location").expect("Location"), &blob.bytes).await;
    reg.assert_blob("dst/app", &blob).await;
}

/// "If a registry ... is unable to mount the requested blob, it SHOULD
/// return a 202": the answer starts an ordinary upload.
#[tokio::test]
async fn cross_repo_mount_of_absent_blob_falls_back_to_upload() {
    let (_berth, reg) = start_registry(BIN);
    reg.create_project("src", false).await;
    reg.create_project("dst", false).await;
    reg.push_image("src/app", "v1").await;
    let blob = Blob::random(3000);
    let resp = expect_status(reg.mount("dst/app", &blob.digest, Some("src/app")).await, 202).await;
    let location = header(&resp, "Location").expect("Location");
    expect_status(reg.finish_upload(&location, &blob.digest, &blob.bytes, None).await, 201).await;
    reg.assert_blob("dst/app", &blob).await;
}

/// "The registry MAY treat the from parameter as optional": Berth does not,
/// since knowing a digest must never give access to content; a mount without
/// `from` starts an ordinary upload.
#[tokio::test]
async fn mount_without_from_falls_back_to_upload() {
    let (_berth, reg) = start_registry(BIN);
    let blob = Blob::random(3000);
    reg.push_blob("library/src", &blob).await;
    let resp = expect_status(reg.mount("other", &blob.digest, None).await, 202).await;
    let location = header(&resp, "Location").expect("Location");
    expect_status(reg.finish_upload(&location, &blob.digest, &blob.bytes, None).await, 201).await;
    reg.assert_blob("other", &blob).await;
}
