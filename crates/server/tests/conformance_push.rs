//! OCI Distribution Spec v1.1, "Push" workflow category: every blob upload
//! flavour (monolithic, POST+PUT, chunked, streamed, mount), upload status
//! and cancel, and manifest pushes of every supported type.

use berth_testkit::oci_http::*;
use bytes::Bytes;
use reqwest::Method;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");

fn digest_header(resp: &reqwest::Response) -> Option<String> {
    header(resp, "Docker-Content-Digest")
}

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
    reg.push_image("src/app", "v1").await;
    let blob = Blob::random(3000);
    let resp = expect_status(reg.mount("dst/app", &blob.digest, Some("src/app")).await, 202).await;
    let location = header(&resp, "Location").expect("Location");
    expect_status(reg.finish_upload(&location, &blob.digest, &blob.bytes, None).await, 201).await;
    reg.assert_blob("dst/app", &blob).await;
}

/// "The registry MAY treat the from parameter as optional": Berth mounts any
/// blob it already stores.
#[tokio::test]
async fn mount_without_from() {
    let (_berth, reg) = start_registry(BIN);
    let blob = Blob::random(3000);
    reg.push_blob("src/app", &blob).await;
    let resp = expect_status(reg.mount("other", &blob.digest, None).await, 201).await;
    assert_eq!(digest_header(&resp).as_deref(), Some(blob.digest.as_str()));
    reg.assert_blob("other", &blob).await;
}

/// Config and layer pushed to `repo`, and an OCI manifest value over them.
async fn image_value(reg: &OciClient, repo: &str) -> Value {
    let (config, layer) = (Blob::config(), Blob::random(1500));
    reg.push_blob(repo, &config).await;
    reg.push_blob(repo, &layer).await;
    image_manifest(&config.descriptor(OCI_CONFIG), &[layer.descriptor(OCI_LAYER)])
}

#[tokio::test]
async fn push_manifest_by_tag() {
    let (_berth, reg) = start_registry(BIN);
    let m = Manifest::json(OCI_MANIFEST, &image_value(&reg, "app").await);
    let resp = expect_status(reg.push_manifest("app", "v1", &m).await, 201).await;
    assert_eq!(digest_header(&resp).as_deref(), Some(m.digest.as_str()));
    reg.assert_location_serves(&header(&resp, "Location").expect("Location"), &m.bytes).await;
    reg.assert_manifest("app", "v1", &m).await;
    reg.assert_manifest("app", &m.digest, &m).await;
}

#[tokio::test]
async fn push_manifest_by_digest() {
    let (_berth, reg) = start_registry(BIN);
    let m = Manifest::json(OCI_MANIFEST, &image_value(&reg, "app").await);
    let resp = expect_status(reg.push_manifest("app", &m.digest, &m).await, 201).await;
    assert_eq!(digest_header(&resp).as_deref(), Some(m.digest.as_str()));
    reg.assert_location_serves(&header(&resp, "Location").expect("Location"), &m.bytes).await;
    reg.assert_manifest("app", &m.digest, &m).await;
}

#[tokio::test]
async fn push_manifest_by_digest_mismatch_gives_400_digest_invalid() {
    let (_berth, reg) = start_registry(BIN);
    let m = Manifest::json(OCI_MANIFEST, &image_value(&reg, "app").await);
    let wrong = sha256_digest(b"not the manifest");
    expect_error(reg.push_manifest("app", &wrong, &m).await, &[400], &["DIGEST_INVALID"]).await;
    let gone = reg.fetch_manifest(Method::GET, "app", &wrong, &[OCI_MANIFEST]).await;
    assert_eq!(status(&gone), 404);
    let gone = reg.fetch_manifest(Method::GET, "app", &m.digest, &[OCI_MANIFEST]).await;
    assert_eq!(status(&gone), 404);
    // A reference that is not even a well-formed digest.
    let bad = reg.push_manifest("app", "sha256:baddigeststring", &m).await;
    expect_error(bad, &[400], &["DIGEST_INVALID", "MANIFEST_INVALID"]).await;
}

#[tokio::test]
async fn push_manifest_content_type_parameters_ignored() {
    let (_berth, reg) = start_registry(BIN);
    let m = Manifest::json(OCI_MANIFEST, &image_value(&reg, "app").await);
    let put = reg.request(Method::PUT, "/v2/app/manifests/v1");
    let put = put.header("Content-Type", format!("{OCI_MANIFEST}; charset=utf-8")).body(m.bytes.clone());
    expect_status(put.send().await.unwrap(), 201).await;
    reg.assert_manifest("app", "v1", &m).await;
}

/// Older tools omit the optional `mediaType` field; the Content-Type says it all.
#[tokio::test]
async fn push_manifest_without_media_type_field() {
    let (_berth, reg) = start_registry(BIN);
    let mut value = image_value(&reg, "app").await;
    value.as_object_mut().unwrap().remove("mediaType");
    let m = Manifest::json(OCI_MANIFEST, &value);
    expect_status(reg.push_manifest("app", "v1", &m).await, 201).await;
    reg.assert_manifest("app", "v1", &m).await;
}

#[tokio::test]
async fn push_manifest_overwrite_tag_moves_it() {
    let (_berth, reg) = start_registry(BIN);
    let old = reg.push_image("app", "latest").await;
    let new = reg.push_image("app", "latest").await;
    reg.assert_manifest("app", "latest", &new.manifest).await;
    reg.assert_manifest("app", &old.manifest.digest, &old.manifest).await;
}

#[tokio::test]
async fn push_oci_index() {
    let (_berth, reg) = start_registry(BIN);
    let amd = Manifest::json(OCI_MANIFEST, &image_value(&reg, "app").await);
    let arm = Manifest::json(OCI_MANIFEST, &image_value(&reg, "app").await);
    for m in [&amd, &arm] {
        expect_status(reg.push_manifest("app", &m.digest, m).await, 201).await;
    }
    let index = Manifest::json(OCI_INDEX, &index_manifest(OCI_INDEX, &[(&amd, "amd64"), (&arm, "arm64")]));
    let resp = expect_status(reg.push_manifest("app", "multi", &index).await, 201).await;
    assert_eq!(digest_header(&resp).as_deref(), Some(index.digest.as_str()));
    reg.assert_manifest("app", "multi", &index).await;
    reg.assert_manifest("app", &arm.digest, &arm).await;
}

#[tokio::test]
async fn push_docker_schema2_manifest_and_manifest_list() {
    let (_berth, reg) = start_registry(BIN);
    let mut images = Vec::new();
    for _ in 0..2 {
        let (config, layer) = (Blob::config(), Blob::random(1200));
        reg.push_blob("app", &config).await;
        reg.push_blob("app", &layer).await;
        let mut value = image_manifest(&config.descriptor(DOCKER_CONFIG), &[layer.descriptor(DOCKER_LAYER)]);
        value["mediaType"] = DOCKER_MANIFEST.into();
        let m = Manifest::json(DOCKER_MANIFEST, &value);
        expect_status(reg.push_manifest("app", &m.digest, &m).await, 201).await;
        reg.assert_manifest("app", &m.digest, &m).await;
        images.push(m);
    }
    let list = index_manifest(DOCKER_MANIFEST_LIST, &[(&images[0], "amd64"), (&images[1], "arm64")]);
    let list = Manifest::json(DOCKER_MANIFEST_LIST, &list);
    expect_status(reg.push_manifest("app", "v1", &list).await, 201).await;
    reg.assert_manifest("app", "v1", &list).await;
}

const SBOM: &str = "application/vnd.example.sbom.v1";

#[tokio::test]
async fn push_artifact_manifest_with_subject_returns_oci_subject() {
    let (_berth, reg) = start_registry(BIN);
    let subject = reg.push_image("app", "v1").await.manifest;
    let art =
        reg.artifact("app", subject.descriptor(), Some(SBOM), OCI_EMPTY, json!({"org.example.kind": "sbom"})).await;
    let resp = expect_status(reg.push_manifest("app", &art.digest, &art).await, 201).await;
    assert_eq!(header(&resp, "OCI-Subject").as_deref(), Some(subject.digest.as_str()));
    reg.assert_manifest("app", &art.digest, &art).await;
}

/// "A registry MUST initially accept an otherwise valid manifest with a
/// subject field that references a manifest that does not exist."
#[tokio::test]
async fn push_manifest_with_missing_subject_accepted() {
    let (_berth, reg) = start_registry(BIN);
    let ghost = Manifest::raw(OCI_MANIFEST, b"{\"never\":\"pushed\"}".to_vec());
    let art = reg.artifact("app", ghost.descriptor(), Some(SBOM), OCI_EMPTY, json!({})).await;
    let resp = expect_status(reg.push_manifest("app", &art.digest, &art).await, 201).await;
    assert_eq!(header(&resp, "OCI-Subject").as_deref(), Some(ghost.digest.as_str()));
}

#[tokio::test]
async fn push_schema1_manifest_refused() {
    let (_berth, reg) = start_registry(BIN);
    let layer = Blob::random(100);
    reg.push_blob("app", &layer).await;
    let body = json!({
        "schemaVersion": 1, "name": "app", "tag": "v1", "architecture": "amd64",
        "fsLayers": [{"blobSum": layer.digest}], "history": [{"v1Compatibility": "{}"}]
    });
    for media_type in [
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "application/vnd.docker.distribution.manifest.v1+json",
    ] {
        let m = Manifest::json(media_type, &body);
        // Which 4xx is a choice (UNSUPPORTED is often 405 or 415); the code is not.
        let errors = expect_error(
            reg.push_manifest("app", "v1", &m).await,
            &[400, 405, 415],
            &["MANIFEST_INVALID", "UNSUPPORTED"],
        )
        .await;
        assert!(errors.errors.iter().all(|e| !e.message.is_empty()), "refusal without a message");
    }
    assert_eq!(status(&reg.fetch_manifest(Method::GET, "app", "v1", &["*/*"]).await), 404);
}

#[tokio::test]
async fn push_manifest_unknown_blob_gives_manifest_blob_unknown() {
    let (_berth, reg) = start_registry(BIN);
    let (config, layer, absent) = (Blob::config(), Blob::random(100), Blob::random(100));
    reg.push_blob("app", &config).await;
    reg.push_blob("app", &layer).await;
    let missing_layer = image_manifest(&config.descriptor(OCI_CONFIG), &[absent.descriptor(OCI_LAYER)]);
    let missing_config = image_manifest(&Blob::config().descriptor(OCI_CONFIG), &[layer.descriptor(OCI_LAYER)]);
    for value in [missing_layer, missing_config] {
        let m = Manifest::json(OCI_MANIFEST, &value);
        expect_error(reg.push_manifest("app", "v1", &m).await, &[400], &["MANIFEST_BLOB_UNKNOWN"]).await;
    }
    assert_eq!(status(&reg.fetch_manifest(Method::GET, "app", "v1", &[OCI_MANIFEST]).await), 404);
}

/// The spec names one code for every descriptor the registry cannot resolve,
/// manifests included: MANIFEST_BLOB_UNKNOWN.
#[tokio::test]
async fn push_index_unknown_manifest_gives_manifest_blob_unknown() {
    let (_berth, reg) = start_registry(BIN);
    let known = reg.push_image("app", "v1").await.manifest;
    let ghost = Manifest::json(OCI_MANIFEST, &image_manifest(&Blob::config().descriptor(OCI_CONFIG), &[]));
    let index = Manifest::json(OCI_INDEX, &index_manifest(OCI_INDEX, &[(&known, "amd64"), (&ghost, "arm64")]));
    expect_error(reg.push_manifest("app", "multi", &index).await, &[400], &["MANIFEST_BLOB_UNKNOWN"]).await;
    assert_eq!(status(&reg.fetch_manifest(Method::GET, "app", "multi", &[OCI_INDEX]).await), 404);
}

const FOUR_MIB: usize = 4 << 20;

/// "Client and registry implementations SHOULD expect to be able to support
/// manifest pushes of at least 4 megabytes."
#[tokio::test]
async fn push_manifest_just_under_4mib_accepted() {
    let (_berth, reg) = start_registry(BIN);
    let image = reg.push_image("app", "small").await;
    let big = padded_manifest(&image, FOUR_MIB - 1024);
    expect_status(reg.push_manifest("app", "big", &big).await, 201).await;
    reg.assert_manifest("app", "big", &big).await;
}

/// Over the limit: 413 is what the spec recommends; 400 with a code is tolerated.
#[tokio::test]
async fn push_manifest_over_4mib_refused() {
    let (berth, reg) = start_registry(BIN);
    let image = reg.push_image("app", "small").await;
    let big = padded_manifest(&image, FOUR_MIB + 1024);
    expect_too_large(reg.try_push_manifest("app", "big", &big).await).await;
    // A client that asks first learns the verdict before sending 4 MiB.
    let head = format!(
        "PUT /v2/app/manifests/big HTTP/1.1\r\nHost: {}\r\nContent-Type: {OCI_MANIFEST}\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        berth.host,
        big.bytes.len()
    );
    let early = raw_exchange(&berth.host, head.as_bytes()).await.expect("an answer");
    assert!(matches!(early.status, 413 | 400), "got {} instead of a refusal", early.head);
    assert_eq!(status(&reg.fetch_manifest(Method::GET, "app", "big", &[OCI_MANIFEST]).await), 404);
}
