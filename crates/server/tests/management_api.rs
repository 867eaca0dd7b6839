//! The Harbor-compatible management API under `/api/v2.0`: users, projects,
//! members, configuration and system endpoints, driven over HTTP
//! against a real `berth` process, as an admin, as plain users and anonymously.

use berth_testkit::oci_http::*;
use reqwest::Method;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");
/// Meets the password rules (8+ characters, upper, lower, digit).
const PASSWORD: &str = "User-Pass-123";

fn user_body(name: &str, email: &str, password: &str) -> Value {
    json!({ "username": name, "email": email, "realname": name, "password": password, "comment": "e2e" })
}

/// The sorted names of the projects `c` can list.
async fn project_names(c: &OciClient) -> Vec<String> {
    let list = c.get_json("projects?page_size=100").await;
    let mut names: Vec<String> =
        list.as_array().expect("a JSON array").iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn user_lifecycle_from_creation_to_deletion() {
    let (berth, admin) = start_registry(BIN);
    let body = user_body("alice", "alice@example.com", PASSWORD);
    let resp = expect_status(admin.api(Method::POST, "users", Some(body)).await, 201).await;
    let id = location_id(&resp, "/api/v2.0/users/");

    let user = admin.get_json(&format!("users/{id}")).await;
    assert_eq!(user["user_id"], json!(id));
    assert_eq!(user["username"], "alice");
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["sysadmin_flag"], false);
    let created = user["creation_time"].as_str().expect("creation_time");
    assert!(berth_core::time::parse_rfc3339(created).is_some(), "creation_time {created} is not RFC 3339");
    assert!(user.get("password").is_none() && user.get("password_hash").is_none(), "{user}");

    let alice = OciClient::with_credentials(&berth.url, Some(("alice", PASSWORD)));
    let me = alice.get_json("users/current").await;
    assert_eq!((me["user_id"].as_i64(), me["username"].as_str()), (Some(id), Some("alice")));
    let admin_id = admin.get_json("users/current").await["user_id"].as_i64().unwrap();
    error_message(alice.api(Method::GET, "users", None).await, 403, "FORBIDDEN").await;
    error_message(alice.api(Method::GET, &format!("users/{admin_id}"), None).await, 403, "FORBIDDEN").await;

    // Changing one's own password needs the old one, and the new one must be strong.
    let path = format!("users/{id}/password");
    let new = "Changed-Pass-456";
    let wrong_old = json!({ "old_password": "Not-The-Pass-1", "new_password": new });
    error_message(alice.api(Method::PUT, &path, Some(wrong_old)).await, 403, "FORBIDDEN").await;
    let no_old = json!({ "new_password": new });
    error_message(alice.api(Method::PUT, &path, Some(no_old)).await, 400, "BAD_REQUEST").await;
    let weak = json!({ "old_password": PASSWORD, "new_password": "short" });
    let message = error_message(alice.api(Method::PUT, &path, Some(weak)).await, 400, "BAD_REQUEST").await;
    assert!(message.contains("at least 8 characters"), "weak-password message names no rule: {message}");
    let good = json!({ "old_password": PASSWORD, "new_password": new });
    expect_status(alice.api(Method::PUT, &path, Some(good)).await, 200).await;
    error_message(alice.api(Method::GET, "users/current", None).await, 401, "UNAUTHORIZED").await;
    let alice = OciClient::with_credentials(&berth.url, Some(("alice", new)));
    assert_eq!(alice.get_json("users/current").await["username"], "alice");

    // Granted sysadmin, alice may list every account.
    let grant = json!({ "sysadmin_flag": true });
    expect_status(admin.api(Method::PUT, &format!("users/{id}/sysadmin"), Some(grant)).await, 200).await;
    let users = alice.get_json("users").await;
    let mut names: Vec<&str> = users.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["admin", "alice"]);
    assert_eq!(admin.get_json(&format!("users/{id}")).await["sysadmin_flag"], true);

    let disable = json!({ "disabled": true });
    expect_status(admin.api(Method::PUT, &format!("users/{id}/disabled"), Some(disable)).await, 200).await;
    error_message(alice.api(Method::GET, "users/current", None).await, 401, "UNAUTHORIZED").await;

    expect_status(admin.api(Method::DELETE, &format!("users/{id}"), None).await, 200).await;
    error_message(admin.api(Method::GET, &format!("users/{id}"), None).await, 404, "NOT_FOUND").await;
}

#[tokio::test]
async fn user_creation_refuses_duplicates_weak_passwords_and_bad_input() {
    let (berth, admin) = start_registry(BIN);
    let post = |body: Value| admin.api(Method::POST, "users", Some(body));
    expect_status(post(user_body("alice", "alice@example.com", PASSWORD)).await, 201).await;

    // Usernames and emails are unique regardless of case.
    error_message(post(user_body("Alice", "other@example.com", PASSWORD)).await, 409, "CONFLICT").await;
    error_message(post(user_body("bob", "ALICE@example.com", PASSWORD)).await, 409, "CONFLICT").await;

    for weak in ["password", "PASSWORD1", "Pass1", "nodigitsHere"] {
        error_message(post(user_body("carol", "carol@example.com", weak)).await, 400, "BAD_REQUEST").await;
    }
    for bad in ["a b", "a,b", "a\"b", "a~b", "a#b", "a$b", "a%b", ""] {
        error_message(post(user_body(bad, "dave@example.com", PASSWORD)).await, 400, "BAD_REQUEST").await;
    }

    let mut wrong_type = user_body("erin", "erin@example.com", PASSWORD);
    wrong_type["username"] = json!(42);
    error_message(post(wrong_type).await, 400, "BAD_REQUEST").await;
    for (content_type, raw) in [("application/json", "{not json"), ("text/plain", "username=erin")] {
        let req = admin.request(Method::POST, "/api/v2.0/users").header("Content-Type", content_type).body(raw);
        error_message(req.send().await.unwrap(), 400, "BAD_REQUEST").await;
    }

    let anonymous = OciClient::anonymous(&berth.url);
    let body = user_body("frank", "frank@example.com", PASSWORD);
    error_message(anonymous.api(Method::POST, "users", Some(body)).await, 401, "UNAUTHORIZED").await;

    // None of the refused requests created an account.
    let resp = expect_status(admin.api(Method::GET, "users", None).await, 200).await;
    assert_eq!(header(&resp, "X-Total-Count").as_deref(), Some("2"));

    // Unknown fields are refused rather than silently dropped (a typo such as
    // "pasword" must not go unnoticed).
    let mut unknown_field = user_body("erin", "erin@example.com", PASSWORD);
    unknown_field["favourite_colour"] = json!("red");
    error_message(post(unknown_field).await, 400, "BAD_REQUEST").await;
}

#[tokio::test]
async fn projects_creation_visibility_and_deletion() {
    let (berth, admin) = start_registry(BIN);
    let (_, bob) = admin.add_user("bob", PASSWORD).await;
    let (_, carol) = admin.add_user("carol", PASSWORD).await;
    let anonymous = OciClient::anonymous(&berth.url);

    // The creator of a private project becomes its projectAdmin.
    let id = bob.create_project("bobs", false).await;
    let project = bob.get_json("projects/bobs").await;
    assert_eq!(project["project_id"], json!(id));
    assert_eq!((project["name"].as_str(), project["owner_name"].as_str()), (Some("bobs"), Some("bob")));
    assert_eq!(project["current_user_role_id"], 1);
    assert_eq!(project["metadata"]["public"], "false");
    assert_eq!(project["repo_count"], 0);
    assert_eq!(bob.get_json(&format!("projects/{id}")).await["name"], "bobs");
    let members = bob.get_json("projects/bobs/members").await;
    let members = members.as_array().unwrap();
    assert_eq!(members.len(), 1, "{members:?}");
    assert_eq!((members[0]["entity_name"].as_str(), members[0]["role_id"].as_i64()), (Some("bob"), Some(1)));
    assert_eq!(members[0]["role_name"], "projectAdmin");

    assert_eq!(status(&admin.api(Method::HEAD, "projects?project_name=bobs", None).await), 200);
    assert_eq!(status(&admin.api(Method::HEAD, "projects?project_name=nope", None).await), 404);

    admin.create_project("pub1", true).await;
    admin.create_project("priv1", false).await;
    assert_eq!(project_names(&anonymous).await, ["library", "pub1"]);
    assert_eq!(project_names(&carol).await, ["library", "pub1"]);
    assert_eq!(project_names(&bob).await, ["bobs", "library", "pub1"]);
    assert_eq!(project_names(&admin).await, ["bobs", "library", "priv1", "pub1"]);

    let long = "a".repeat(300);
    for bad in ["Upper", "a/b", "-x", "x-", "", long.as_str()] {
        let body = json!({ "project_name": bad });
        error_message(admin.api(Method::POST, "projects", Some(body)).await, 400, "BAD_REQUEST").await;
    }
    let dup = json!({ "project_name": "bobs" });
    error_message(carol.api(Method::POST, "projects", Some(dup)).await, 409, "CONFLICT").await;

    // Flipping `public` shows the project to everyone.
    let public = json!({ "metadata": { "public": "true" } });
    expect_status(bob.api(Method::PUT, "projects/bobs", Some(public)).await, 200).await;
    assert_eq!(project_names(&anonymous).await, ["bobs", "library", "pub1"]);
    assert_eq!(bob.get_json("projects/bobs").await["metadata"]["public"], "true");

    // A project holding a repository cannot be deleted.
    admin.push_image("priv1/app", "v1").await;
    let resp = admin.api(Method::DELETE, "projects/priv1", None).await;
    let message = error_message(resp, 412, "PRECONDITION").await;
    assert!(message.contains("repositories"), "412 without a reason: {message}");
    assert_eq!(admin.get_json("projects/priv1").await["repo_count"], 1);

    expect_status(admin.api(Method::DELETE, "projects/pub1", None).await, 200).await;
    error_message(admin.api(Method::GET, "projects/pub1", None).await, 404, "NOT_FOUND").await;
    assert_eq!(status(&admin.api(Method::HEAD, "projects?project_name=pub1", None).await), 404);

    // What anonymous callers can list they can also read (as on Harbor, and as
    // anonymous pulls from public projects on /v2/).
    assert_eq!(anonymous.get_json("projects/library").await["name"], "library");
    assert_eq!(anonymous.get_json("projects/bobs").await["metadata"]["public"], "true");
    error_message(anonymous.api(Method::GET, "projects/priv1", None).await, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn project_listing_is_paginated() {
    let (_berth, admin) = start_registry(BIN);
    for i in 0..12 {
        admin.create_project(&format!("page-{i:02}"), false).await;
    }
    let total = 13; // and `library`
    let resp = expect_status(admin.api(Method::GET, "projects?page=2&page_size=5", None).await, 200).await;
    assert_eq!(header(&resp, "X-Total-Count"), Some(total.to_string()));
    let link = header(&resp, "Link").expect("Link header");
    assert!(link.contains("rel=\"next\"") && link.contains("rel=\"prev\""), "Link: {link}");
    assert!(link.contains("page=3") && link.contains("page=1"), "Link: {link}");
    let page: Vec<Value> = resp.json().await.unwrap();
    assert_eq!(page.len(), 5);

    // Walking every page yields each project exactly once.
    let mut seen = Vec::new();
    for n in 1..=3 {
        let page = admin.get_json(&format!("projects?page={n}&page_size=5")).await;
        seen.extend(page.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()));
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), total);

    let last = expect_status(admin.api(Method::GET, "projects?page=3&page_size=5", None).await, 200).await;
    assert!(!header(&last, "Link").unwrap_or_default().contains("rel=\"next\""), "last page links onwards");
    for bad in ["page_size=101", "page=0", "page_size=0", "page=two"] {
        error_message(admin.api(Method::GET, &format!("projects?{bad}"), None).await, 400, "BAD_REQUEST").await;
    }
}

#[tokio::test]
async fn project_members_and_roles() {
    let (_berth, admin) = start_registry(BIN);
    let (_, owner) = admin.add_user("owner", PASSWORD).await;
    let (guest_id, guest) = admin.add_user("guest", PASSWORD).await;
    admin.add_user("third", PASSWORD).await;
    owner.create_project("team", false).await;

    let add = |name: &str, role: i64| json!({ "role_id": role, "member_user": { "username": name } });
    let resp = expect_status(owner.api(Method::POST, "projects/team/members", Some(add("guest", 3))).await, 201).await;
    let mid = location_id(&resp, "/api/v2.0/projects/team/members/");
    let member = owner.get_json(&format!("projects/team/members/{mid}")).await;
    assert_eq!(member["entity_id"], json!(guest_id));
    assert_eq!((member["entity_name"].as_str(), member["role_name"].as_str()), (Some("guest"), Some("guest")));

    let post = |body: Value| owner.api(Method::POST, "projects/team/members", Some(body));
    error_message(post(add("guest", 3)).await, 409, "CONFLICT").await;
    error_message(post(add("nobody", 3)).await, 404, "NOT_FOUND").await;
    error_message(post(add("third", 9)).await, 400, "BAD_REQUEST").await;

    // A guest reads the project but manages nothing and cannot push.
    assert_eq!(guest.get_json("projects/team").await["current_user_role_id"], 3);
    let resp = guest.api(Method::POST, "projects/team/members", Some(add("third", 3))).await;
    error_message(resp, 403, "FORBIDDEN").await;
    let public = json!({ "metadata": { "public": "true" } });
    error_message(guest.api(Method::PUT, "projects/team", Some(public)).await, 403, "FORBIDDEN").await;
    expect_error(guest.start_upload("team/app").await, &[403], &["DENIED"]).await;

    // Promoted to developer, the same user may push.
    let member_path = format!("projects/team/members/{mid}");
    expect_status(owner.api(Method::PUT, &member_path, Some(json!({ "role_id": 2 }))).await, 200).await;
    assert_eq!(owner.get_json(&member_path).await["role_name"], "developer");
    assert_eq!(guest.get_json("projects/team").await["current_user_role_id"], 2);
    guest.push_image("team/app", "v1").await;

    expect_status(owner.api(Method::DELETE, &member_path, None).await, 200).await;
    let names = owner.get_json("projects/team/members").await;
    assert!(names.as_array().unwrap().iter().all(|m| m["entity_name"] != "guest"), "{names}");
    // A signed-in non-member is told a private project does not exist
    // (404, as Harbor does), so its name does not leak.
    error_message(guest.api(Method::GET, "projects/team", None).await, 404, "NOT_FOUND").await;
    assert!(!project_names(&guest).await.contains(&"team".to_owned()));
}

#[tokio::test]
async fn system_endpoints_and_configurations() {
    let (berth, admin) = start_registry(BIN);
    let anonymous = OciClient::anonymous(&berth.url);
    let ping = expect_status(anonymous.api(Method::GET, "ping", None).await, 200).await;
    assert_eq!(ping.text().await.unwrap(), "Pong");
    assert_eq!(anonymous.get_json("health").await["status"], "healthy");
    assert_eq!(anonymous.get_json("systeminfo").await["auth_mode"], "db_auth");

    let config = expect_status(admin.api(Method::GET, "configurations", None).await, 200).await;
    let text = config.text().await.unwrap();
    let config: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(config["token_expiration"]["value"], 30, "{config}");
    assert!(!text.contains("ldap_search_password"), "{text}");
    let secret = json!({ "ldap_search_password": "Hidden-Secret-9" });
    expect_status(admin.api(Method::PUT, "configurations", Some(secret)).await, 200).await;
    let text = expect_status(admin.api(Method::GET, "configurations", None).await, 200).await.text().await.unwrap();
    assert!(!text.contains("ldap_search_password") && !text.contains("Hidden-Secret-9"), "{text}");

    let five = json!({ "token_expiration": 5 });
    expect_status(admin.api(Method::PUT, "configurations", Some(five)).await, 200).await;
    assert_eq!(admin.get_json("configurations").await["token_expiration"]["value"], 5);
    let token = admin.request(Method::GET, "/service/token?service=berth-registry&scope=repository:library/app:pull");
    let token: Value = expect_status(token.send().await.unwrap(), 200).await.json().await.unwrap();
    assert_eq!(token["expires_in"], 300, "{token}");

    let unknown = json!({ "no_such_key": 1 });
    error_message(admin.api(Method::PUT, "configurations", Some(unknown)).await, 400, "BAD_REQUEST").await;
    // Out of range: a token living for ever, a retention that would wrap round and purge everything.
    for (key, value) in [
        ("token_expiration", json!(0)),
        ("token_expiration", json!(1_000_000_000u64)),
        ("audit_retention_hour", json!(0)),
        ("audit_retention_hour", json!(u64::MAX)),
    ] {
        let message = error_message(
            admin.api(Method::PUT, "configurations", Some(json!({ key: value }))).await,
            400,
            "BAD_REQUEST",
        )
        .await;
        assert!(message.contains(key), "{key}={value}: {message}");
    }
    let wrong_type = json!({ "token_expiration": "soon" });
    error_message(admin.api(Method::PUT, "configurations", Some(wrong_type)).await, 400, "BAD_REQUEST").await;

    let (_, erin) = admin.add_user("erin", PASSWORD).await;
    let ldap = json!({ "auth_mode": "ldap_auth" });
    let message = error_message(admin.api(Method::PUT, "configurations", Some(ldap)).await, 412, "PRECONDITION").await;
    assert!(message.contains("user other than admin"), "412 without the reason: {message}");
    assert_eq!(anonymous.get_json("systeminfo").await["auth_mode"], "db_auth");

    error_message(erin.api(Method::GET, "configurations", None).await, 403, "FORBIDDEN").await;
    let change = json!({ "token_expiration": 60 });
    error_message(erin.api(Method::PUT, "configurations", Some(change)).await, 403, "FORBIDDEN").await;
    error_message(anonymous.api(Method::GET, "configurations", None).await, 401, "UNAUTHORIZED").await;
    assert_eq!(admin.get_json("configurations").await["token_expiration"]["value"], 5);
}

#[tokio::test]
async fn garbage_paths_and_authorization_headers_get_clean_errors() {
    let (berth, admin) = start_registry(BIN);
    let anonymous = OciClient::anonymous(&berth.url);
    for path in ["no/such/endpoint", "users/1/nothing", "projectz"] {
        error_message(admin.api(Method::GET, path, None).await, 404, "NOT_FOUND").await;
        error_message(anonymous.api(Method::GET, path, None).await, 404, "NOT_FOUND").await;
    }

    let oversized = format!("Basic {}", "QUFB".repeat(4096));
    let garbage: [&[u8]; 6] = [
        oversized.as_bytes(),
        b"Basic !!!not-base64!!!",
        b"Digest username=admin",
        b"Basic",
        b"Bearer ",
        b"Basic \xff\xfe",
    ];
    for value in garbage {
        let value = reqwest::header::HeaderValue::from_bytes(value).unwrap();
        let req = anonymous.request(Method::GET, "/api/v2.0/users/current").header("Authorization", value);
        let message = error_message(req.send().await.unwrap(), 401, "UNAUTHORIZED").await;
        assert!(message.contains("Authorization"), "unhelpful message: {message}");
    }

    let ping = expect_status(anonymous.api(Method::GET, "ping", None).await, 200).await;
    assert_eq!(ping.text().await.unwrap(), "Pong");
    assert_eq!(admin.get_json("users/current").await["username"], "admin");
}
