//! LDAP sign-in against a real OpenLDAP server: connection test, accounts
//! created on first sign-in, admin rights from group membership, and real
//! clients signing in with directory passwords.

use berth_testkit::clients::Docker;
use berth_testkit::oci_http::*;
use berth_testkit::Slapd;
use reqwest::Method;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");

async fn send(client: &OciClient, method: Method, path: &str, body: Value) -> reqwest::Response {
    client.request(method, path).json(&body).send().await.unwrap()
}

async fn current_user(berth: &berth_testkit::Berth, user: &str, password: &str) -> reqwest::Response {
    let client = OciClient::with_credentials(&berth.url, Some((user, password)));
    client.request(Method::GET, "/api/v2.0/users/current").send().await.unwrap()
}

#[tokio::test]
async fn directory_users_sign_in_and_admin_group_members_become_admins() {
    let slapd = Slapd::start().expect("slapd starts");
    slapd.add_user("alice", "Alice-Secret-1").unwrap();
    slapd.add_user("bob", "Bob-Secret-1").unwrap();
    slapd.add_group("berth-admins", &["alice"]).unwrap();
    let (berth, admin) = start_registry(BIN);

    // The connection test reports a refused search bind without saving anything.
    let mut wrong = slapd.berth_settings();
    wrong["ldap_search_password"] = json!("not-it");
    let refused = expect_status(send(&admin, Method::POST, "/api/v2.0/ldap/ping", wrong).await, 400).await;
    let message = refused.text().await.unwrap();
    assert!(message.contains("bind"), "{message}");
    let ok = send(&admin, Method::POST, "/api/v2.0/ldap/ping", slapd.berth_settings()).await;
    assert_eq!(expect_status(ok, 200).await.json::<Value>().await.unwrap()["success"], true);

    let mut settings = slapd.berth_settings();
    settings["auth_mode"] = json!("ldap_auth");
    expect_status(send(&admin, Method::PUT, "/api/v2.0/configurations", settings).await, 200).await;

    let alice: Value =
        expect_status(current_user(&berth, "alice", "Alice-Secret-1").await, 200).await.json().await.unwrap();
    assert_eq!((alice["source"].as_str(), alice["sysadmin_flag"].as_bool()), (Some("ldap"), Some(true)));
    assert_eq!(alice["email"], "alice@berth.test");
    let bob: Value = expect_status(current_user(&berth, "bob", "Bob-Secret-1").await, 200).await.json().await.unwrap();
    assert_eq!(bob["sysadmin_flag"], false);
    expect_status(current_user(&berth, "bob", "wrong").await, 401).await;
    expect_status(current_user(&berth, "nobody", "Bob-Secret-1").await, 401).await;
    expect_status(current_user(&berth, "*", "Bob-Secret-1").await, 401).await;
    // The built-in admin still signs in with its local password.
    expect_status(current_user(&berth, "admin", berth_testkit::ADMIN_PASSWORD).await, 200).await;

    // Directory passwords cannot be changed here.
    let bob_client = OciClient::with_credentials(&berth.url, Some(("bob", "Bob-Secret-1")));
    let id = bob["user_id"].as_i64().unwrap();
    let change = json!({ "old_password": "Bob-Secret-1", "new_password": "Other-Secret-2" });
    expect_status(send(&bob_client, Method::PUT, &format!("/api/v2.0/users/{id}/password"), change).await, 400).await;

    // With directory users present the mode can no longer be switched.
    let back = json!({ "auth_mode": "db_auth" });
    let resp = expect_status(send(&admin, Method::PUT, "/api/v2.0/configurations", back).await, 412).await;
    assert!(resp.text().await.unwrap().contains("no user other than admin"));
}

#[tokio::test]
async fn docker_logs_in_with_a_directory_password_and_pushes_to_its_project() {
    let slapd = Slapd::start().expect("slapd starts");
    slapd.add_user("carol", "Carol-Secret-1").unwrap();
    let (berth, admin) = start_registry(BIN);
    let mut settings = slapd.berth_settings();
    settings["auth_mode"] = json!("ldap_auth");
    expect_status(send(&admin, Method::PUT, "/api/v2.0/configurations", settings).await, 200).await;

    let carol = OciClient::with_credentials(&berth.url, Some(("carol", "Carol-Secret-1")));
    carol.create_project("carol-team", false).await;
    let docker = Docker::new().expect("docker");
    let out = docker.login(&berth.host, "carol", "Carol-Secret-1").expect("docker login with an LDAP password");
    assert!(out.combined().contains("Login Succeeded"), "{}", out.combined());
    let failed = docker.run_failing(&["login", "-u", "carol", "-p", "wrong", &berth.host]).expect("refused");
    assert!(failed.combined().to_lowercase().contains("unauthorized"), "{}", failed.combined());
    carol.push_image("carol-team/app", "v1").await;
    // `docker login` is audited under the directory name; entries are written in batches.
    let mut logins = Vec::new();
    for _ in 0..50 {
        let resp = admin.request(Method::GET, "/api/v2.0/audit-logs?q=username=carol,operation=login").send().await;
        logins = expect_status(resp.unwrap(), 200).await.json::<Vec<Value>>().await.unwrap();
        if logins.iter().any(|e| e["operation_result"] == false) && logins.iter().any(|e| e["operation_result"] == true)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(logins.iter().any(|e| e["operation_result"] == true), "no successful login in {logins:?}");
    assert!(logins.iter().any(|e| e["operation_result"] == false), "no failed login in {logins:?}");
}
