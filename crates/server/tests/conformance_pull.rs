//! OCI Distribution Spec v1.1, "Pull" workflow category: the API version
//! check, manifests and blobs by GET and HEAD, and blob range requests.

use berth_testkit::oci_http::*;
use reqwest::Method;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

#[tokio::test]
async fn api_version_check_returns_200_with_header() {
    let (_berth, reg) = start_registry(BIN);
    let resp = expect_status(reg.ping().await, 200).await;
    // "SHOULD be set to registry/2.0"; docker refuses registries without it.
    assert_eq!(header(&resp, "Docker-Distribution-API-Version").as_deref(), Some("registry/2.0"));
}

#[tokio::test]
async fn pull_manifest_by_tag_head_and_get() {
    let (_berth, reg) = start_registry(BIN);
    let image = reg.push_image("library/app", "v1").await;
    let m = &image.manifest;

    let head = reg.fetch_manifest(Method::HEAD, "library/app", "v1", &[OCI_MANIFEST, OCI_INDEX]).await;
    let head = expect_status(head, 200).await;
    assert_eq!(header(&head, "Content-Length"), Some(m.bytes.len().to_string()));
    assert_eq!(header(&head, "Docker-Content-Digest").as_deref(), Some(m.digest.as_str()));
    assert_eq!(header(&head, "Content-Type").as_deref(), Some(OCI_MANIFEST));
    assert!(head.bytes().await.unwrap().is_empty(), "HEAD must not carry a body");

    reg.assert_manifest("library/app", "v1", m).await;
}

#[tokio::test]
async fn pull_manifest_by_digest() {
    let (_berth, reg) = start_registry(BIN);
    let image = reg.push_image("app", "v1").await;
    reg.assert_manifest("app", &image.manifest.digest, &image.manifest).await;
    let head = reg.fetch_manifest(Method::HEAD, "app", &image.manifest.digest, &[OCI_MANIFEST]).await;
    expect_status(head, 200).await;
}

#[tokio::test]
async fn pull_manifest_unknown_gives_404_manifest_unknown() {
    let (_berth, reg) = start_registry(BIN);
    reg.push_image("app", "v1").await;
    let by_tag = reg.fetch_manifest(Method::GET, "app", "missing", &[OCI_MANIFEST]).await;
    expect_error(by_tag, &[404], &["MANIFEST_UNKNOWN"]).await;
    let absent = sha256_digest(b"never pushed");
    let by_digest = reg.fetch_manifest(Method::GET, "app", &absent, &[OCI_MANIFEST]).await;
    expect_error(by_digest, &[404], &["MANIFEST_UNKNOWN"]).await;
    let head = reg.fetch_manifest(Method::HEAD, "app", "missing", &[OCI_MANIFEST]).await;
    assert_eq!(status(&head), 404);
    // A repository that does not exist: either code describes the situation.
    let no_repo = reg.fetch_manifest(Method::GET, "nope", "v1", &[OCI_MANIFEST]).await;
    expect_error(no_repo, &[404], &["NAME_UNKNOWN", "MANIFEST_UNKNOWN"]).await;
}

#[tokio::test]
async fn pull_manifest_content_type_matches_pushed_type() {
    let (_berth, reg) = start_registry(BIN);
    let image = reg.push_image("app", "oci").await;
    let config = Blob::config();
    reg.push_blob("app", &config).await;
    let mut value = image_manifest(&config.descriptor(DOCKER_CONFIG), &[image.layer.descriptor(DOCKER_LAYER)]);
    value["mediaType"] = DOCKER_MANIFEST.into();
    let docker = Manifest::json(DOCKER_MANIFEST, &value);
    expect_status(reg.push_manifest("app", "docker", &docker).await, 201).await;

    let accept = [OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_MANIFEST_LIST];
    for (tag, m) in [("oci", &image.manifest), ("docker", &docker)] {
        let resp = expect_status(reg.fetch_manifest(Method::GET, "app", tag, &accept).await, 200).await;
        // "The registry SHOULD NOT include parameters on the Content-Type header."
        assert_eq!(header(&resp, "Content-Type").as_deref(), Some(m.media_type.as_str()), "tag {tag}");
        let resp = expect_status(reg.fetch_manifest(Method::GET, "app", tag, &["*/*"]).await, 200).await;
        assert_eq!(header(&resp, "Content-Type").as_deref(), Some(m.media_type.as_str()), "tag {tag}, */*");
        assert_eq!(resp.bytes().await.unwrap()[..], m.bytes[..]);
    }
}

#[tokio::test]
async fn pull_blob_head_and_get() {
    let (_berth, reg) = start_registry(BIN);
    reg.create_project("team-a", false).await;
    reg.create_project("team-b", false).await;
    let blob = Blob::random(5000);
    reg.push_blob("app", &blob).await;
    let head = expect_status(reg.head_blob("app", &blob.digest).await, 200).await;
    assert_eq!(header(&head, "Content-Length").as_deref(), Some("5000"));
    assert_eq!(header(&head, "Docker-Content-Digest").as_deref(), Some(blob.digest.as_str()));
    assert!(head.bytes().await.unwrap().is_empty());
    let get = expect_status(reg.get_blob("app", &blob.digest).await, 200).await;
    assert_eq!(header(&get, "Content-Length").as_deref(), Some("5000"));
    reg.assert_blob("app", &blob).await;
}

#[tokio::test]
async fn pull_blob_unknown_gives_404_blob_unknown() {
    let (_berth, reg) = start_registry(BIN);
    reg.push_image("app", "v1").await;
    let absent = sha256_digest(b"absent");
    expect_error(reg.get_blob("app", &absent).await, &[404], &["BLOB_UNKNOWN"]).await;
    assert_eq!(status(&reg.head_blob("app", &absent).await), 404);
}

/// "If the blob is not found in the repository, the response code MUST be
/// 404": a blob pushed to one repository is not readable through another.
#[tokio::test]
async fn pull_blob_scoped_to_repository() {
    let (_berth, reg) = start_registry(BIN);
    reg.create_project("team-a", false).await;
    reg.create_project("team-b", false).await;
    let blob = Blob::random(300);
    reg.push_blob("team-a/app", &blob).await;
    reg.push_image("team-b/app", "v1").await;
    expect_error(reg.get_blob("team-b/app", &blob.digest).await, &[404], &["BLOB_UNKNOWN"]).await;
}

async fn get_range(reg: &OciClient, digest: &str, range: &str) -> reqwest::Response {
    reg.request(Method::GET, &format!("/v2/app/blobs/{digest}")).header("Range", range).send().await.unwrap()
}

#[tokio::test]
async fn pull_blob_range_gives_206_with_content_range() {
    let (_berth, reg) = start_registry(BIN);
    let blob = Blob::random(1000);
    reg.push_blob("app", &blob).await;

    let resp = expect_status(get_range(&reg, &blob.digest, "bytes=10-19").await, 206).await;
    assert_eq!(header(&resp, "Content-Range").as_deref(), Some("bytes 10-19/1000"));
    assert_eq!(header(&resp, "Content-Length").as_deref(), Some("10"));
    assert_eq!(resp.bytes().await.unwrap()[..], blob.bytes[10..20]);

    // Open-ended range: resume a pull from byte 990.
    let resp = expect_status(get_range(&reg, &blob.digest, "bytes=990-").await, 206).await;
    assert_eq!(header(&resp, "Content-Range").as_deref(), Some("bytes 990-999/1000"));
    assert_eq!(resp.bytes().await.unwrap()[..], blob.bytes[990..]);

    // An end past the blob is clamped (RFC 9110 section 14.1.2).
    let resp = expect_status(get_range(&reg, &blob.digest, "bytes=995-5000").await, 206).await;
    assert_eq!(header(&resp, "Content-Range").as_deref(), Some("bytes 995-999/1000"));
    assert_eq!(resp.bytes().await.unwrap()[..], blob.bytes[995..]);
}

#[tokio::test]
async fn pull_blob_range_suffix() {
    let (_berth, reg) = start_registry(BIN);
    let blob = Blob::random(1000);
    reg.push_blob("app", &blob).await;
    let resp = expect_status(get_range(&reg, &blob.digest, "bytes=-16").await, 206).await;
    assert_eq!(header(&resp, "Content-Range").as_deref(), Some("bytes 984-999/1000"));
    assert_eq!(resp.bytes().await.unwrap()[..], blob.bytes[984..]);
}

#[tokio::test]
async fn pull_blob_range_unsatisfiable_gives_416() {
    let (_berth, reg) = start_registry(BIN);
    let blob = Blob::random(1000);
    reg.push_blob("app", &blob).await;
    for range in ["bytes=1000-1010", "bytes=5000-"] {
        let resp = get_range(&reg, &blob.digest, range).await;
        assert_eq!(status(&resp), 416, "{range}");
        // RFC 9110 section 15.5.17: the current length goes in "bytes */SIZE".
        assert_eq!(header(&resp, "Content-Range").as_deref(), Some("bytes */1000"), "{range}");
    }
}
