//! OCI Distribution Spec v1.1, "Content Discovery" workflow category: tag
//! listing with pagination, the referrers API, and the catalog extension.

use berth_testkit::oci_http::*;
use reqwest::Method;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const SBOM: &str = "application/vnd.example.sbom.v1";
const SIG_CONFIG: &str = "application/vnd.example.signature.config.v1+json";

/// GETs `path_or_link`, asserts 200 and returns the JSON body with the next-page link.
async fn get_page(reg: &OciClient, path_or_link: &str) -> (Value, Option<String>) {
    let resp = expect_status(reg.request(Method::GET, path_or_link).send().await.unwrap(), 200).await;
    let link = next_link(&resp);
    (resp.json().await.expect("json body"), link)
}

fn strings(v: &Value) -> Vec<String> {
    let list = v.as_array().unwrap_or_else(|| panic!("expected a JSON array, got {v}"));
    list.iter().map(|s| s.as_str().expect("string").to_owned()).collect()
}

/// One image in `app` tagged with each of `tags`, pushed in the given order.
async fn tagged(reg: &OciClient, tags: &[&str]) {
    let image = reg.push_image("app", tags[0]).await;
    for tag in &tags[1..] {
        expect_status(reg.push_manifest("app", tag, &image.manifest).await, 201).await;
    }
}

#[tokio::test]
async fn tags_list_sorted() {
    let (_berth, reg) = start_registry(BIN);
    tagged(&reg, &["v10", "latest", "1.0", "v2", "alpha"]).await;
    let (body, link) = get_page(&reg, "/v2/app/tags/list").await;
    // `app` is `library/app`, as on Docker Hub.
    assert_eq!(body["name"], "library/app");
    assert_eq!(strings(&body["tags"]), ["1.0", "alpha", "latest", "v10", "v2"]);
    assert_eq!(link, None);
}

#[tokio::test]
async fn tags_list_pagination_link_header() {
    let (_berth, reg) = start_registry(BIN);
    tagged(&reg, &["e5", "a1", "c3", "b2", "d4"]).await;
    let (page, link) = get_page(&reg, "/v2/app/tags/list?n=2").await;
    assert_eq!(strings(&page["tags"]), ["a1", "b2"]);
    let (page, link) = get_page(&reg, &link.expect("Link rel=next after page 1")).await;
    assert_eq!(strings(&page["tags"]), ["c3", "d4"]);
    let (page, link) = get_page(&reg, &link.expect("Link rel=next after page 2")).await;
    assert_eq!(strings(&page["tags"]), ["e5"]);
    assert_eq!(link, None, "no Link once the list is exhausted");
}

#[tokio::test]
async fn tags_list_n_and_last() {
    let (_berth, reg) = start_registry(BIN);
    tagged(&reg, &["e5", "a1", "c3", "b2", "d4"]).await;
    let (page, _) = get_page(&reg, "/v2/app/tags/list?n=2&last=b2").await;
    assert_eq!(strings(&page["tags"]), ["c3", "d4"]);
    // "When using the last query parameter, the n parameter is OPTIONAL."
    let (page, link) = get_page(&reg, "/v2/app/tags/list?last=b2").await;
    assert_eq!(strings(&page["tags"]), ["c3", "d4", "e5"]);
    assert_eq!(link, None);
    let (page, _) = get_page(&reg, "/v2/app/tags/list?n=10").await;
    assert_eq!(strings(&page["tags"]), ["a1", "b2", "c3", "d4", "e5"]);
}

#[tokio::test]
async fn tags_list_n_zero_is_empty_without_link() {
    let (_berth, reg) = start_registry(BIN);
    tagged(&reg, &["a1", "b2"]).await;
    let (page, link) = get_page(&reg, "/v2/app/tags/list?n=0").await;
    assert_eq!(strings(&page["tags"]), Vec::<String>::new());
    assert_eq!(link, None);
}

#[tokio::test]
async fn tags_list_unknown_repo_gives_404_name_unknown() {
    let (_berth, reg) = start_registry(BIN);
    reg.push_image("app", "v1").await;
    let resp = reg.request(Method::GET, "/v2/nope/tags/list").send().await.unwrap();
    expect_error(resp, &[404], &["NAME_UNKNOWN"]).await;
}

#[tokio::test]
async fn catalog_lists_repositories_sorted() {
    let (_berth, reg) = start_registry(BIN);
    reg.create_project("alpha", false).await;
    for repo in ["zeta", "alpha/one", "mid"] {
        reg.push_image(repo, "v1").await;
    }
    let (body, link) = get_page(&reg, "/v2/_catalog").await;
    // Single-component names live in `library`, as on Docker Hub.
    assert_eq!(strings(&body["repositories"]), ["alpha/one", "library/mid", "library/zeta"]);
    assert_eq!(link, None);
}

#[tokio::test]
async fn catalog_pagination() {
    let (_berth, reg) = start_registry(BIN);
    for repo in ["r5", "r1", "r4", "r2", "r3"] {
        reg.push_image(repo, "v1").await;
    }
    let (page, link) = get_page(&reg, "/v2/_catalog?n=2").await;
    assert_eq!(strings(&page["repositories"]), ["library/r1", "library/r2"]);
    let (page, link) = get_page(&reg, &link.expect("Link rel=next after page 1")).await;
    assert_eq!(strings(&page["repositories"]), ["library/r3", "library/r4"]);
    let (page, link) = get_page(&reg, &link.expect("Link rel=next after page 2")).await;
    assert_eq!(strings(&page["repositories"]), ["library/r5"]);
    assert_eq!(link, None);
    let (page, _) = get_page(&reg, "/v2/_catalog?n=2&last=library/r3").await;
    assert_eq!(strings(&page["repositories"]), ["library/r4", "library/r5"]);
}

/// A subject image in `app` with two referrers (one typed by `artifactType`,
/// one only by its config media type), plus decoys that must not be listed.
async fn referrers_fixture(reg: &OciClient) -> (Manifest, Manifest, Manifest) {
    let image = reg.push_image("app", "v1").await;
    let subject = image.manifest.clone();
    let sbom =
        reg.artifact("app", subject.descriptor(), Some(SBOM), OCI_EMPTY, json!({"org.example.kind": "sbom"})).await;
    let sig = reg.artifact("app", subject.descriptor(), None, SIG_CONFIG, json!({"org.example.kind": "sig"})).await;
    let other = reg.push_image("app", "v2").await.manifest;
    let decoy = reg.artifact("app", other.descriptor(), Some(SBOM), OCI_EMPTY, json!({})).await;
    for m in [&sbom, &sig, &decoy] {
        expect_status(reg.push_manifest("app", &m.digest, m).await, 201).await;
    }
    // The same subject pushed to another repository, with a referrer there.
    reg.push_blob("elsewhere", &image.config).await;
    reg.push_blob("elsewhere", &image.layer).await;
    expect_status(reg.push_manifest("elsewhere", "v1", &subject).await, 201).await;
    let foreign = reg.artifact("elsewhere", subject.descriptor(), Some(SBOM), OCI_EMPTY, json!({})).await;
    expect_status(reg.push_manifest("elsewhere", &foreign.digest, &foreign).await, 201).await;
    (subject, sbom, sig)
}

/// Asserts `resp` is a 200 OCI index and returns its descriptors, ordered by digest.
async fn referrer_index(resp: reqwest::Response) -> Vec<Value> {
    let resp = expect_status(resp, 200).await;
    assert_eq!(header(&resp, "Content-Type").as_deref(), Some(OCI_INDEX));
    let body: Value = resp.json().await.expect("index json");
    assert_eq!(body["schemaVersion"], 2);
    assert_eq!(body["mediaType"], OCI_INDEX);
    sorted(body["manifests"].as_array().expect("manifests array").clone())
}

fn expected(m: &Manifest, artifact_type: &str, annotations: Value) -> Value {
    let mut d = m.descriptor();
    d["artifactType"] = artifact_type.into();
    d["annotations"] = annotations;
    d
}

/// Descriptors ordered by digest, since the spec fixes no order.
fn sorted(mut v: Vec<Value>) -> Vec<Value> {
    v.sort_by_key(|d| d["digest"].as_str().unwrap_or_default().to_owned());
    v
}

#[tokio::test]
async fn referrers_list_manifests_with_subject() {
    let (_berth, reg) = start_registry(BIN);
    let (subject, sbom, sig) = referrers_fixture(&reg).await;
    let got = referrer_index(reg.referrers("app", &subject.digest, None).await).await;
    let want = sorted(vec![
        expected(&sbom, SBOM, json!({"org.example.kind": "sbom"})),
        // No artifactType in the manifest: the config media type stands in.
        expected(&sig, SIG_CONFIG, json!({"org.example.kind": "sig"})),
    ]);
    assert_eq!(got, want);
}

#[tokio::test]
async fn referrers_filter_by_artifact_type() {
    let (_berth, reg) = start_registry(BIN);
    let (subject, sbom, sig) = referrers_fixture(&reg).await;
    for (filter, m, annotations) in
        [(SBOM, &sbom, json!({"org.example.kind": "sbom"})), (SIG_CONFIG, &sig, json!({"org.example.kind": "sig"}))]
    {
        let resp = reg.referrers("app", &subject.digest, Some(filter)).await;
        assert_eq!(header(&resp, "OCI-Filters-Applied").as_deref(), Some("artifactType"));
        assert_eq!(referrer_index(resp).await, vec![expected(m, filter, annotations)]);
    }
    let none = reg.referrers("app", &subject.digest, Some("application/vnd.example.none")).await;
    assert_eq!(referrer_index(none).await, Vec::<Value>::new());
}

#[tokio::test]
async fn referrers_empty_index_for_digest_without_referrers() {
    let (_berth, reg) = start_registry(BIN);
    let image = reg.push_image("app", "v1").await;
    let lonely = referrer_index(reg.referrers("app", &image.manifest.digest, None).await).await;
    assert_eq!(lonely, Vec::<Value>::new());
    // "MUST NOT return a 404" for a digest the registry has never seen either.
    let unseen = referrer_index(reg.referrers("app", &sha256_digest(b"unseen"), None).await).await;
    assert_eq!(unseen, Vec::<Value>::new());
}

/// An index with a subject is a referrer too; without an artifactType the
/// descriptor omits the field ("MUST be omitted").
#[tokio::test]
async fn referrers_include_index_with_subject() {
    let (_berth, reg) = start_registry(BIN);
    let subject = reg.push_image("app", "v1").await.manifest;
    let child = reg.push_image("app", "v2").await.manifest;
    let mut value = index_manifest(OCI_INDEX, &[(&child, "amd64")]);
    value["subject"] = subject.descriptor();
    value["annotations"] = json!({"org.example.kind": "bundle"});
    let index = Manifest::json(OCI_INDEX, &value);
    expect_status(reg.push_manifest("app", &index.digest, &index).await, 201).await;
    let got = referrer_index(reg.referrers("app", &subject.digest, None).await).await;
    let mut want = index.descriptor();
    want["annotations"] = json!({"org.example.kind": "bundle"});
    assert_eq!(got, vec![want]);
}

#[tokio::test]
async fn referrers_invalid_digest_gives_400() {
    let (_berth, reg) = start_registry(BIN);
    reg.push_image("app", "v1").await;
    expect_error(reg.referrers("app", "sha256:nothex", None).await, &[400], &["DIGEST_INVALID"]).await;
}
