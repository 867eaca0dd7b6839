//! References that cannot exist: a manifest reference that is neither a tag
//! nor a digest, a blob path whose last segment is not a digest. Reads and
//! deletes find nothing (404 with the OCI "unknown" code, as for anything
//! else that is not there); pushes are refused as invalid. Nothing changes.

use berth_testkit::oci_http::*;
use reqwest::{Method, Response};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

/// Tags and digests no repository can hold, each with the code a push
/// under it gets.
fn impossible_manifest_references() -> Vec<(String, &'static str)> {
    let mut refs: Vec<(String, &str)> =
        [".hidden", "-dash", "tag!", "t%20x", "caf%C3%A9"].iter().map(|t| (t.to_string(), "TAG_INVALID")).collect();
    refs.push(("t".repeat(129), "TAG_INVALID"));
    for d in ["sha256:abc", "md5:d41d8cd98f00b204e9800998ecf8427e", "sha256:baddigeststring"] {
        refs.push((d.to_owned(), "DIGEST_INVALID"));
    }
    refs.push((format!("sha256:{}", "E".repeat(64)), "DIGEST_INVALID"));
    refs
}

/// Asserts a 404 with `code` whose message quotes (the start of) `asked`.
async fn expect_unknown(resp: Response, code: &str, asked: &str) {
    let errors = expect_error(resp, &[404], &[code]).await;
    let shown: String = asked.chars().take(80).collect();
    assert!(errors.errors[0].message.contains(&shown), "message does not name {asked:?}: {:?}", errors.errors[0]);
}

async fn expect_head_404(resp: Response) {
    assert_eq!(status(&resp), 404, "HEAD {}", resp.url());
    assert!(resp.bytes().await.unwrap().is_empty(), "HEAD answered with a body");
}

async fn tags(reg: &OciClient) -> serde_json::Value {
    let resp = reg.request(Method::GET, "/v2/app/tags/list").send().await.unwrap();
    expect_status(resp, 200).await.json::<serde_json::Value>().await.unwrap()["tags"].clone()
}

#[tokio::test]
async fn impossible_manifest_references_are_unknown_when_read_and_invalid_when_pushed() {
    let (_berth, reg) = start_registry(BIN);
    let image = reg.push_image("app", "v1").await;
    for (reference, push_code) in impossible_manifest_references() {
        let path = format!("/v2/app/manifests/{reference}");
        let get = reg.fetch_manifest(Method::GET, "app", &reference, &[OCI_MANIFEST]).await;
        expect_unknown(get, "MANIFEST_UNKNOWN", &reference).await;
        expect_head_404(reg.fetch_manifest(Method::HEAD, "app", &reference, &[OCI_MANIFEST]).await).await;
        let delete = reg.request(Method::DELETE, &path).send().await.unwrap();
        expect_unknown(delete, "MANIFEST_UNKNOWN", &reference).await;
        let put = reg.push_manifest("app", &reference, &image.manifest).await;
        let errors = expect_error(put, &[400], &[push_code]).await;
        assert_eq!(errors.errors.len(), 1, "{reference}: {:?}", errors.errors);
    }
    assert_eq!(tags(&reg).await, json!(["v1"]));
    reg.assert_healthy("app", "v1", &image).await;
}

#[tokio::test]
async fn impossible_blob_digests_are_unknown_when_read_or_deleted() {
    let (_berth, reg) = start_registry(BIN);
    let image = reg.push_image("app", "v1").await;
    let upper = image.layer.digest.to_uppercase().replacen("SHA256", "sha256", 1);
    let not_hex = format!("sha256:{}", "g".repeat(64));
    for digest in ["sha256:abc", "md5:d41d8cd98f00b204e9800998ecf8427e", "latest", "sha256", &upper, &not_hex] {
        expect_unknown(reg.get_blob("app", digest).await, "BLOB_UNKNOWN", digest).await;
        expect_head_404(reg.head_blob("app", digest).await).await;
        let delete = reg.request(Method::DELETE, &format!("/v2/app/blobs/{digest}")).send().await.unwrap();
        expect_unknown(delete, "BLOB_UNKNOWN", digest).await;
    }
    // The spec demands 400 for a referrers digest of invalid syntax.
    expect_error(reg.referrers("app", "sha256:abc", None).await, &[400], &["DIGEST_INVALID"]).await;
    reg.assert_healthy("app", "v1", &image).await;
}

/// Authorization comes first: in a private project, an anonymous caller
/// gets the same 401 for an impossible reference as for a real one, and a
/// signed-in one the same 404 as for a tag that is not there.
#[tokio::test]
async fn impossible_references_are_authorized_like_possible_ones() {
    let (berth, reg) = start_registry(BIN);
    reg.create_project("team", false).await;
    let image = reg.push_image("team/app", "v1").await;
    let anonymous = OciClient::anonymous(&berth.url);
    let (all, reads) = (&[Method::GET, Method::DELETE, Method::PUT][..], &[Method::GET, Method::DELETE][..]);
    let blob = format!("/v2/team/app/blobs/{}", image.layer.digest);
    for (path, methods) in [
        ("/v2/team/app/manifests/v1", all),
        ("/v2/team/app/manifests/-bad", all),
        ("/v2/team/app/manifests/sha256:abc", all),
        ("/v2/team/ghost/manifests/-bad", all),
        (blob.as_str(), reads),
        ("/v2/team/app/blobs/sha256:abc", reads),
    ] {
        for method in methods {
            let resp = anonymous.request(method.clone(), path).send().await.unwrap();
            let resp = expect_status(resp, 401).await;
            assert!(header(&resp, "WWW-Authenticate").is_some_and(|c| c.contains("team/")), "{method} {path}");
        }
    }
    let missing = reg.fetch_manifest(Method::GET, "team/app", "v2", &[OCI_MANIFEST]).await;
    expect_unknown(missing, "MANIFEST_UNKNOWN", "v2").await;
    let impossible = reg.fetch_manifest(Method::GET, "team/app", "-bad", &[OCI_MANIFEST]).await;
    expect_unknown(impossible, "MANIFEST_UNKNOWN", "-bad").await;
    reg.assert_healthy("team/app", "v1", &image).await;
}
