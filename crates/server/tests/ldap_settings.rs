//! LDAP settings and directory accounts held to the same rules as the rest:
//! settings checked when saved, and directory uids that break the username
//! rules refused at sign-in.

use berth_testkit::oci_http::*;
use berth_testkit::Slapd;
use reqwest::{Method, Response};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");

fn ldap_settings(slapd: &Slapd) -> Value {
    json!({
        "ldap_url": slapd.url,
        "ldap_base_dn": format!("ou=people,{}", slapd.base_dn),
        "ldap_search_dn": slapd.admin_dn,
        "ldap_search_password": slapd.admin_password,
        "ldap_uid": "uid",
        "ldap_filter": "(objectClass=inetOrgPerson)",
        "ldap_scope": 2,
    })
}

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
    let mut settings = ldap_settings(&slapd);
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
