//! OCI Distribution Spec v1.1, "Push" workflow category, manifests: pushes
//! of every supported type, subjects, and the manifests that are refused.

use berth_testkit::oci_http::*;
use reqwest::Method;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");

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
    expect_error(bad, &[400], &["DIGEST_INVALID"]).await;
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
        let errors = expect_error(reg.push_manifest("app", "v1", &m).await, &[400], &["MANIFEST_INVALID"]).await;
        assert!(errors.errors[0].message.contains("schema 1"), "unexplained refusal: {:?}", errors.errors);
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
        "PUT /v2/app/manifests/big HTTP/1.1\r\nHost: {}\r\nAuthorization: {ADMIN_AUTHORIZATION}\r\nContent-Type: {OCI_MANIFEST}\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        berth.host,
        big.bytes.len()
    );
    let early = raw_exchange(&berth.host, head.as_bytes()).await.expect("an answer");
    assert!(matches!(early.status, 413 | 400), "got {} instead of a refusal", early.head);
    assert_eq!(status(&reg.fetch_manifest(Method::GET, "app", "big", &[OCI_MANIFEST]).await), 404);
}
