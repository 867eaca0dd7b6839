//! Tokens die when the rights behind them do: a password change, disabling,
//! deletion (and re-creation under the same name), a robot's new secret, a
//! removed membership and a project made private each end what tokens
//! allowed, on the node where the change happened at once and on every
//! other node within the stated bound (five seconds).

use std::time::{Duration, Instant};

use berth_testkit::oci_http::*;
use berth_testkit::Berth;
use reqwest::{Method, Response};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const PASSWORD: &str = "Member-Pass-1";
/// Generous next to the five-second bound: a node that never notices fails.
const PATIENCE: Duration = Duration::from_secs(30);

async fn api(c: &OciClient, method: Method, path: &str, body: Value) -> Response {
    c.request(method, &format!("/api/v2.0/{path}")).json(&body).send().await.unwrap()
}

/// Adds `name` to `project` with `role_id`; the membership id.
async fn add_member(admin: &OciClient, project: &str, name: &str, role_id: i64) -> i64 {
    let body = json!({ "role_id": role_id, "member_user": { "username": name } });
    let resp = expect_status(api(admin, Method::POST, &format!("projects/{project}/members"), body).await, 201).await;
    location_id(&resp, &format!("/api/v2.0/projects/{project}/members/"))
}

/// A token from `berth`'s token service for `scope`, as `credentials` or anonymously.
async fn token(berth: &Berth, credentials: Option<(&str, &str)>, scope: &str) -> String {
    let client = OciClient::with_credentials(&berth.url, credentials);
    let query = [("service", "berth-registry"), ("scope", scope)];
    let resp = client.request(Method::GET, "/service/token").query(&query).send().await.unwrap();
    let body: Value = expect_status(resp, 200).await.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    assert_ne!(jwt_part(&token, 1)["access"], json!([]), "{scope} was not granted to {credentials:?}");
    token
}

/// Pulls `repo:v1` from `berth` with a bearer token; the status.
async fn pull(berth: &Berth, token: &str, repo: &str) -> u16 {
    let client = OciClient::anonymous(&berth.url);
    let req = client.request(Method::GET, &format!("/v2/{repo}/manifests/v1")).bearer_auth(token);
    req.header("Accept", OCI_MANIFEST).send().await.unwrap().status().as_u16()
}

/// Pushes a small blob to `repo` on `berth` with a bearer token; the status.
async fn push(berth: &Berth, token: &str, repo: &str) -> u16 {
    let client = OciClient::anonymous(&berth.url);
    let blob = Blob::random(32);
    let req = client.request(Method::POST, &format!("/v2/{repo}/blobs/uploads/?digest={}", blob.digest));
    let req = req.bearer_auth(token).header("Content-Type", "application/octet-stream").body(blob.bytes.clone());
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn password_change_disabling_and_deletion_end_tokens() {
    let (berth, admin) = start_registry(BIN);
    admin.push_image("library/app", "v1").await;
    let scope = "repository:library/app:pull";

    let (id, _) = admin.add_user("alice", PASSWORD).await;
    let alice = OciClient::with_credentials(&berth.url, Some(("alice", PASSWORD)));
    let t = token(&berth, Some(("alice", PASSWORD)), scope).await;
    assert_eq!(pull(&berth, &t, "library/app").await, 200);
    let change = json!({ "old_password": PASSWORD, "new_password": "Member-Pass-2" });
    expect_status(api(&alice, Method::PUT, &format!("users/{id}/password"), change).await, 200).await;
    assert_eq!(pull(&berth, &t, "library/app").await, 401, "a token outlived its owner's password change");

    let t = token(&berth, Some(("alice", "Member-Pass-2")), scope).await;
    expect_status(api(&admin, Method::PUT, &format!("users/{id}/disabled"), json!({ "disabled": true })).await, 200)
        .await;
    assert_eq!(pull(&berth, &t, "library/app").await, 401, "a token outlived disabling its account");
    expect_status(api(&admin, Method::PUT, &format!("users/{id}/disabled"), json!({ "disabled": false })).await, 200)
        .await;
    assert_eq!(pull(&berth, &t, "library/app").await, 401, "re-enabling revived a token issued before");

    let t = token(&berth, Some(("alice", "Member-Pass-2")), scope).await;
    expect_status(api(&admin, Method::DELETE, &format!("users/{id}"), json!({})).await, 200).await;
    assert_eq!(pull(&berth, &t, "library/app").await, 401, "a token outlived its account");
    admin.add_user("alice", PASSWORD).await;
    assert_eq!(pull(&berth, &t, "library/app").await, 401, "a re-created namesake inherited an old token");

    // The admin's own token, after the admin's password change (the finding).
    let t = token(&berth, Some((berth_testkit::ADMIN_USER, berth_testkit::ADMIN_PASSWORD)), scope).await;
    let change = json!({ "old_password": berth_testkit::ADMIN_PASSWORD, "new_password": "Admin-Pass-New-2" });
    expect_status(api(&admin, Method::PUT, "users/1/password", change).await, 200).await;
    assert_eq!(pull(&berth, &t, "library/app").await, 401, "an admin token outlived a password change");
}

#[tokio::test]
async fn robot_refresh_member_removal_and_going_private_end_tokens() {
    let (berth, admin) = start_registry(BIN);
    admin.create_project("team", false).await;
    admin.create_project("open", true).await;
    admin.push_image("team/app", "v1").await;
    admin.push_image("open/app", "v1").await;

    let perms =
        json!([{ "kind": "project", "namespace": "team", "access": [{ "resource": "repository", "action": "pull" }] }]);
    let body = json!({ "name": "ci", "level": "project", "duration": -1, "permissions": perms });
    let created: Value =
        expect_status(api(&admin, Method::POST, "robots", body).await, 201).await.json().await.unwrap();
    let (name, secret) = (created["name"].as_str().unwrap(), created["secret"].as_str().unwrap());
    let t = token(&berth, Some((name, secret)), "repository:team/app:pull").await;
    assert_eq!(pull(&berth, &t, "team/app").await, 200);
    let refreshed = api(&admin, Method::PATCH, &format!("robots/{}", created["id"]), json!({})).await;
    expect_status(refreshed, 200).await;
    assert_eq!(pull(&berth, &t, "team/app").await, 401, "a robot token outlived its secret");

    admin.add_user("dev", PASSWORD).await;
    let member = add_member(&admin, "team", "dev", 2).await;
    let t = token(&berth, Some(("dev", PASSWORD)), "repository:team/app:pull,push").await;
    assert_eq!(push(&berth, &t, "team/app").await, 201);
    expect_status(api(&admin, Method::DELETE, &format!("projects/team/members/{member}"), json!({})).await, 200).await;
    assert_eq!(push(&berth, &t, "team/app").await, 403, "a removed developer still pushed");
    assert_eq!(pull(&berth, &t, "team/app").await, 403, "a removed developer still pulled");

    let t = token(&berth, None, "repository:open/app:pull").await;
    assert_eq!(pull(&berth, &t, "open/app").await, 200);
    let private = json!({ "metadata": { "public": "false" } });
    expect_status(api(&admin, Method::PUT, "projects/open", private).await, 200).await;
    assert_eq!(pull(&berth, &t, "open/app").await, 401, "an anonymous token outlived the project going private");
}

/// Polls `check` until it returns `want` (or [`PATIENCE`] runs out); how long it took.
async fn until<F, Fut>(want: u16, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    let start = Instant::now();
    loop {
        let got = check().await;
        if got == want {
            return start.elapsed();
        }
        assert!(start.elapsed() < PATIENCE, "{what}: still {got} after {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_change_on_one_node_ends_tokens_on_another() {
    let (one, admin) = start_registry(BIN);
    admin.create_project("team", false).await;
    admin.push_image("team/app", "v1").await;
    let two = one.another_node().unwrap();
    let admin_two = OciClient::new(&two.url);
    let (id, _) = admin.add_user("alice", PASSWORD).await;
    admin.add_user("dev", PASSWORD).await;
    add_member(&admin, "team", "alice", 2).await;
    let member = add_member(&admin, "team", "dev", 2).await;

    // Tokens issued by node one, used on node one (warming its caches)...
    let alice = token(&one, Some(("alice", PASSWORD)), "repository:team/app:pull").await;
    let dev = token(&one, Some(("dev", PASSWORD)), "repository:team/app:pull,push").await;
    assert_eq!(pull(&one, &alice, "team/app").await, 200);
    assert_eq!(push(&one, &dev, "team/app").await, 201);
    // ...and valid on node two, which shares the keys.
    assert_eq!(pull(&two, &alice, "team/app").await, 200);
    // Node one also remembers alice's password as checked.
    let basic = OciClient::with_credentials(&one.url, Some(("alice", PASSWORD)));
    let current =
        || async { basic.request(Method::GET, "/api/v2.0/users/current").send().await.unwrap().status().as_u16() };
    assert_eq!(current().await, 200);

    // Changes made through node two end them on node one.
    expect_status(
        api(&admin_two, Method::PUT, &format!("users/{id}/disabled"), json!({ "disabled": true })).await,
        200,
    )
    .await;
    let path = format!("projects/team/members/{member}");
    expect_status(api(&admin_two, Method::DELETE, &path, json!({})).await, 200).await;
    let took = until(401, "disabled user's token on the other node", || pull(&one, &alice, "team/app")).await;
    eprintln!("disabling reached the other node after {took:?}");
    let took = until(403, "removed member's push on the other node", || push(&one, &dev, "team/app")).await;
    eprintln!("the removal reached the other node after {took:?}");
    // The password node one remembered as checked no longer signs in.
    until(401, "disabled user's remembered password on the other node", current).await;
}
