//! Clients authenticate before they send a body: every `/v2/` request
//! without credentials gets a token challenge (anonymous tokens serve public
//! pulls), and the realm in that challenge comes from a `Host` that must be
//! a plain host[:port].

use berth_testkit::oci_http::*;
use reqwest::Method;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

#[tokio::test]
async fn every_request_without_credentials_is_challenged_before_its_body() {
    let (berth, admin) = start_registry(BIN);
    let image = admin.push_image("library/app", "v1").await;
    let anonymous = OciClient::anonymous(&berth.url);
    let layer = &image.layer.digest;
    let cases = [
        (Method::GET, "/v2/".to_owned(), None),
        (Method::GET, "/v2/library/app/manifests/v1".to_owned(), Some("repository:library/app:pull")),
        (Method::HEAD, format!("/v2/library/app/blobs/{layer}"), Some("repository:library/app:pull")),
        (Method::GET, "/v2/library/app/tags/list".to_owned(), Some("repository:library/app:pull")),
        (Method::PUT, "/v2/library/app/manifests/other".to_owned(), Some("repository:library/app:pull,push")),
        (Method::POST, "/v2/library/app/blobs/uploads/".to_owned(), Some("repository:library/app:pull,push")),
        (Method::DELETE, "/v2/library/app/manifests/v1".to_owned(), Some("repository:library/app:delete")),
        (Method::GET, "/v2/_catalog".to_owned(), Some("registry:catalog:*")),
    ];
    for (method, path, scope) in cases {
        let req = anonymous.request(method.clone(), &path).header("Content-Type", OCI_MANIFEST);
        let resp = req.body(image.manifest.bytes.clone()).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 401, "{method} {path}");
        let challenge = header(&resp, "WWW-Authenticate").unwrap_or_default();
        let realm = format!(r#"Bearer realm="{}/service/token",service="berth-registry""#, berth.url);
        assert!(challenge.starts_with(&realm), "{method} {path}: {challenge}");
        if let Some(scope) = scope {
            assert!(challenge.ends_with(&format!(r#",scope="{scope}""#)), "{method} {path}: {challenge}");
        }
    }
    // Nothing the unauthenticated requests carried was stored, nothing was deleted.
    let other = admin.fetch_manifest(Method::GET, "library/app", "other", &[OCI_MANIFEST]).await;
    assert_eq!(other.status(), 404);
    admin.assert_healthy("library/app", "v1", &image).await;

    // An anonymous token opens the base endpoint and public pulls.
    let resp = anonymous.request(Method::GET, "/service/token").query(&[("scope", "repository:library/app:pull")]);
    let body: Value = expect_status(resp.send().await.unwrap(), 200).await.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    let base = anonymous.request(Method::GET, "/v2/").bearer_auth(token).send().await.unwrap();
    expect_status(base, 200).await;
    let pulled = anonymous.request(Method::GET, "/v2/library/app/manifests/v1").bearer_auth(token);
    let pulled = expect_status(pulled.header("Accept", OCI_MANIFEST).send().await.unwrap(), 200).await;
    assert_eq!(pulled.bytes().await.unwrap()[..], image.manifest.bytes[..]);
}

async fn with_host(addr: &str, path: &str, host: &str) -> RawResponse {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    raw_exchange(addr, request.as_bytes()).await.expect("an answer")
}

#[tokio::test]
async fn the_realm_comes_only_from_a_plain_host_header() {
    let (berth, _admin) = start_registry(BIN);
    let ok = with_host(&berth.host, "/v2/", "registry.example.com:5443").await;
    assert_eq!(ok.status, 401);
    assert!(ok.head.contains(r#"realm="http://registry.example.com:5443/service/token""#), "{}", ok.head);
    for bad in ["evil.example/steal?", "evil.example@x", "a b", "x:99999", "evil\".example"] {
        for path in ["/v2/", "/v2/library/app/manifests/v1", "/service/token"] {
            let resp = with_host(&berth.host, path, bad).await;
            assert_eq!(resp.status, 400, "Host {bad:?} on {path}: {}", resp.head);
            assert!(!resp.head.to_lowercase().contains("www-authenticate"), "Host {bad:?} echoed: {}", resp.head);
            let body = String::from_utf8_lossy(&resp.body);
            assert!(body.contains("Host header"), "Host {bad:?} on {path}: {body}");
        }
    }
}
