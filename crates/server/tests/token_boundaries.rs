//! A registry token reaches only as far as it was issued for: it is refused
//! by every management endpoint, it is never traded for another token, and
//! refresh tokens (the OAuth2 flow Docker and containerd use) are bound to
//! one account and its credentials.

use berth_testkit::oci_http::*;
use berth_testkit::{ADMIN_PASSWORD, ADMIN_USER};
use reqwest::{Method, Response};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");

/// A token for the admin from `GET /service/token` with `scopes`.
async fn admin_token(url: &str, scopes: &[&str]) -> String {
    let mut query = vec![("service", "berth-registry")];
    query.extend(scopes.iter().map(|s| ("scope", *s)));
    let admin = OciClient::new(url);
    let resp = admin.request(Method::GET, "/service/token").query(&query).send().await.unwrap();
    let body: Value = expect_status(resp, 200).await.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// `POST /service/token` with a form.
async fn oauth(url: &str, form: &[(&str, &str)]) -> Response {
    let client = OciClient::anonymous(url);
    client.request(Method::POST, "/service/token").form(form).send().await.unwrap()
}

/// An OAuth2 error answer: status and `error` code; returns the description.
async fn oauth_error(resp: Response, status: u16, code: &str) -> String {
    let got = resp.status().as_u16();
    let body: Value = resp.json().await.expect("an OAuth2 JSON error body");
    assert_eq!((got, body["error"].as_str()), (status, Some(code)), "{body}");
    body["error_description"].as_str().expect("error_description").to_owned()
}

/// A token for `credentials` (or anonymous) from `GET /service/token`.
async fn token_of(url: &str, credentials: Option<(&str, &str)>, scope: &str) -> String {
    let client = OciClient::with_credentials(url, credentials);
    let resp = client.request(Method::GET, "/service/token").query(&[("scope", scope)]).send().await.unwrap();
    let body: Value = expect_status(resp, 200).await.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_management_endpoint_refuses_registry_tokens() {
    let (berth, admin) = start_registry(BIN);
    admin.push_image("library/app", "v1").await;
    let scope = "repository:library/app:pull,push,delete";
    let user = json!({ "username": "dev", "email": "d@example.com", "password": "Dev-Pass-123" });
    expect_status(admin.request(Method::POST, "/api/v2.0/users").json(&user).send().await.unwrap(), 201).await;
    let member = json!({ "role_id": 1, "member_user": { "username": "dev" } });
    let resp = admin.request(Method::POST, "/api/v2.0/projects/library/members").json(&member).send();
    expect_status(resp.await.unwrap(), 201).await;
    let perms = json!([{ "kind": "project", "namespace": "library",
        "access": [{ "resource": "repository", "action": "pull" }, { "resource": "robot", "action": "create" }] }]);
    let robot = json!({ "name": "ci", "level": "project", "duration": -1, "permissions": perms });
    let robot: Value =
        expect_status(admin.request(Method::POST, "/api/v2.0/robots").json(&robot).send().await.unwrap(), 201)
            .await
            .json()
            .await
            .unwrap();
    let robot = (robot["name"].as_str().unwrap().to_owned(), robot["secret"].as_str().unwrap().to_owned());
    let tokens = [
        ("system admin", admin_token(&berth.url, &[scope, "registry:catalog:*"]).await),
        ("project admin", token_of(&berth.url, Some(("dev", "Dev-Pass-123")), scope).await),
        ("robot", token_of(&berth.url, Some((&robot.0, &robot.1)), scope).await),
        ("anonymous", token_of(&berth.url, None, scope).await),
    ];
    let anonymous = OciClient::anonymous(&berth.url);
    let endpoints = berth_api_mgmt::endpoints();
    assert!(endpoints.len() > 40, "the route table shrank to {}", endpoints.len());
    for e in endpoints {
        let path = format!("/api/v2.0{}", fill_route(e.path, "library"));
        let method: Method = e.method.parse().unwrap();
        for (who, token) in &tokens {
            let req = anonymous.request(method.clone(), &path).bearer_auth(token).json(&json!({}));
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status().as_u16(), 401, "{method} {path} with the {who}'s registry token");
            if method != Method::HEAD {
                let body: Value = resp.json().await.unwrap();
                assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED", "{method} {path}: {body}");
                let message = body["errors"][0]["message"].as_str().unwrap();
                assert!(message.contains("registry tokens"), "{method} {path}: {message}");
            }
        }
    }
    let token = &tokens[0].1;

    // The findings, with valid bodies: nothing happened.
    let user = json!({ "username": "mallory", "email": "m@example.com", "password": "Mallory-Pass-1" });
    let resp = anonymous.request(Method::POST, "/api/v2.0/users").bearer_auth(token).json(&user).send().await.unwrap();
    expect_status(resp, 401).await;
    let new_password = json!({ "new_password": "Stolen-Pass-123" });
    let resp = anonymous.request(Method::PUT, "/api/v2.0/users/1/password").bearer_auth(token).json(&new_password);
    expect_status(resp.send().await.unwrap(), 401).await;
    let users: Vec<Value> = expect_status(admin.request(Method::GET, "/api/v2.0/users").send().await.unwrap(), 200)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(users.len(), 2, "no account was created: {users:?}");
    // The admin's password is unchanged: Basic credentials still work.
    expect_status(admin.request(Method::GET, "/api/v2.0/users/current").send().await.unwrap(), 200).await;
}

/// `GET /service/token` with `scope`, as `credentials`.
async fn token_request(url: &str, credentials: (&str, &str), scope: &str) -> Response {
    let client = OciClient::with_credentials(url, Some(credentials));
    client
        .request(Method::GET, "/service/token")
        .query(&[("service", "berth-registry"), ("scope", scope)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn token_service_refuses_bad_passwords_and_malformed_scopes_and_ignores_unknown_types() {
    let (berth, _admin) = start_registry(BIN);
    let resp = token_request(&berth.url, (ADMIN_USER, "Wrong-Password-1"), "repository:library/app:pull").await;
    expect_error(resp, &[401], &["UNAUTHORIZED"]).await;

    let resp = token_request(&berth.url, (ADMIN_USER, ADMIN_PASSWORD), "repository::pull").await;
    let message = expect_error(resp, &[400], &["INVALID_SCOPE"]).await.errors.remove(0).message;
    assert!(message.contains("scope"), "{message}");

    let token = admin_token(&berth.url, &["plugin:x:pull"]).await;
    assert_eq!(jwt_part(&token, 1)["access"], json!([]));
}

#[tokio::test]
async fn a_token_is_never_traded_for_another() {
    let (berth, _admin) = start_registry(BIN);
    let token = admin_token(&berth.url, &["repository:library/app:pull"]).await;
    let anonymous = OciClient::anonymous(&berth.url);
    let wider = [("service", "berth-registry"), ("scope", "repository:library/app:pull,push,delete")];
    let resp = anonymous.request(Method::GET, "/service/token").query(&wider).bearer_auth(&token).send().await.unwrap();
    let refused = expect_error(resp, &[401], &["UNAUTHORIZED"]).await.errors.remove(0).message;
    assert!(refused.contains("cannot be exchanged"), "{refused}");

    let scope = "repository:library/app:pull,push,delete";
    let as_refresh = [("grant_type", "refresh_token"), ("refresh_token", &token), ("scope", scope)];
    oauth_error(oauth(&berth.url, &as_refresh).await, 400, "invalid_grant").await;
    let as_password = [("grant_type", "password"), ("username", ADMIN_USER), ("password", &token), ("scope", scope)];
    oauth_error(oauth(&berth.url, &as_password).await, 400, "invalid_grant").await;
    let unknown = [("grant_type", "client_credentials"), ("scope", scope)];
    oauth_error(oauth(&berth.url, &unknown).await, 400, "unsupported_grant_type").await;
    let no_form = anonymous.request(Method::POST, "/service/token").json(&json!({"grant_type": "password"}));
    oauth_error(no_form.send().await.unwrap(), 400, "invalid_request").await;
    let huge = anonymous.request(Method::POST, "/service/token").form(&[("scope", "x".repeat(20_000))]);
    oauth_error(huge.send().await.unwrap(), 413, "invalid_request").await;
}

/// Pulls `library/app:v1` with a bearer token; the status.
async fn pull_with(url: &str, token: &str) -> u16 {
    let client = OciClient::anonymous(url);
    let req = client.request(Method::GET, "/v2/library/app/manifests/v1").bearer_auth(token);
    req.header("Accept", OCI_MANIFEST).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn refresh_tokens_issue_access_tokens_until_the_password_changes() {
    let (berth, admin) = start_registry(BIN);
    admin.push_image("library/app", "v1").await;
    let user = json!({ "username": "alice", "email": "a@example.com", "password": "Alice-Pass-1" });
    expect_status(admin.request(Method::POST, "/api/v2.0/users").json(&user).send().await.unwrap(), 201).await;
    let scope = "repository:library/app:pull";

    let login = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "Alice-Pass-1"),
        ("access_type", "offline"),
        ("client_id", "test"),
        ("service", "berth-registry"),
        ("scope", scope),
    ];
    let body: Value = expect_status(oauth(&berth.url, &login).await, 200).await.json().await.unwrap();
    let refresh = body["refresh_token"].as_str().expect("a refresh token for access_type=offline").to_owned();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(pull_with(&berth.url, body["access_token"].as_str().unwrap()).await, 200);
    let without_offline: Value = expect_status(oauth(&berth.url, &login[..3]).await, 200).await.json().await.unwrap();
    assert!(without_offline.get("refresh_token").is_none(), "{without_offline}");

    // Docker's flavour: GET with offline_token=true.
    let alice = OciClient::with_credentials(&berth.url, Some(("alice", "Alice-Pass-1")));
    let query = [("service", "berth-registry"), ("offline_token", "true"), ("client_id", "docker")];
    let resp = alice.request(Method::GET, "/service/token").query(&query).send().await.unwrap();
    let body: Value = expect_status(resp, 200).await.json().await.unwrap();
    let docker_refresh = body["refresh_token"].as_str().expect("a refresh token for offline_token").to_owned();
    let anonymous_refresh = OciClient::anonymous(&berth.url).request(Method::GET, "/service/token").query(&query);
    let body: Value = expect_status(anonymous_refresh.send().await.unwrap(), 200).await.json().await.unwrap();
    assert!(body.get("refresh_token").is_none(), "anonymous callers get no refresh token: {body}");

    for token in [&refresh, &docker_refresh] {
        let form = [("grant_type", "refresh_token"), ("refresh_token", token.as_str()), ("scope", scope)];
        let body: Value = expect_status(oauth(&berth.url, &form).await, 200).await.json().await.unwrap();
        assert_eq!(pull_with(&berth.url, body["access_token"].as_str().unwrap()).await, 200);
    }

    let change = json!({ "old_password": "Alice-Pass-1", "new_password": "Alice-Pass-2" });
    let me: Value = expect_status(alice.request(Method::GET, "/api/v2.0/users/current").send().await.unwrap(), 200)
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/v2.0/users/{}/password", me["user_id"]);
    expect_status(alice.request(Method::PUT, &path).json(&change).send().await.unwrap(), 200).await;
    for token in [&refresh, &docker_refresh] {
        let form = [("grant_type", "refresh_token"), ("refresh_token", token.as_str()), ("scope", scope)];
        let message = oauth_error(oauth(&berth.url, &form).await, 400, "invalid_grant").await;
        assert!(message.contains("revoked"), "{message}");
    }
    let bad_password = [("grant_type", "password"), ("username", "alice"), ("password", "Alice-Pass-1")];
    oauth_error(oauth(&berth.url, &bad_password).await, 400, "invalid_grant").await;
}
