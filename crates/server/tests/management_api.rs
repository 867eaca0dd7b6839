//! The Harbor-compatible management API under `/api/v2.0`: users, projects,
//! members, audit logs, configuration and system endpoints, driven over HTTP
//! against a real `berth` process, as an admin, as plain users and anonymously.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth_testkit::oci_http::*;
use berth_testkit::Berth;
use reqwest::{Method, Response};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");
/// Meets the password rules (8+ characters, upper, lower, digit).
const PASSWORD: &str = "User-Pass-123";

/// `GET /api/v2.0/<path>`, asserting 200, as JSON.
async fn ok_json(c: &OciClient, path: &str) -> Value {
    expect_status(c.api(Method::GET, path, None).await, 200).await.json().await.expect("JSON body")
}

/// Asserts a Harbor error body with `status` and `code`; returns its message.
async fn error_message(resp: Response, status: u16, code: &str) -> String {
    expect_error(resp, &[status], &[code]).await.errors.remove(0).message
}

/// The numeric id at the end of a `Location` under `prefix`.
fn location_id(resp: &Response, prefix: &str) -> i64 {
    let location = header(resp, "Location").expect("201 without Location");
    let id = location.strip_prefix(prefix).unwrap_or_else(|| panic!("Location {location} not under {prefix}"));
    id.parse().unwrap_or_else(|_| panic!("Location {location} does not end in an id"))
}

fn user_body(name: &str, email: &str, password: &str) -> Value {
    json!({ "username": name, "email": email, "realname": name, "password": password, "comment": "e2e" })
}

/// Creates a local user as the admin; returns its id and a client signed in as it.
async fn add_user(berth: &Berth, admin: &OciClient, name: &str) -> (i64, OciClient) {
    let body = user_body(name, &format!("{name}@example.com"), PASSWORD);
    let resp = expect_status(admin.api(Method::POST, "users", Some(body)).await, 201).await;
    let id = location_id(&resp, "/api/v2.0/users/");
    (id, OciClient::with_credentials(&berth.url, Some((name, PASSWORD))))
}

/// Creates a project as `c` (asserting 201) and returns its id.
async fn add_project(c: &OciClient, name: &str, public: bool) -> i64 {
    let body = json!({ "project_name": name, "metadata": { "public": public.to_string() } });
    let resp = expect_status(c.api(Method::POST, "projects", Some(body)).await, 201).await;
    location_id(&resp, "/api/v2.0/projects/")
}

/// The sorted names of the projects `c` can list.
async fn project_names(c: &OciClient) -> Vec<String> {
    let list = ok_json(c, "projects?page_size=100").await;
    let mut names: Vec<String> =
        list.as_array().expect("a JSON array").iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
    names.sort();
    names
}

/// `GET /api/v2.0/<path>?q=<q>` (q URL-encoded), asserting 200.
async fn search(c: &OciClient, path: &str, q: &str) -> (Vec<Value>, u64) {
    let req = c.request(Method::GET, &format!("/api/v2.0/{path}")).query(&[("q", q), ("page_size", "100")]);
    let resp = expect_status(req.send().await.unwrap(), 200).await;
    let total = header(&resp, "X-Total-Count").expect("X-Total-Count").parse().unwrap();
    (resp.json().await.unwrap(), total)
}

/// Audit entries are written in batches: polls `search` until `want` holds.
async fn audit_until(c: &OciClient, path: &str, q: &str, want: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let mut last = Vec::new();
    for _ in 0..50 {
        last = search(c, path, q).await.0;
        if want(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path}?q={q}: expected entries never appeared; last answer: {last:#?}")
}

/// Harbor's `op_time` bound format, `YYYY-MM-DD hh:mm:ss` (UTC), `offset` seconds from now.
fn harbor_time(offset: i64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    berth_core::time::rfc3339(now + offset).replace('T', " ").trim_end_matches('Z').to_owned()
}

#[tokio::test]
async fn user_lifecycle_from_creation_to_deletion() {
    let (berth, admin) = start_registry(BIN);
    let body = user_body("alice", "alice@example.com", PASSWORD);
    let resp = expect_status(admin.api(Method::POST, "users", Some(body)).await, 201).await;
    let id = location_id(&resp, "/api/v2.0/users/");

    let user = ok_json(&admin, &format!("users/{id}")).await;
    assert_eq!(user["user_id"], json!(id));
    assert_eq!(user["username"], "alice");
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["sysadmin_flag"], false);
    let created = user["creation_time"].as_str().expect("creation_time");
    assert!(berth_core::time::parse_rfc3339(created).is_some(), "creation_time {created} is not RFC 3339");
    assert!(user.get("password").is_none() && user.get("password_hash").is_none(), "{user}");

    let alice = OciClient::with_credentials(&berth.url, Some(("alice", PASSWORD)));
    let me = ok_json(&alice, "users/current").await;
    assert_eq!((me["user_id"].as_i64(), me["username"].as_str()), (Some(id), Some("alice")));
    let admin_id = ok_json(&admin, "users/current").await["user_id"].as_i64().unwrap();
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
    assert_eq!(ok_json(&alice, "users/current").await["username"], "alice");

    // Granted sysadmin, alice may list every account.
    let grant = json!({ "sysadmin_flag": true });
    expect_status(admin.api(Method::PUT, &format!("users/{id}/sysadmin"), Some(grant)).await, 200).await;
    let users = ok_json(&alice, "users").await;
    let mut names: Vec<&str> = users.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["admin", "alice"]);
    assert_eq!(ok_json(&admin, &format!("users/{id}")).await["sysadmin_flag"], true);

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
    let (_, bob) = add_user(&berth, &admin, "bob").await;
    let (_, carol) = add_user(&berth, &admin, "carol").await;
    let anonymous = OciClient::anonymous(&berth.url);

    // The creator of a private project becomes its projectAdmin.
    let id = add_project(&bob, "bobs", false).await;
    let project = ok_json(&bob, "projects/bobs").await;
    assert_eq!(project["project_id"], json!(id));
    assert_eq!((project["name"].as_str(), project["owner_name"].as_str()), (Some("bobs"), Some("bob")));
    assert_eq!(project["current_user_role_id"], 1);
    assert_eq!(project["metadata"]["public"], "false");
    assert_eq!(project["repo_count"], 0);
    assert_eq!(ok_json(&bob, &format!("projects/{id}")).await["name"], "bobs");
    let members = ok_json(&bob, "projects/bobs/members").await;
    let members = members.as_array().unwrap();
    assert_eq!(members.len(), 1, "{members:?}");
    assert_eq!((members[0]["entity_name"].as_str(), members[0]["role_id"].as_i64()), (Some("bob"), Some(1)));
    assert_eq!(members[0]["role_name"], "projectAdmin");

    assert_eq!(status(&admin.api(Method::HEAD, "projects?project_name=bobs", None).await), 200);
    assert_eq!(status(&admin.api(Method::HEAD, "projects?project_name=nope", None).await), 404);

    add_project(&admin, "pub1", true).await;
    add_project(&admin, "priv1", false).await;
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
    assert_eq!(ok_json(&bob, "projects/bobs").await["metadata"]["public"], "true");

    // A project holding a repository cannot be deleted.
    admin.push_image("priv1/app", "v1").await;
    let resp = admin.api(Method::DELETE, "projects/priv1", None).await;
    let message = error_message(resp, 412, "PRECONDITION").await;
    assert!(message.contains("repositories"), "412 without a reason: {message}");
    assert_eq!(ok_json(&admin, "projects/priv1").await["repo_count"], 1);

    expect_status(admin.api(Method::DELETE, "projects/pub1", None).await, 200).await;
    error_message(admin.api(Method::GET, "projects/pub1", None).await, 404, "NOT_FOUND").await;
    assert_eq!(status(&admin.api(Method::HEAD, "projects?project_name=pub1", None).await), 404);

    // What anonymous callers can list they can also read (as on Harbor, and as
    // anonymous pulls from public projects on /v2/).
    assert_eq!(ok_json(&anonymous, "projects/library").await["name"], "library");
    assert_eq!(ok_json(&anonymous, "projects/bobs").await["metadata"]["public"], "true");
    error_message(anonymous.api(Method::GET, "projects/priv1", None).await, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn project_listing_is_paginated() {
    let (_berth, admin) = start_registry(BIN);
    for i in 0..12 {
        add_project(&admin, &format!("page-{i:02}"), false).await;
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
        let page = ok_json(&admin, &format!("projects?page={n}&page_size=5")).await;
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
    let (berth, admin) = start_registry(BIN);
    let (_, owner) = add_user(&berth, &admin, "owner").await;
    let (guest_id, guest) = add_user(&berth, &admin, "guest").await;
    add_user(&berth, &admin, "third").await;
    add_project(&owner, "team", false).await;

    let add = |name: &str, role: i64| json!({ "role_id": role, "member_user": { "username": name } });
    let resp = expect_status(owner.api(Method::POST, "projects/team/members", Some(add("guest", 3))).await, 201).await;
    let mid = location_id(&resp, "/api/v2.0/projects/team/members/");
    let member = ok_json(&owner, &format!("projects/team/members/{mid}")).await;
    assert_eq!(member["entity_id"], json!(guest_id));
    assert_eq!((member["entity_name"].as_str(), member["role_name"].as_str()), (Some("guest"), Some("guest")));

    let post = |body: Value| owner.api(Method::POST, "projects/team/members", Some(body));
    error_message(post(add("guest", 3)).await, 409, "CONFLICT").await;
    error_message(post(add("nobody", 3)).await, 404, "NOT_FOUND").await;
    error_message(post(add("third", 9)).await, 400, "BAD_REQUEST").await;

    // A guest reads the project but manages nothing and cannot push.
    assert_eq!(ok_json(&guest, "projects/team").await["current_user_role_id"], 3);
    let resp = guest.api(Method::POST, "projects/team/members", Some(add("third", 3))).await;
    error_message(resp, 403, "FORBIDDEN").await;
    let public = json!({ "metadata": { "public": "true" } });
    error_message(guest.api(Method::PUT, "projects/team", Some(public)).await, 403, "FORBIDDEN").await;
    expect_error(guest.start_upload("team/app").await, &[403], &["DENIED"]).await;

    // Promoted to developer, the same user may push.
    let member_path = format!("projects/team/members/{mid}");
    expect_status(owner.api(Method::PUT, &member_path, Some(json!({ "role_id": 2 }))).await, 200).await;
    assert_eq!(ok_json(&owner, &member_path).await["role_name"], "developer");
    assert_eq!(ok_json(&guest, "projects/team").await["current_user_role_id"], 2);
    guest.push_image("team/app", "v1").await;

    expect_status(owner.api(Method::DELETE, &member_path, None).await, 200).await;
    let names = ok_json(&owner, "projects/team/members").await;
    assert!(names.as_array().unwrap().iter().all(|m| m["entity_name"] != "guest"), "{names}");
    // A signed-in non-member is told a private project does not exist
    // (404, as Harbor does), so its name does not leak.
    error_message(guest.api(Method::GET, "projects/team", None).await, 404, "NOT_FOUND").await;
    assert!(!project_names(&guest).await.contains(&"team".to_owned()));
}

#[tokio::test]
async fn audit_log_records_and_searches_management_and_registry_events() {
    let (berth, admin) = start_registry(BIN);
    let (_, dave) = add_user(&berth, &admin, "dave").await;
    add_project(&admin, "audited", false).await;
    add_project(&admin, "other", false).await;
    let member = json!({ "role_id": 2, "member_user": { "username": "dave" } });
    expect_status(admin.api(Method::POST, "projects/audited/members", Some(member)).await, 201).await;
    admin.push_image("audited/app", "v1").await;
    admin.push_image("other/app", "v1").await;

    let entries = audit_until(&admin, "audit-logs", "username=admin,resource_type=project", |e| e.len() >= 2).await;
    let created = entries.iter().find(|e| e["resource"] == "audited").expect("project creation logged");
    assert_eq!((created["operation"].as_str(), created["project"].as_str()), (Some("create"), Some("audited")));
    assert_eq!((created["username"].as_str(), created["operation_result"].as_bool()), (Some("admin"), Some(true)));
    assert!(berth_core::time::parse_rfc3339(created["op_time"].as_str().unwrap()).is_some(), "{created}");
    assert!(entries.iter().all(|e| e["resource_type"] == "project" && e["username"] == "admin"), "{entries:#?}");

    let members = audit_until(&admin, "audit-logs", "operation=create,resource_type=member", |e| !e.is_empty()).await;
    let added = members.iter().find(|e| e["resource"].as_str().unwrap().starts_with("dave")).expect("member logged");
    assert_eq!((added["project"].as_str(), added["username"].as_str()), (Some("audited"), Some("admin")));
    let pushes = audit_until(&admin, "audit-logs", "resource_type=artifact,operation=create", |e| e.len() >= 2).await;
    assert!(pushes.iter().any(|e| e["resource"] == "audited/app:v1"), "{pushes:#?}");

    let window = format!("resource_type=project,op_time=[{}~{}]", harbor_time(-3600), harbor_time(3600));
    let (recent, total) = search(&admin, "audit-logs", &window).await;
    assert_eq!((recent.len(), total), (2, 2), "{recent:#?}");
    let past = "op_time=[2001-01-01 00:00:00~2001-01-02 00:00:00]";
    assert_eq!(search(&admin, "audit-logs", past).await, (vec![], 0));

    let resp = expect_status(admin.api(Method::GET, "audit-logs?page=1&page_size=2", None).await, 200).await;
    let count: u64 = header(&resp, "X-Total-Count").expect("X-Total-Count").parse().unwrap();
    assert!(count >= 6, "expected every event counted, got {count}");
    assert!(header(&resp, "Link").expect("Link").contains("rel=\"next\""));
    assert_eq!(resp.json::<Vec<Value>>().await.unwrap().len(), 2);

    let (logs, _) = search(&admin, "projects/audited/logs", "").await;
    assert!(logs.iter().any(|e| e["resource"] == "audited/app:v1"), "{logs:#?}");
    assert!(logs.iter().any(|e| e["resource_type"] == "member"), "{logs:#?}");
    assert!(logs.iter().all(|e| e["project"] == "audited"), "other projects' entries leak: {logs:#?}");

    error_message(dave.api(Method::GET, "audit-logs", None).await, 403, "FORBIDDEN").await;
    for sneaky in ["username=x' OR '1'='1", "username=admin'--", "resource=\"; DROP TABLE audit_log; --"] {
        assert_eq!(search(&admin, "audit-logs", sneaky).await, (vec![], 0), "q={sneaky}");
    }
    assert!(search(&admin, "audit-logs", "username=admin").await.1 >= 2, "the audit log survived");
    for bad in ["colour=red", "op_time=[yesterday~today]", "novalue"] {
        let req = admin.request(Method::GET, "/api/v2.0/audit-logs").query(&[("q", bad)]);
        error_message(req.send().await.unwrap(), 400, "BAD_REQUEST").await;
    }
}

#[tokio::test]
async fn system_endpoints_and_configurations() {
    let (berth, admin) = start_registry(BIN);
    let anonymous = OciClient::anonymous(&berth.url);
    let ping = expect_status(anonymous.api(Method::GET, "ping", None).await, 200).await;
    assert_eq!(ping.text().await.unwrap(), "Pong");
    assert_eq!(ok_json(&anonymous, "health").await["status"], "healthy");
    assert_eq!(ok_json(&anonymous, "systeminfo").await["auth_mode"], "db_auth");

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
    assert_eq!(ok_json(&admin, "configurations").await["token_expiration"]["value"], 5);
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

    let (_, erin) = add_user(&berth, &admin, "erin").await;
    let ldap = json!({ "auth_mode": "ldap_auth" });
    let message = error_message(admin.api(Method::PUT, "configurations", Some(ldap)).await, 412, "PRECONDITION").await;
    assert!(message.contains("user other than admin"), "412 without the reason: {message}");
    assert_eq!(ok_json(&anonymous, "systeminfo").await["auth_mode"], "db_auth");

    error_message(erin.api(Method::GET, "configurations", None).await, 403, "FORBIDDEN").await;
    let change = json!({ "token_expiration": 60 });
    error_message(erin.api(Method::PUT, "configurations", Some(change)).await, 403, "FORBIDDEN").await;
    error_message(anonymous.api(Method::GET, "configurations", None).await, 401, "UNAUTHORIZED").await;
    assert_eq!(ok_json(&admin, "configurations").await["token_expiration"]["value"], 5);
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
    assert_eq!(ok_json(&admin, "users/current").await["username"], "admin");
}
