//! Rotating the key that signs registry tokens.

use berth_testkit::oci_http::*;
use reqwest::Method;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

async fn token(client: &OciClient, scope: &str) -> String {
    let path = format!("/service/token?service=berth-registry&scope={scope}");
    let resp = client.request(Method::GET, &path).send().await.unwrap();
    let body: Value = expect_status(resp, 200).await.json().await.unwrap();
    body["token"].as_str().expect("token").to_owned()
}

fn kid(token: &str) -> String {
    jwt_part(token, 0)["kid"].as_str().expect("kid").to_owned()
}

async fn pull_with(berth: &berth_testkit::Berth, token: &str) -> u16 {
    let http = reqwest::Client::new();
    let resp = http
        .get(berth.v2("vault/app/manifests/v1"))
        .header("Authorization", format!("Bearer {token}"))
        .header("Accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    resp.status().as_u16()
}

#[tokio::test]
async fn old_tokens_outlive_a_rotation_and_new_ones_use_the_new_key() {
    let (berth, admin) = start_registry(BIN);
    admin.create_project("vault", false).await;
    admin.push_image("vault/app", "v1").await;
    let before = token(&admin, "repository:vault/app:pull").await;
    assert_eq!(pull_with(&berth, &before).await, 200);

    let rotate = admin.request(Method::POST, "/api/v2.0/system/token-keys").send().await.unwrap();
    expect_status(rotate, 201).await;
    let after = token(&admin, "repository:vault/app:pull").await;
    assert_ne!(kid(&before), kid(&after), "a rotation must change the signing key");
    assert_eq!(pull_with(&berth, &after).await, 200);
    assert_eq!(pull_with(&berth, &before).await, 200, "tokens signed before the rotation stay valid");

    let anonymous = OciClient::anonymous(&berth.url);
    let refused = anonymous.request(Method::POST, "/api/v2.0/system/token-keys").send().await.unwrap();
    expect_status(refused, 401).await;
}

#[tokio::test]
async fn malformed_path_ids_get_a_json_error() {
    let (_berth, admin) = start_registry(BIN);
    for path in ["/api/v2.0/users/abc", "/api/v2.0/robots/1.5", "/api/v2.0/projects/library/members/x"] {
        let resp = admin.request(Method::GET, path).send().await.unwrap();
        let body: Value = expect_status(resp, 400).await.json().await.expect("a JSON body");
        assert_eq!(body["errors"][0]["code"], "BAD_REQUEST", "{path}: {body}");
    }
}
