//! The management view of content: repositories with counts, artifacts
//! with tags and sizes, tagging, soft deletion and search.

use berth_testkit::oci_http::*;
use reqwest::Method;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");

async fn get_json(client: &OciClient, path: &str) -> Value {
    let resp = client.request(Method::GET, path).send().await.unwrap();
    expect_status(resp, 200).await.json().await.unwrap()
}

async fn call(client: &OciClient, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
    let req = client.request(method, path);
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    req.send().await.unwrap()
}

/// Pull counts are added in the background about once a second.
async fn pull_count_reaches(client: &OciClient, path: &str, want: u64) -> Value {
    for _ in 0..50 {
        let repo = get_json(client, path).await;
        if repo["pull_count"].as_u64() == Some(want) {
            return repo;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("pull_count of {path} never reached {want}: {}", get_json(client, path).await);
}

#[tokio::test]
async fn repositories_list_with_counts_and_pulls() {
    let (_berth, admin) = start_registry(BIN);
    admin.create_project("shop", false).await;
    let image = admin.push_image("shop/web", "v1").await;
    admin.push_image("shop/web", "v2").await;
    admin.push_image("shop/api/v2", "1.0").await;

    let list = admin.request(Method::GET, "/api/v2.0/projects/shop/repositories").send().await.unwrap();
    let list = expect_status(list, 200).await;
    assert_eq!(header(&list, "X-Total-Count").as_deref(), Some("2"));
    let repos: Vec<Value> = list.json().await.unwrap();
    let names: Vec<&str> = repos.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names, ["shop/api/v2", "shop/web"]);
    assert_eq!(repos[1]["artifact_count"], 2);

    for _ in 0..3 {
        expect_status(admin.fetch_manifest(Method::GET, "shop/web", "v1", &[OCI_MANIFEST]).await, 200).await;
    }
    let web = pull_count_reaches(&admin, "/api/v2.0/projects/shop/repositories/web", 3).await;
    assert_eq!(web["name"], "shop/web");
    // Nested names are sent encoded, once or twice.
    for encoded in ["api%2Fv2", "api%252Fv2"] {
        let r = get_json(&admin, &format!("/api/v2.0/projects/shop/repositories/{encoded}")).await;
        assert_eq!(r["name"], "shop/api/v2");
    }

    let artifact = get_json(&admin, "/api/v2.0/projects/shop/repositories/web/artifacts/v1").await;
    assert_eq!(artifact["digest"], image.manifest.digest.as_str());
    assert_eq!(artifact["type"], "IMAGE");
    assert_eq!(artifact["tags"][0]["name"], "v1");
    assert!(artifact["size"].as_u64().unwrap() > image.manifest.bytes.len() as u64, "size counts the layers");
    assert!(artifact["pull_time"].is_string(), "pulled artifacts have a pull time: {artifact}");
    let by_digest = format!("/api/v2.0/projects/shop/repositories/web/artifacts/{}", image.manifest.digest);
    assert_eq!(get_json(&admin, &by_digest).await["digest"], artifact["digest"]);
    let artifacts = get_json(&admin, "/api/v2.0/projects/shop/repositories/web/artifacts").await;
    assert_eq!(artifacts.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn tags_are_added_and_removed_through_the_api() {
    let (_berth, admin) = start_registry(BIN);
    admin.create_project("shop", false).await;
    let image = admin.push_image("shop/web", "v1").await;
    let tags = "/api/v2.0/projects/shop/repositories/web/artifacts/v1/tags";
    expect_status(call(&admin, Method::POST, tags, Some(json!({ "name": "stable" }))).await, 201).await;
    expect_status(call(&admin, Method::POST, tags, Some(json!({ "name": "stable" }))).await, 409).await;
    expect_status(call(&admin, Method::POST, tags, Some(json!({ "name": "-bad-" }))).await, 400).await;
    admin.assert_manifest("shop/web", "stable", &image.manifest).await;

    let tag = "/api/v2.0/projects/shop/repositories/web/artifacts/v1/tags/stable";
    expect_status(call(&admin, Method::DELETE, tag, None).await, 200).await;
    expect_error(
        admin.fetch_manifest(Method::GET, "shop/web", "stable", &[OCI_MANIFEST]).await,
        &[404],
        &["MANIFEST_UNKNOWN"],
    )
    .await;
    admin.assert_manifest("shop/web", "v1", &image.manifest).await;
    expect_status(call(&admin, Method::DELETE, tag, None).await, 404).await;
}

#[tokio::test]
async fn deleting_a_repository_hides_it_at_once() {
    let (_berth, admin) = start_registry(BIN);
    admin.create_project("shop", false).await;
    admin.push_image("shop/old", "v1").await;
    let keep = admin.push_image("shop/keep", "v1").await;
    // Warm the read cache so deletion has to clear it.
    expect_status(admin.fetch_manifest(Method::GET, "shop/old", "v1", &[OCI_MANIFEST]).await, 200).await;

    let path = "/api/v2.0/projects/shop/repositories/old";
    expect_status(call(&admin, Method::DELETE, path, None).await, 200).await;
    expect_error(
        admin.fetch_manifest(Method::GET, "shop/old", "v1", &[OCI_MANIFEST]).await,
        &[404],
        &["MANIFEST_UNKNOWN"],
    )
    .await;
    expect_status(call(&admin, Method::GET, path, None).await, 404).await;
    let repos = get_json(&admin, "/api/v2.0/projects/shop/repositories").await;
    assert_eq!(repos.as_array().unwrap().len(), 1);
    admin.assert_healthy("shop/keep", "v1", &keep).await;
    // With its repositories gone, the project can be deleted.
    expect_status(call(&admin, Method::DELETE, "/api/v2.0/projects/shop/repositories/keep", None).await, 200).await;
    expect_status(call(&admin, Method::DELETE, "/api/v2.0/projects/shop", None).await, 200).await;
}

#[tokio::test]
async fn roles_decide_who_may_delete_and_search_hides_private_content() {
    let (berth, admin) = start_registry(BIN);
    admin.create_project("shop", false).await;
    admin.create_project("open", true).await;
    admin.push_image("shop/secret-app", "v1").await;
    admin.push_image("open/public-app", "v1").await;
    let dev = json!({ "username": "dev", "email": "dev@example.com", "password": "Dev-Pass-1234" });
    expect_status(call(&admin, Method::POST, "/api/v2.0/users", Some(dev)).await, 201).await;
    let member = json!({ "role_id": 2, "member_user": { "username": "dev" } });
    expect_status(call(&admin, Method::POST, "/api/v2.0/projects/shop/members", Some(member)).await, 201).await;
    let developer = OciClient::with_credentials(&berth.url, Some(("dev", "Dev-Pass-1234")));

    // Developers tag and untag but do not delete artifacts or repositories.
    let tags = "/api/v2.0/projects/shop/repositories/secret-app/artifacts/v1/tags";
    expect_status(call(&developer, Method::POST, tags, Some(json!({ "name": "dev" }))).await, 201).await;
    expect_status(call(&developer, Method::DELETE, &format!("{tags}/dev"), None).await, 200).await;
    let artifact = "/api/v2.0/projects/shop/repositories/secret-app/artifacts/v1";
    expect_status(call(&developer, Method::DELETE, artifact, None).await, 403).await;
    let repo = "/api/v2.0/projects/shop/repositories/secret-app";
    expect_status(call(&developer, Method::DELETE, repo, None).await, 403).await;

    let anonymous = OciClient::anonymous(&berth.url);
    let found = get_json(&anonymous, "/api/v2.0/search?q=app").await;
    let names: Vec<&str> =
        found["repository"].as_array().unwrap().iter().filter_map(|r| r["repository_name"].as_str()).collect();
    assert_eq!(names, ["open/public-app"], "anonymous search shows public content only");
    let found = get_json(&developer, "/api/v2.0/search?q=app").await;
    assert_eq!(found["repository"].as_array().unwrap().len(), 2);
    let found = get_json(&developer, "/api/v2.0/search?q=sho").await;
    assert_eq!(found["project"][0]["name"], "shop");
    expect_status(call(&anonymous, Method::GET, "/api/v2.0/projects/shop/repositories", None).await, 401).await;
    expect_status(call(&anonymous, Method::GET, "/api/v2.0/projects/open/repositories", None).await, 200).await;
}
