//! LDAP settings and directory accounts held to the same rules as the rest:
//! settings checked when saved, a stored search password never sent where a
//! request points, and directory uids that break the username rules
//! refused at sign-in.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use berth_testkit::oci_http::*;
use berth_testkit::Slapd;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

async fn send(client: &OciClient, method: Method, path: &str, body: Value) -> Response {
    client.request(method, &format!("/api/v2.0/{path}")).json(&body).send().await.unwrap()
}

async fn bad_request(resp: Response) -> String {
    expect_error(resp, &[400], &["BAD_REQUEST"]).await.errors.remove(0).message
}

async fn configuration(admin: &OciClient) -> Value {
    let resp = admin.request(Method::GET, "/api/v2.0/configurations").send().await.unwrap();
    expect_status(resp, 200).await.json().await.unwrap()
}

/// A plain TCP listener playing a server an attacker runs: it records
/// every connection and every byte sent to it, and answers nothing.
struct Listener {
    url: String,
    connections: Arc<AtomicUsize>,
    received: Arc<Mutex<Vec<u8>>>,
}

impl Listener {
    async fn start() -> Listener {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ldap://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (count, bytes) = (connections.clone(), received.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let bytes = bytes.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    while let Ok(Ok(n @ 1..)) =
                        tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buf)).await
                    {
                        bytes.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                });
            }
        });
        Listener { url, connections, received }
    }

    fn received_contains(&self, needle: &str) -> bool {
        self.received.lock().unwrap().windows(needle.len()).any(|w| w == needle.as_bytes())
    }
}

#[tokio::test]
async fn the_stored_search_password_never_goes_where_a_request_points() {
    let slapd = Slapd::start().expect("slapd starts");
    let (_berth, admin) = start_registry(BIN);
    // Stored: the real directory, with its random (distinctive) password.
    expect_status(send(&admin, Method::PUT, "configurations", slapd.berth_settings()).await, 200).await;
    let stored = &slapd.admin_password;
    expect_status(send(&admin, Method::POST, "ldap/ping", json!({})).await, 200).await;

    let trap = Listener::start().await;
    let to_trap = json!({ "ldap_url": trap.url, "ldap_connection_timeout": 1 });
    let message = bad_request(send(&admin, Method::POST, "ldap/ping", to_trap).await).await;
    assert!(message.contains("ldap_search_password is required"), "{message}");
    let other_dn = json!({ "ldap_search_dn": format!("cn=other,{}", slapd.base_dn) });
    let message = bad_request(send(&admin, Method::POST, "ldap/ping", other_dn.clone()).await).await;
    assert!(message.contains("ldap_search_password is required"), "{message}");
    assert!(!slapd.log().contains("cn=other"), "the stored password was tried as another DN");

    // Saving the same redirection is refused too, and nothing is stored.
    let message = bad_request(send(&admin, Method::PUT, "configurations", json!({ "ldap_url": trap.url })).await).await;
    assert!(message.contains("ldap_search_password is required"), "{message}");
    bad_request(send(&admin, Method::PUT, "configurations", other_dn).await).await;
    let config = configuration(&admin).await;
    assert_eq!(
        (config["ldap_url"]["value"].as_str(), config["ldap_search_dn"]["value"].as_str()),
        (Some(&*slapd.url), Some(&*slapd.admin_dn))
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(trap.connections.load(Ordering::SeqCst), 0, "berth connected to the trap without a password of its own");

    // With a password of its own the request may try another server: that
    // password is sent, never the stored one.
    let given = json!({ "ldap_url": trap.url, "ldap_search_password": "Given-Pass-7", "ldap_connection_timeout": 1 });
    let message = bad_request(send(&admin, Method::POST, "ldap/ping", given).await).await;
    assert!(message.contains("search bind"), "{message}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !trap.received_contains("Given-Pass-7") {
        assert!(
            Instant::now() < deadline,
            "the trap never received the given password; the check below proves nothing"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!trap.received_contains(stored), "the stored password reached the trap");
    assert!(trap.received_contains(&slapd.admin_dn), "the bind names the stored DN");
}

#[tokio::test]
async fn ldap_settings_are_checked_when_saved() {
    let (_berth, admin) = start_registry(BIN);
    let before = configuration(&admin).await;
    let cases = [
        (json!({ "ldap_url": "http://ldap.example.com" }), "ldap_url"),
        (json!({ "ldap_url": "ldap://user@ldap.example.com" }), "ldap_url"),
        (json!({ "ldap_url": "ldap://ldap.example.com:99999" }), "ldap_url"),
        (json!({ "ldap_url": "ldap://ldap.example.com/dc=x?uid" }), "ldap_url"),
        (json!({ "ldap_base_dn": "example.com" }), "ldap_base_dn"),
        (json!({ "ldap_group_admin_dn": "cn=\"admins\",dc=x" }), "ldap_group_admin_dn"),
        (json!({ "ldap_scope": 7 }), "ldap_scope"),
        (json!({ "ldap_uid": "uid)(cn=*" }), "ldap_uid"),
        (json!({ "ldap_group_membership_attribute": "member of" }), "ldap_group_membership_attribute"),
        (json!({ "ldap_filter": "(objectClass=person" }), "ldap_filter"),
        (json!({ "ldap_group_search_filter": "(&(cn=x)" }), "ldap_group_search_filter"),
        // One bad setting among good ones: none of them is stored.
        (
            json!({ "ldap_url": "ldap://ldap.example.com", "ldap_base_dn": "dc=example,dc=com", "ldap_scope": 3 }),
            "ldap_scope",
        ),
        // Switching to LDAP needs settings complete enough to sign in.
        (json!({ "auth_mode": "ldap_auth" }), "ldap_url is empty"),
        (json!({ "auth_mode": "ldap_auth", "ldap_url": "ldaps://ldap.example.com:636" }), "ldap_base_dn is empty"),
    ];
    for (change, named) in cases {
        let message = bad_request(send(&admin, Method::PUT, "configurations", change.clone()).await).await;
        assert!(message.contains(named), "{change}: {message}");
    }
    assert_eq!(configuration(&admin).await, before, "a refused change was stored");

    // Well-formed settings may be filled in over several requests.
    let part = json!({ "ldap_url": "ldaps://ldap.example.com:636", "ldap_base_dn": "dc=example,dc=com" });
    expect_status(send(&admin, Method::PUT, "configurations", part).await, 200).await;
    let search = json!({ "auth_mode": "ldap_auth", "ldap_search_dn": "cn=search,dc=example,dc=com" });
    let message = bad_request(send(&admin, Method::PUT, "configurations", search).await).await;
    assert!(message.contains("ldap_search_password is empty"), "{message}");
    let config = configuration(&admin).await;
    assert_eq!(config["ldap_url"]["value"], "ldaps://ldap.example.com:636");
    assert_eq!(
        (config["auth_mode"]["value"].as_str(), config["ldap_search_dn"]["value"].as_str()),
        (Some("db_auth"), Some(""))
    );
}

async fn sign_in(berth: &berth_testkit::Berth, user: &str, password: &str) -> Response {
    let client = OciClient::with_credentials(&berth.url, Some((user, password)));
    client.request(Method::GET, "/api/v2.0/users/current").send().await.unwrap()
}

#[tokio::test]
async fn directory_uids_are_held_to_the_username_rules() {
    let slapd = Slapd::start().expect("slapd starts");
    slapd.add_user("frank", "Frank-Secret-1").unwrap();
    let refused = [("cyrillic", "\u{430}dmin"), ("zerowidth", "ad\u{200b}min"), ("shouty", "ROBOT$eve")];
    for (key, uid) in refused {
        slapd.add_user_with_uid(key, uid, "Their-Secret-1").unwrap();
    }
    let (berth, admin) = start_registry(BIN);
    let mut settings = slapd.berth_settings();
    settings["auth_mode"] = json!("ldap_auth");
    expect_status(send(&admin, Method::PUT, "configurations", settings).await, 200).await;

    for (_, uid) in refused {
        expect_error(sign_in(&berth, uid, "Their-Secret-1").await, &[401], &["UNAUTHORIZED"]).await;
    }
    expect_status(sign_in(&berth, "frank", "Frank-Secret-1").await, 200).await;
    let users = admin.request(Method::GET, "/api/v2.0/users?page_size=100").send().await.unwrap();
    let users: Vec<Value> = expect_status(users, 200).await.json().await.unwrap();
    let mut names: Vec<&str> = users.iter().map(|u| u["username"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["admin", "frank"], "a refused uid became an account");

    // The directory accepted the lookalikes' passwords: the refusal is Berth's.
    for key in ["cyrillic", "zerowidth"] {
        let bind = format!("BIND dn=\"cn={key},ou=people,{}\"", slapd.base_dn);
        assert!(slapd.log().contains(&bind), "no bind for {key}; the refusal proves nothing");
    }
    // A robot-reserved name never reaches the directory, in any case.
    let directory_log = slapd.log().to_lowercase();
    assert!(directory_log.contains("add dn=\"cn=shouty"), "the log shows no additions; the check below proves nothing");
    assert!(
        !directory_log.contains("bind dn=\"cn=shouty") && !directory_log.contains("uid=robot$eve"),
        "ROBOT$eve was looked up in the directory"
    );
    let log = berth.log();
    assert!(log.contains("LDAP sign-in refused: the uid is no valid username"), "{log}");
    assert!(!log.contains("Their-Secret-1") && !log.contains(&slapd.admin_password), "a secret was logged");
}
