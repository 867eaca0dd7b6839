//! OCI Distribution Spec v1.1, "Content Management" workflow category:
//! deleting manifests, tags and blobs.

use berth_testkit::oci_http::*;
use reqwest::Method;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");

async fn delete(reg: &OciClient, path: &str) -> reqwest::Response {
    reg.request(Method::DELETE, path).send().await.unwrap()
}

async fn get_manifest(reg: &OciClient, repo: &str, reference: &str) -> reqwest::Response {
    reg.fetch_manifest(Method::GET, repo, reference, &[OCI_MANIFEST, OCI_INDEX]).await
}

async fn tag_list(reg: &OciClient, repo: &str) -> Vec<Value> {
    let resp = reg.request(Method::GET, &format!("/v2/{repo}/tags/list")).send().await.unwrap();
    let body: Value = expect_status(resp, 200).await.json().await.unwrap();
    body["tags"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn delete_manifest_then_404() {
    let (_berth, reg) = start_registry(BIN);
    let keep = reg.push_image("app", "keep").await;
    let doomed = reg.push_image("app", "doomed").await.manifest;
    expect_status(delete(&reg, &format!("/v2/app/manifests/{}", doomed.digest)).await, 202).await;
    expect_error(get_manifest(&reg, "app", &doomed.digest).await, &[404], &["MANIFEST_UNKNOWN"]).await;
    // "...and any tag pointing to that digest will return a 404."
    expect_error(get_manifest(&reg, "app", "doomed").await, &[404], &["MANIFEST_UNKNOWN"]).await;
    let head = reg.fetch_manifest(Method::HEAD, "app", &doomed.digest, &[OCI_MANIFEST]).await;
    assert_eq!(status(&head), 404);
    assert_eq!(tag_list(&reg, "app").await, vec![json!("keep")]);
    reg.assert_healthy("app", "keep", &keep).await;
}

#[tokio::test]
async fn delete_tag_keeps_manifest() {
    let (_berth, reg) = start_registry(BIN);
    let image = reg.push_image("app", "v1").await;
    expect_status(reg.push_manifest("app", "v2", &image.manifest).await, 201).await;
    expect_status(delete(&reg, "/v2/app/manifests/v1").await, 202).await;
    expect_error(get_manifest(&reg, "app", "v1").await, &[404], &["MANIFEST_UNKNOWN"]).await;
    reg.assert_manifest("app", &image.manifest.digest, &image.manifest).await;
    reg.assert_manifest("app", "v2", &image.manifest).await;
    assert_eq!(tag_list(&reg, "app").await, vec![json!("v2")]);
}

#[tokio::test]
async fn delete_unknown_manifest_gives_404() {
    let (_berth, reg) = start_registry(BIN);
    reg.push_image("app", "v1").await;
    let absent = sha256_digest(b"absent manifest");
    let resp = delete(&reg, &format!("/v2/app/manifests/{absent}")).await;
    expect_error(resp, &[404], &["MANIFEST_UNKNOWN"]).await;
    expect_error(delete(&reg, "/v2/app/manifests/no-such-tag").await, &[404], &["MANIFEST_UNKNOWN"]).await;
    // "If the repository does not exist, the response MUST return 404."
    let resp = delete(&reg, &format!("/v2/nope/manifests/{absent}")).await;
    expect_error(resp, &[404], &["NAME_UNKNOWN", "MANIFEST_UNKNOWN"]).await;
}

#[tokio::test]
async fn delete_blob_then_404_blob_unknown() {
    let (_berth, reg) = start_registry(BIN);
    let blob = Blob::random(1000);
    reg.push_blob("app", &blob).await;
    expect_status(delete(&reg, &format!("/v2/app/blobs/{}", blob.digest)).await, 202).await;
    assert_eq!(status(&reg.head_blob("app", &blob.digest).await), 404);
    expect_error(reg.get_blob("app", &blob.digest).await, &[404], &["BLOB_UNKNOWN"]).await;
}

/// Deleting a blob from one repository leaves other repositories' links alone.
#[tokio::test]
async fn delete_blob_only_affects_its_repository() {
    let (_berth, reg) = start_registry(BIN);
    let blob = Blob::random(1000);
    reg.push_blob("one", &blob).await;
    reg.push_blob("two", &blob).await;
    expect_status(delete(&reg, &format!("/v2/one/blobs/{}", blob.digest)).await, 202).await;
    assert_eq!(status(&reg.head_blob("one", &blob.digest).await), 404);
    reg.assert_blob("two", &blob).await;
}

#[tokio::test]
async fn delete_unknown_blob_gives_404_blob_unknown() {
    let (_berth, reg) = start_registry(BIN);
    reg.push_image("app", "v1").await;
    let resp = delete(&reg, &format!("/v2/app/blobs/{}", sha256_digest(b"absent blob"))).await;
    expect_error(resp, &[404], &["BLOB_UNKNOWN"]).await;
}

#[tokio::test]
async fn delete_referrer_removes_it_from_referrers() {
    let (_berth, reg) = start_registry(BIN);
    let subject = reg.push_image("app", "v1").await.manifest;
    let art =
        reg.artifact("app", subject.descriptor(), Some("application/vnd.example.sbom.v1"), OCI_EMPTY, json!({})).await;
    expect_status(reg.push_manifest("app", &art.digest, &art).await, 201).await;
    expect_status(delete(&reg, &format!("/v2/app/manifests/{}", art.digest)).await, 202).await;
    let resp = expect_status(reg.referrers("app", &subject.digest, None).await, 200).await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["manifests"], json!([]));
    reg.assert_manifest("app", "v1", &subject).await;
}
