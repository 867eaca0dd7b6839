//! Robot accounts: created with explicit permissions, used by registry
//! clients with their secret, refreshed, disabled and deleted.

use berth_testkit::oci_http::*;
use reqwest::Method;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");

/// A robot permission list for one project.
fn permissions(project: &str, actions: &[(&str, &str)]) -> Value {
    let access: Vec<Value> = actions.iter().map(|(r, a)| json!({ "resource": r, "action": a })).collect();
    json!([{ "kind": "project", "namespace": project, "access": access }])
}

/// Creates a robot as `by`; returns (id, name, secret).
async fn create_robot(by: &OciClient, name: &str, level: &str, permissions: Value) -> (i64, String, String) {
    let body = json!({ "name": name, "level": level, "duration": -1, "permissions": permissions });
    let resp = by.request(Method::POST, "/api/v2.0/robots").json(&body).send().await.unwrap();
    let created: Value = expect_status(resp, 201).await.json().await.unwrap();
    let text = |k: &str| created[k].as_str().unwrap_or_default().to_owned();
    (created["id"].as_i64().expect("id"), text("name"), text("secret"))
}

async fn robot_request(by: &OciClient, method: Method, id: i64, body: Value) -> reqwest::Response {
    by.request(method, &format!("/api/v2.0/robots/{id}")).json(&body).send().await.unwrap()
}

fn as_robot(berth: &berth_testkit::Berth, name: &str, secret: &str) -> OciClient {
    OciClient::with_credentials(&berth.url, Some((name, secret)))
}

async fn pull_status(client: &OciClient, repo: &str) -> u16 {
    status(&client.fetch_manifest(Method::GET, repo, "v1", &[OCI_MANIFEST]).await)
}

#[tokio::test]
async fn project_robot_pulls_only_what_it_was_given() {
    let (berth, admin) = start_registry(BIN);
    admin.create_project("ci", false).await;
    admin.create_project("other", false).await;
    admin.push_image("ci/app", "v1").await;
    admin.push_image("other/app", "v1").await;
    let perms = permissions("ci", &[("repository", "pull")]);
    let (_, name, secret) = create_robot(&admin, "puller", "project", perms).await;
    assert_eq!(name, "robot$ci+puller");
    assert!(secret.len() >= 20, "secret {secret:?}");

    let robot = as_robot(&berth, &name, &secret);
    assert_eq!(pull_status(&robot, "ci/app").await, 200);
    let blob = Blob::random(100);
    expect_error(robot.upload_monolithic("ci/app", &blob).await, &[403], &["DENIED"]).await;
    expect_error(robot.fetch_manifest(Method::GET, "other/app", "v1", &[OCI_MANIFEST]).await, &[403], &["DENIED"])
        .await;

    // Through the token flow the token carries pull only.
    let resp = robot
        .request(Method::GET, "/service/token?service=berth-registry&scope=repository:ci/app:pull,push")
        .send()
        .await
        .unwrap();
    let token: Value = expect_status(resp, 200).await.json().await.unwrap();
    let claims = jwt_part(token["token"].as_str().unwrap(), 1);
    assert_eq!(claims["sub"], name.as_str());
    assert_eq!(claims["access"], json!([{ "type": "repository", "name": "ci/app", "actions": ["pull"] }]));
}

#[tokio::test]
async fn system_robot_acts_in_every_project() {
    let (berth, admin) = start_registry(BIN);
    admin.create_project("a", false).await;
    admin.create_project("b", false).await;
    let perms = permissions("*", &[("repository", "pull"), ("repository", "push")]);
    let (_, name, secret) = create_robot(&admin, "builder", "system", perms).await;
    assert_eq!(name, "robot$builder");
    let robot = as_robot(&berth, &name, &secret);
    robot.push_image("a/app", "v1").await;
    robot.push_image("b/app", "v1").await;
    assert_eq!(pull_status(&admin, "b/app").await, 200);
    expect_error(robot.request(Method::GET, "/v2/_catalog").send().await.unwrap(), &[403], &["DENIED"]).await;
}

#[tokio::test]
async fn refreshed_disabled_and_deleted_robots_lose_access() {
    let (berth, admin) = start_registry(BIN);
    admin.create_project("ci", false).await;
    admin.push_image("ci/app", "v1").await;
    let perms = permissions("ci", &[("repository", "pull")]);
    let (id, name, old) = create_robot(&admin, "r", "project", perms.clone()).await;

    let resp = robot_request(&admin, Method::PATCH, id, json!({})).await;
    let new = expect_status(resp, 200).await.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    expect_error(as_robot(&berth, &name, &old).ping().await, &[401], &["UNAUTHORIZED"]).await;
    assert_eq!(pull_status(&as_robot(&berth, &name, &new), "ci/app").await, 200);

    // Only the robot itself chooses its secret; a manager only ever gets a generated one.
    let chosen = robot_request(&admin, Method::PATCH, id, json!({ "secret": "Chosen-By-Admin-1" })).await;
    let message = expect_error(chosen, &[403], &["FORBIDDEN"]).await.errors.remove(0).message;
    assert!(message.contains("only the robot itself"), "{message}");
    assert_eq!(pull_status(&as_robot(&berth, &name, &new), "ci/app").await, 200, "a refused reset changes nothing");
    let itself = as_robot(&berth, &name, &new);
    expect_status(robot_request(&itself, Method::PATCH, id, json!({ "secret": "short" })).await, 400).await;
    let own = robot_request(&itself, Method::PATCH, id, json!({ "secret": "Robot-Chosen-Secret-2" })).await;
    expect_status(own, 200).await;
    let new = "Robot-Chosen-Secret-2".to_owned();
    assert_eq!(pull_status(&as_robot(&berth, &name, &new), "ci/app").await, 200);

    let disable = json!({ "level": "project", "duration": -1, "disable": true, "permissions": perms });
    expect_status(robot_request(&admin, Method::PUT, id, disable).await, 200).await;
    expect_error(as_robot(&berth, &name, &new).ping().await, &[401], &["UNAUTHORIZED"]).await;

    expect_status(robot_request(&admin, Method::DELETE, id, json!({})).await, 200).await;
    expect_status(robot_request(&admin, Method::GET, id, json!({})).await, 404).await;
    let audit = admin.request(Method::GET, "/api/v2.0/audit-logs?q=resource_type=robot").send().await.unwrap();
    let entries: Vec<Value> = expect_status(audit, 200).await.json().await.unwrap();
    let ops: Vec<&str> = entries.iter().filter_map(|e| e["operation"].as_str()).collect();
    for op in ["create", "refresh_secret", "update", "delete"] {
        assert!(ops.contains(&op) || eventually_has(&admin, op).await, "no robot {op} in {ops:?}");
    }
}

/// Audit entries are written in batches; wait for one to appear.
async fn eventually_has(admin: &OciClient, operation: &str) -> bool {
    for _ in 0..50 {
        let path = format!("/api/v2.0/audit-logs?q=resource_type=robot,operation={operation}");
        let resp = admin.request(Method::GET, &path).send().await.unwrap();
        if !resp.json::<Vec<Value>>().await.unwrap_or_default().is_empty() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn project_admins_manage_only_their_own_robots() {
    let (berth, admin) = start_registry(BIN);
    let user = json!({ "username": "owner", "email": "o@example.com", "password": "Owner-Pass-1" });
    let resp = admin.request(Method::POST, "/api/v2.0/users").json(&user).send().await.unwrap();
    expect_status(resp, 201).await;
    admin.create_project("theirs", false).await;
    let owner = OciClient::with_credentials(&berth.url, Some(("owner", "Owner-Pass-1")));
    owner.create_project("mine", false).await;

    create_robot(&owner, "ok", "project", permissions("mine", &[("repository", "pull")])).await;
    // A system robot needs a system admin; another's private project does not exist for the owner.
    let attempts = [
        (
            json!({ "name": "sys", "level": "system", "duration": -1, "permissions": permissions("*", &[("repository", "pull")]) }),
            403,
            "FORBIDDEN",
        ),
        (
            json!({ "name": "x", "level": "project", "duration": -1, "permissions": permissions("theirs", &[("repository", "pull")]) }),
            404,
            "NOT_FOUND",
        ),
    ];
    for (body, status, code) in attempts {
        let resp = owner.request(Method::POST, "/api/v2.0/robots").json(&body).send().await.unwrap();
        expect_error(resp, &[status], &[code]).await;
    }
    // Permissions outside the robot's own project, and unknown actions, are refused.
    let cross = json!([
        { "kind": "project", "namespace": "mine", "access": [{ "resource": "repository", "action": "pull" }] },
        { "kind": "project", "namespace": "theirs", "access": [{ "resource": "repository", "action": "pull" }] }
    ]);
    let bad = [cross, permissions("mine", &[("repository", "fly")])];
    for perms in bad {
        let body = json!({ "name": "y", "level": "project", "duration": -1, "permissions": perms });
        let resp = owner.request(Method::POST, "/api/v2.0/robots").json(&body).send().await.unwrap();
        expect_status(resp, 400).await;
    }
    let list = owner.request(Method::GET, "/api/v2.0/robots?q=ProjectID=mine").send().await.unwrap();
    let robots: Vec<Value> = expect_status(list, 200).await.json().await.unwrap();
    assert_eq!(robots.len(), 1);
    assert_eq!(robots[0]["name"], "robot$mine+ok");
    assert!(robots[0].get("secret").is_none(), "a listing must not show secrets");
    let all = owner.request(Method::GET, "/api/v2.0/robots").send().await.unwrap();
    expect_status(all, 403).await;
}

/// A CI pipeline's view: skopeo copies with the robot's name and secret.
#[test]
fn skopeo_pushes_and_pulls_with_robot_credentials() {
    use berth_testkit::clients::{docker_ref, with_berth, Skopeo};
    use berth_testkit::fixtures::OciLayout;
    with_berth(BIN, |berth| {
        berth.create_project("ci", false)?;
        let perms = permissions("ci", &[("repository", "pull"), ("repository", "push")]);
        let body = json!({ "name": "pipeline", "level": "project", "duration": 30, "permissions": perms });
        let out = std::process::Command::new("curl")
            .args(["-sS", "-f", "-u", &format!("{}:{}", berth_testkit::ADMIN_USER, berth_testkit::ADMIN_PASSWORD)])
            .args(["-H", "Content-Type: application/json", "-d", &body.to_string(), &berth.api("robots")])
            .output()?;
        anyhow::ensure!(out.status.success(), "creating the robot failed: {}", String::from_utf8_lossy(&out.stderr));
        let created: Value = serde_json::from_slice(&out.stdout)?;
        let creds = format!(
            "{}:{}",
            created["name"].as_str().unwrap_or_default(),
            created["secret"].as_str().unwrap_or_default()
        );

        let skopeo = Skopeo::new()?;
        let layout = OciLayout::new()?;
        layout.add_image("img", &[4096])?;
        let remote = docker_ref(&berth.host, "ci/app:1");
        skopeo.copy(&layout.reference("img"), &remote, &["--dest-creds", &creds])?;
        let back = OciLayout::new()?;
        skopeo.copy(&remote, &back.reference("img"), &["--src-creds", &creds])?;
        let refused =
            skopeo.run_failing(&["inspect", "--tls-verify=false", "--creds", "robot$ci+pipeline:wrong", &remote])?;
        anyhow::ensure!(refused.combined().to_lowercase().contains("unauthorized"), "{}", refused.combined());
        Ok(())
    });
}
