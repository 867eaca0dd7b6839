//! Account names are what they look like, and e-mail addresses follow one
//! rule: lookalike, invisible and robot-reserved names are refused with 400
//! and nothing is created; e-mail is checked on creation and on update.

use berth_testkit::oci_http::*;
use reqwest::{Method, Response};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const PASSWORD: &str = "User-Pass-123";

/// Asserts a Harbor 400 `BAD_REQUEST` body; returns its message.
async fn bad_request(resp: Response) -> String {
    expect_error(resp, &[400], &["BAD_REQUEST"]).await.errors.remove(0).message
}

/// Every account's name, as the admin lists them.
async fn usernames(admin: &OciClient) -> Vec<String> {
    let resp = expect_status(admin.api(Method::GET, "users?page_size=100", None).await, 200).await;
    let users: Vec<Value> = resp.json().await.unwrap();
    users.iter().map(|u| u["username"].as_str().unwrap().to_owned()).collect()
}

fn new_user(name: &str, email: &str) -> Value {
    json!({ "username": name, "email": email, "realname": "x", "password": PASSWORD })
}

#[tokio::test]
async fn lookalike_invisible_and_robot_names_are_refused() {
    let (_berth, admin) = start_registry(BIN);
    let cases = [
        // A Cyrillic `а` (U+0430) in front of Latin letters.
        ("\u{430}dmin", "must not mix scripts"),
        // A zero-width space between `ad` and `min`.
        ("ad\u{200b}min", "must not contain U+200B"),
        ("admin\u{202e}", "must not contain U+202E"),
        ("ROBOT$x", "reserved for robot accounts"),
        ("robot$ci", "reserved for robot accounts"),
        // Entirely Cyrillic, reading as the Latin `pae`.
        ("\u{440}\u{430}\u{435}", "looks like the plain name 'pae'"),
        ("bad\u{7}bell", "must not contain U+0007"),
    ];
    for (i, (name, why)) in cases.iter().enumerate() {
        let body = new_user(name, &format!("n{i}@example.com"));
        let message = bad_request(admin.api(Method::POST, "users", Some(body)).await).await;
        assert!(message.starts_with("username ") && message.contains(why), "{name:?}: {message}");
    }
    assert_eq!(usernames(&admin).await, ["admin"], "a refused name left an account behind");

    // Names in one script, letters with accents, are fine.
    for name in ["josé", "иван"] {
        let body = new_user(name, "");
        expect_status(admin.api(Method::POST, "users", Some(body)).await, 201).await;
    }
    let mut names = usernames(&admin).await;
    names.sort();
    assert_eq!(names, ["admin", "josé", "иван"]);
}

#[tokio::test]
async fn email_follows_one_rule_on_create_and_update() {
    let (berth, admin) = start_registry(BIN);
    for bad in ["alice", "alice@localhost", "a b@example.com", "al\u{200b}ice@example.com", "\"a\"@example.com"] {
        let message = bad_request(admin.api(Method::POST, "users", Some(new_user("alice", bad))).await).await;
        assert!(message.starts_with("email must be empty or an address like name@example.com"), "{bad:?}: {message}");
    }
    assert_eq!(usernames(&admin).await, ["admin"]);

    let resp =
        expect_status(admin.api(Method::POST, "users", Some(new_user("alice", "alice@example.com"))).await, 201).await;
    let location = header(&resp, "Location").expect("Location");
    let path = location.strip_prefix("/api/v2.0/").unwrap().to_owned();

    // The same rule on update, for admins and for the account itself.
    let alice = OciClient::with_credentials(&berth.url, Some(("alice", PASSWORD)));
    for (who, bad) in
        [(&admin, "not-an-address"), (&alice, "alice@exa mple.com"), (&alice, "alice@\u{200b}example.com")]
    {
        let message = bad_request(who.api(Method::PUT, &path, Some(json!({ "email": bad }))).await).await;
        assert!(message.starts_with("email must be empty or an address like name@example.com"), "{bad:?}: {message}");
    }
    let stored: Value = expect_status(admin.api(Method::GET, &path, None).await, 200).await.json().await.unwrap();
    assert_eq!(stored["email"], "alice@example.com", "a refused e-mail was stored");

    let good = json!({ "email": "alice.b@mail.example.org", "realname": "Alice B" });
    expect_status(alice.api(Method::PUT, &path, Some(good)).await, 200).await;
    let stored: Value = expect_status(admin.api(Method::GET, &path, None).await, 200).await.json().await.unwrap();
    assert_eq!(
        (stored["email"].as_str(), stored["realname"].as_str()),
        (Some("alice.b@mail.example.org"), Some("Alice B"))
    );
    // An empty address removes it.
    expect_status(admin.api(Method::PUT, &path, Some(json!({ "email": "" }))).await, 200).await;
    let stored: Value = expect_status(admin.api(Method::GET, &path, None).await, 200).await.json().await.unwrap();
    assert_eq!(stored["email"], "");
}
