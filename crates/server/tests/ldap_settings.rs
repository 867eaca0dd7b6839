//! Directory accounts held to the same rules as local ones: a directory
//! uid that breaks the username rules is refused at sign-in.

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
