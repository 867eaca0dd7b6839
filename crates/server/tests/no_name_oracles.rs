//! No oracle for private names: a caller without access gets, byte for
//! byte, the answer it would get for something that does not exist, on
//! every project route of the management API and on `/v2/`.

use berth_testkit::oci_http::*;
use berth_testkit::Berth;
use reqwest::{Method, Response};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const PASSWORD: &str = "Outsider-Pass-1";

/// Status and body, with the caller's input written as `<P>` so answers
/// about two different inputs can be compared.
async fn answer(resp: Response, input: &str) -> (u16, String) {
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    let body = body.replace(&format!("'{input}'"), "'<P>'").replace(&format!("{input}/"), "<P>/");
    (status, body)
}

/// A private project `secret` with content, a member and a robot; its id and the robot's.
async fn private_project(admin: &OciClient) -> (i64, i64) {
    admin.create_project("secret", false).await;
    admin.push_image("secret/app", "v1").await;
    let perms = json!([{ "kind": "project", "namespace": "secret", "access": [{ "resource": "repository", "action": "pull" }] }]);
    let body = json!({ "name": "hidden", "level": "project", "duration": -1, "permissions": perms });
    let resp = admin.request(Method::POST, "/api/v2.0/robots").json(&body).send().await.unwrap();
    let robot: Value = expect_status(resp, 201).await.json().await.unwrap();
    let resp = admin.request(Method::GET, "/api/v2.0/projects/secret").send().await.unwrap();
    let project: Value = expect_status(resp, 200).await.json().await.unwrap();
    (project["project_id"].as_i64().unwrap(), robot["id"].as_i64().unwrap())
}

async fn outsider(berth: &Berth, admin: &OciClient) -> OciClient {
    let body = json!({ "username": "outsider", "email": "o@example.com", "password": PASSWORD });
    expect_status(admin.request(Method::POST, "/api/v2.0/users").json(&body).send().await.unwrap(), 201).await;
    OciClient::with_credentials(&berth.url, Some(("outsider", PASSWORD)))
}

#[tokio::test]
async fn management_routes_answer_private_projects_as_missing_ones() {
    let (berth, admin) = start_registry(BIN);
    let (secret_id, robot_id) = private_project(&admin).await;
    let callers = [("anonymous", OciClient::anonymous(&berth.url)), ("outsider", outsider(&berth, &admin).await)];
    let pairs = [("secret".to_owned(), "absent".to_owned()), (secret_id.to_string(), "987654".to_owned())];
    let mut compared = 0;
    for endpoint in berth_api_mgmt::endpoints().into_iter().filter(|e| e.path.contains("{project_name_or_id}")) {
        let method: Method = endpoint.method.parse().unwrap();
        for (who, client) in &callers {
            for (hidden, missing) in &pairs {
                let ask = |input: &str| {
                    let path = format!("/api/v2.0{}", fill_route(endpoint.path, input));
                    client
                        .request(method.clone(), &path)
                        .json(&json!({ "role_id": 1, "member_user": { "username": "outsider" } }))
                        .send()
                };
                let private = answer(ask(hidden).await.unwrap(), hidden).await;
                let absent = answer(ask(missing).await.unwrap(), missing).await;
                assert_eq!(private, absent, "{who} {method} {} tells {hidden} from {missing}", endpoint.path);
                let expected = if *who == "anonymous" { 401 } else { 404 };
                assert_eq!(private.0, expected, "{who} {method} {}: {}", endpoint.path, private.1);
                compared += 1;
            }
        }
    }
    assert!(compared >= 60, "only {compared} comparisons: the route table lost its project routes?");

    // Nothing those requests tried happened.
    let resp = admin.request(Method::GET, "/api/v2.0/projects/secret/members").send().await.unwrap();
    let members: Vec<Value> = expect_status(resp, 200).await.json().await.unwrap();
    assert!(members.iter().all(|m| m["entity_name"] != "outsider"), "{members:?}");
    admin.request(Method::GET, "/api/v2.0/projects/secret").send().await.map(|r| assert_eq!(r.status(), 200)).unwrap();

    let (_, outsider) = &callers[1];
    let head = |name: &'static str| {
        outsider.request(Method::HEAD, "/api/v2.0/projects").query(&[("project_name", name)]).send()
    };
    assert_eq!(head("secret").await.unwrap().status(), 404, "HEAD tells a private name from a free one");
    assert_eq!(head("absent").await.unwrap().status(), 404);
    let admin_head = admin.request(Method::HEAD, "/api/v2.0/projects").query(&[("project_name", "secret")]);
    assert_eq!(admin_head.send().await.unwrap().status(), 200);

    let robot = |id: String| outsider.request(Method::GET, &format!("/api/v2.0/robots/{id}")).send();
    let private = answer(robot(robot_id.to_string()).await.unwrap(), &robot_id.to_string()).await;
    let missing = answer(robot("987654".into()).await.unwrap(), "987654").await;
    assert_eq!(private.0, 404);
    assert_eq!(private.1.replace(&robot_id.to_string(), "<id>"), missing.1.replace("987654", "<id>"));
    for (hidden, missing) in &pairs {
        let list = |p: &str| {
            outsider.request(Method::GET, "/api/v2.0/robots").query(&[("q", format!("ProjectID={p}"))]).send()
        };
        let private = answer(list(hidden).await.unwrap(), hidden).await;
        assert_eq!(private, answer(list(missing).await.unwrap(), missing).await, "robot listing by {hidden}");
    }
}

/// A `/v2/` request with a bearer token or Basic credentials.
async fn v2(client: &OciClient, method: Method, path: &str, bearer: Option<&str>) -> Response {
    let req = client.request(method, path).header("Accept", OCI_MANIFEST);
    let req = match bearer {
        Some(t) => req.bearer_auth(t),
        None => req,
    };
    req.send().await.unwrap()
}

#[tokio::test]
async fn registry_routes_answer_private_repositories_as_missing_ones() {
    let (berth, admin) = start_registry(BIN);
    private_project(&admin).await;
    let outsider = outsider(&berth, &admin).await;
    let anonymous = OciClient::anonymous(&berth.url);
    let digest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let routes = [
        (Method::GET, "/v2/{p}/app/manifests/v1"),
        (Method::HEAD, "/v2/{p}/app/manifests/v1"),
        (Method::GET, "/v2/{p}/app/tags/list"),
        (Method::GET, &*format!("/v2/{{p}}/app/blobs/{digest}")),
        (Method::GET, &*format!("/v2/{{p}}/app/referrers/{digest}")),
        (Method::POST, "/v2/{p}/app/blobs/uploads/"),
        (Method::DELETE, "/v2/{p}/app/manifests/v1"),
    ];
    let token_for = |credentials: Option<(&'static str, &'static str)>, project: &'static str| {
        let client = OciClient::with_credentials(&berth.url, credentials);
        async move {
            let scope = format!("repository:{project}/app:pull,push,delete");
            let resp = client
                .request(Method::GET, "/service/token")
                .query(&[("service", "berth-registry"), ("scope", &scope)]);
            let body: Value = expect_status(resp.send().await.unwrap(), 200).await.json().await.unwrap();
            assert_eq!(jwt_part(body["token"].as_str().unwrap(), 1)["access"], json!([]), "{credentials:?} {project}");
            body["token"].as_str().unwrap().to_owned()
        }
    };
    for (who, credentials) in [("anonymous", None), ("outsider", Some(("outsider", PASSWORD)))] {
        let tokens = [token_for(credentials, "secret").await, token_for(credentials, "absent").await];
        for (method, route) in &routes {
            let (secret_path, absent_path) = (route.replace("{p}", "secret"), route.replace("{p}", "absent"));
            let with_token = [
                answer(v2(&anonymous, method.clone(), &secret_path, Some(&tokens[0])).await, "secret").await,
                answer(v2(&anonymous, method.clone(), &absent_path, Some(&tokens[1])).await, "absent").await,
            ];
            assert_eq!(with_token[0], with_token[1], "{who} {method} {route} with a token");
            assert_eq!(with_token[0].0, if who == "anonymous" { 401 } else { 403 }, "{who} {method} {route}");
            if who == "outsider" {
                let basic = [
                    answer(v2(&outsider, method.clone(), &secret_path, None).await, "secret").await,
                    answer(v2(&outsider, method.clone(), &absent_path, None).await, "absent").await,
                ];
                assert_eq!(basic[0], basic[1], "outsider {method} {route} with Basic credentials");
            }
        }
    }
}
