//! No caller grants what it does not hold: robots that may manage robots or
//! members do so only within their own permissions, never change their own
//! account, and never choose another account's secret.

use berth_testkit::oci_http::*;
use reqwest::{Method, Response};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const PROJECT: &str = "team";

/// A robot permission list in `team`.
fn permissions(actions: &[&str]) -> Value {
    let access: Vec<Value> = actions
        .iter()
        .map(|a| {
            let (resource, action) = a.split_once(':').unwrap();
            json!({ "resource": resource, "action": action })
        })
        .collect();
    json!([{ "kind": "project", "namespace": PROJECT, "access": access }])
}

fn robot_body(name: &str, actions: &[&str]) -> Value {
    json!({ "name": name, "level": "project", "duration": -1, "permissions": permissions(actions) })
}

/// A robot created by `by`: (id, client signed in as it, its secret).
async fn create_robot(berth_url: &str, by: &OciClient, name: &str, actions: &[&str]) -> (i64, OciClient, String) {
    let resp = by.request(Method::POST, "/api/v2.0/robots").json(&robot_body(name, actions)).send().await.unwrap();
    let created: Value = expect_status(resp, 201).await.json().await.unwrap();
    let (robot, secret) = (created["name"].as_str().unwrap(), created["secret"].as_str().unwrap());
    (created["id"].as_i64().unwrap(), OciClient::with_credentials(berth_url, Some((robot, secret))), secret.to_owned())
}

async fn send(c: &OciClient, method: Method, path: &str, body: Value) -> Response {
    c.request(method, &format!("/api/v2.0/{path}")).json(&body).send().await.unwrap()
}

/// Asserts a 403 whose message says the caller does not hold what it tried to hand out.
async fn refused(resp: Response, ctx: &str) {
    let message = expect_error(resp, &[403], &["FORBIDDEN"]).await.errors.remove(0).message;
    assert!(message.contains("hold") || message.contains("own"), "{ctx}: unexplained refusal {message:?}");
}

/// The names of `team`'s robots, as the admin sees them.
async fn robot_names(admin: &OciClient) -> Vec<String> {
    let resp = admin.request(Method::GET, &format!("/api/v2.0/robots?q=ProjectID={PROJECT}")).send().await.unwrap();
    let list: Vec<Value> = expect_status(resp, 200).await.json().await.unwrap();
    let mut names: Vec<String> = list.iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_robot_cannot_create_a_robot_wider_than_itself() {
    let (berth, admin) = start_registry(BIN);
    admin.create_project(PROJECT, false).await;
    let (_, maker, _) =
        create_robot(&berth.url, &admin, "maker", &["repository:pull", "robot:create", "robot:read"]).await;

    let wide = robot_body(
        "wide",
        &["repository:pull", "repository:push", "artifact:delete", "member:create", "project:delete"],
    );
    refused(send(&maker, Method::POST, "robots", wide).await, "create a wider robot").await;
    let sneaky = robot_body("sneaky", &["repository:pull", "repository:push"]);
    refused(send(&maker, Method::POST, "robots", sneaky).await, "add push to pull").await;
    assert_eq!(robot_names(&admin).await, ["robot$team+maker"], "nothing was created");

    // Within what it holds, it may create.
    let (_, narrow, _) = create_robot(&berth.url, &maker, "narrow", &["repository:pull"]).await;
    admin.push_image(&format!("{PROJECT}/app"), "v1").await;
    let blob = Blob::random(64);
    expect_error(narrow.upload_monolithic(&format!("{PROJECT}/app"), &blob).await, &[403], &["DENIED"]).await;
}

#[tokio::test]
async fn a_robot_cannot_widen_itself_nor_take_over_another_robot() {
    let (berth, admin) = start_registry(BIN);
    admin.create_project(PROJECT, false).await;
    let repo = format!("{PROJECT}/app");
    admin.push_image(&repo, "v1").await;
    let (updater_id, updater, _) =
        create_robot(&berth.url, &admin, "updater", &["repository:pull", "robot:update", "robot:read"]).await;
    let (pusher_id, pusher, pusher_secret) =
        create_robot(&berth.url, &admin, "pusher", &["repository:pull", "repository:push"]).await;
    let (puller_id, _, _) = create_robot(&berth.url, &admin, "puller", &["repository:pull"]).await;

    // Widening itself.
    let widened = robot_body("updater", &["repository:pull", "repository:push", "robot:update", "robot:read"]);
    refused(send(&updater, Method::PUT, &format!("robots/{updater_id}"), widened).await, "widen itself").await;
    // Taking over a robot that holds more: neither its secret nor its permissions.
    let chosen = json!({ "secret": "Taken-Over-Secret-1" });
    refused(send(&updater, Method::PATCH, &format!("robots/{pusher_id}"), chosen).await, "set a secret").await;
    refused(send(&updater, Method::PATCH, &format!("robots/{pusher_id}"), json!({})).await, "reset a secret").await;
    let narrowed = robot_body("pusher", &["repository:pull"]);
    refused(send(&updater, Method::PUT, &format!("robots/{pusher_id}"), narrowed).await, "edit a wider robot").await;
    let pusher_now = OciClient::with_credentials(&berth.url, Some(("robot$team+pusher", &pusher_secret)));
    pusher_now.push_image(&repo, "still-works").await;
    drop(pusher);

    // A robot within its own permissions may be reset, and only to a generated secret.
    let chosen = json!({ "secret": "Chosen-For-Puller-1" });
    let resp = send(&updater, Method::PATCH, &format!("robots/{puller_id}"), chosen).await;
    expect_error(resp, &[403], &["FORBIDDEN"]).await;
    let resp = send(&updater, Method::PATCH, &format!("robots/{puller_id}"), json!({})).await;
    let secret: Value = expect_status(resp, 200).await.json().await.unwrap();
    let puller =
        OciClient::with_credentials(&berth.url, Some(("robot$team+puller", secret["secret"].as_str().unwrap())));
    expect_status(puller.fetch_manifest(Method::GET, &repo, "v1", &[OCI_MANIFEST]).await, 200).await;
    let blob = Blob::random(64);
    expect_error(updater.upload_monolithic(&repo, &blob).await, &[403], &["DENIED"]).await;
}

#[tokio::test]
async fn a_robot_adds_members_only_in_roles_it_holds() {
    let (berth, admin) = start_registry(BIN);
    admin.create_project(PROJECT, false).await;
    let user = json!({ "username": "outsider", "email": "o@example.com", "password": "Outsider-Pass-1" });
    expect_status(send(&admin, Method::POST, "users", user).await, 201).await;
    let limited_guest = [
        "project:read",
        "repository:list",
        "repository:read",
        "repository:pull",
        "artifact:list",
        "artifact:read",
        "tag:list",
        "scan:read",
    ];
    let mut actions = limited_guest.to_vec();
    actions.extend(["member:create", "member:read", "member:list", "member:delete", "member:update"]);
    let (_, recruiter, _) = create_robot(&berth.url, &admin, "recruiter", &actions).await;

    let members = format!("projects/{PROJECT}/members");
    for (role_id, role) in [(1, "project admin"), (4, "maintainer"), (2, "developer"), (3, "guest")] {
        let body = json!({ "role_id": role_id, "member_user": { "username": "outsider" } });
        refused(send(&recruiter, Method::POST, &members, body).await, role).await;
    }
    let list = send(&admin, Method::GET, &members, json!({})).await;
    let list: Vec<Value> = expect_status(list, 200).await.json().await.unwrap();
    assert!(list.iter().all(|m| m["entity_name"] != "outsider"), "{list:?}");

    // A limited guest is within what the robot holds.
    let body = json!({ "role_id": 5, "member_user": { "username": "outsider" } });
    let resp = expect_status(send(&recruiter, Method::POST, &members, body).await, 201).await;
    let location = header(&resp, "Location").unwrap();
    let member_id = location.rsplit('/').next().unwrap().to_owned();
    // ...but it cannot promote that member, nor touch the project admin.
    let promote = json!({ "role_id": 1 });
    refused(send(&recruiter, Method::PUT, &format!("{members}/{member_id}"), promote).await, "promote").await;
    let list = send(&admin, Method::GET, &members, json!({})).await;
    let list: Vec<Value> = expect_status(list, 200).await.json().await.unwrap();
    let admin_member = list.iter().find(|m| m["entity_name"] == "admin").expect("the creator is a member");
    let path = format!("{members}/{}", admin_member["id"]);
    refused(send(&recruiter, Method::DELETE, &path, json!({})).await, "remove the project admin").await;
    expect_status(send(&recruiter, Method::DELETE, &format!("{members}/{member_id}"), json!({})).await, 200).await;
}
